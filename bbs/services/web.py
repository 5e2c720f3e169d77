"""Rubriques 3 and FTP: the board's own web and FTP addresses beside the historic ones."""

from __future__ import annotations

from bbs.services.directory import show_service
from bbs.services.registry import Command, Context
from bbs.terminal.markup import escape


async def _here(ctx: Context, service: str) -> None:
    """This board's addresses (when those ports are on), then the 1995 table of `service`."""
    session = ctx.session
    config = ctx.board.config
    lines = []
    if config.web_url and service == "web":
        lines.append("{ok}" + escape(session.text("web.here", url=config.web_url)) + "{/}")
    if config.ftp_url:
        lines.append("{ok}" + escape(session.text("web.here_ftp", url=config.ftp_url)) + "{/}")
    if lines:
        head = "{h}" + escape(session.text("web.here_title")) + "{/}"
        historic = "{dim}" + escape(session.text("web.historic")) + "{/}"
        await session.send("\n".join([head, *lines, "", historic]) + "\n")
    await show_service(ctx, service)


async def web_here(ctx: Context, arg: str | None) -> None:
    """Rubrique 3: the board's web site, then the historic Lotus web service."""
    await _here(ctx, "web")


async def ftp_here(ctx: Context, arg: str | None) -> None:
    """The FTP rubrique: the board's FTP site, then the historic Lotus FTP server."""
    await _here(ctx, "ftp")


COMMANDS = [
    Command("web_here", web_here, "Ce serveur sur le Web, puis le service Web", showable=True),
    Command("ftp_here", ftp_here, "Ce serveur en FTP, puis le serveur FTP", showable=True),
]
