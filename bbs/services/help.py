"""`cmd:help`: the global commands and how menus work, in the caller's language."""

from __future__ import annotations

from bbs.services.registry import Command, Context
from bbs.session.pager import page
from bbs.terminal.markup import escape


async def show_help(ctx: Context, arg: str | None) -> None:
    """Global commands (GO, HELP, LANG, BYE, hotkeys) and the GO words of this board."""
    session = ctx.session
    words = ", ".join(sorted(ctx.board.menus.go_words()))
    await page(session, "\n" + escape(session.text("board.help", words=words)) + "\n")
    await session.pause()


COMMAND = Command("help", show_help, "Aide : les commandes de la messagerie")
