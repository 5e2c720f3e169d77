"""Rubriques 3 and FTP: the board's own web and FTP addresses beside the historic ones."""

from __future__ import annotations

from bbs.config import Config
from bbs.menus.strings import Strings
from bbs.services.directory import show_service
from bbs.services.registry import Command, Context
from bbs.terminal.markup import escape


def here_markup(strings: Strings, lang: str, config: Config, service: str) -> str:
    """This board's own addresses for rubrique `service` ("web" or "ftp") as markup, with
    the line that introduces the 1995 ones; "" when neither port is on."""
    lines = []
    if config.web_url and service == "web":
        lines.append("{ok}" + escape(strings.get("web.here", lang, url=config.web_url)) + "{/}")
    if config.ftp_url:
        lines.append("{ok}" + escape(strings.get("web.here_ftp", lang, url=config.ftp_url)) + "{/}")
    if not lines:
        return ""
    head = "{h}" + escape(strings.get("web.here_title", lang)) + "{/}"
    historic = "{dim}" + escape(strings.get("web.historic", lang)) + "{/}"
    return "\n".join([head, *lines, "", historic]) + "\n"


async def _here(ctx: Context, service: str) -> None:
    """This board's addresses (when those ports are on), then the 1995 table of `service`."""
    session = ctx.session
    markup = here_markup(session.strings, session.lang, ctx.board.config, service)
    if markup:
        await session.send(markup)
    await show_service(ctx, service)


async def web_here(ctx: Context, arg: str | None) -> None:
    """Rubrique 3: the board's web site, then the historic Lotus web service."""
    await _here(ctx, "web")


async def ftp_here(ctx: Context, arg: str | None) -> None:
    """The FTP rubrique: the board's FTP site, then the historic Lotus FTP server."""
    await _here(ctx, "ftp")


async def canada_here(ctx: Context, arg: str | None) -> None:
    """The Canada rubrique: this board's web and FTP addresses, then Canada's card (whose
    web and FTP lines are the 1995 ones)."""
    from bbs.services.directory import show_country

    session = ctx.session
    markup = here_markup(session.strings, session.lang, ctx.board.config, "web")
    if markup:
        await session.send(markup)
    await show_country(ctx, "CA")


COMMANDS = [
    Command("web_here", web_here, showable=True),
    Command("ftp_here", ftp_here, showable=True),
    Command("canada_here", canada_here, showable=True),
]
