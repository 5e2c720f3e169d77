"""`cmd:help`: the global commands and how menus work, in the caller's language."""

from __future__ import annotations

from bbs.services.registry import Command, Context
from bbs.session.pager import page
from bbs.terminal.markup import escape

ENGINE_VERBS = ("verb.go", "verb.help", "verb.bye")
"""The help lines of the commands the menu engine carries out itself."""


async def show_help(ctx: Context, arg: str | None) -> None:
    """Every command valid at any prompt (the engine's, then those the screens registered),
    how menus work, and the GO words of this board."""
    session = ctx.session
    registered = list(dict.fromkeys(v.help_key for v in ctx.board.verbs.values()))
    lines = [session.text(key) for key in (*ENGINE_VERBS, *registered)]
    words = ", ".join(sorted(ctx.board.menus.go_words()))
    text = "\n".join([session.text("board.help_head"), "", *("  " + line for line in lines), ""])
    text += "\n" + session.text("board.help_tail", words=words)
    await page(session, "\n" + escape(text) + "\n")
    await session.pause()


COMMAND = Command("help", show_help)
