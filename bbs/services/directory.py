"""Directory commands: service tables, country cards, the centres, and the look-up prompt."""

from __future__ import annotations

from collections import OrderedDict, deque
from datetime import UTC, datetime

from bbs.directory import format as fmt
from bbs.directory import query
from bbs.directory.model import Directory
from bbs.menus.strings import Strings
from bbs.services.registry import Command, Context, Validator
from bbs.session.editor import edit_line
from bbs.session.pager import page
from bbs.terminal.markup import escape

HISTORY = 20
"""Look-ups remembered per session for the line editor's history."""
_LEAVE = {"", "Q", "QUIT", "FIN", "END", "ENDE", "X"}


def _now() -> datetime:
    return datetime.now(UTC)


SCREENS = 256
"""Look-up screens kept: callers looking up the same thing in the same minute (the
directory changes only on `bbs load`, which builds a new index) share one."""
_screens: OrderedDict[tuple[int, int, str, str, int, datetime], tuple[object, object, str]] = (
    OrderedDict()
)


def answer_screen(
    index: query.Index, text: str, lang: str, now: datetime, width: int, strings: Strings
) -> str:
    """The screen answering a look-up, open/closed as of the minute of `now`."""
    minute = now.replace(second=0, microsecond=0)
    key = (id(index), id(strings), text, lang, width, minute)
    kept = _screens.get(key)
    if kept is not None and kept[0] is index and kept[1] is strings:
        _screens.move_to_end(key)
        return kept[2]
    markup = fmt.format_answer(query.search(index, text), lang, minute, width, strings)
    _screens[key] = (index, strings, markup)
    if len(_screens) > SCREENS:
        _screens.popitem(last=False)
    return markup


async def show_service(ctx: Context, arg: str | None) -> None:
    """The table of one service, every country it serves."""
    session = ctx.session
    markup = fmt.format_service_table(
        ctx.board.index, arg or "", session.lang, _now(), session.caps.cols, session.strings
    )
    await page(session, markup)


async def show_country(ctx: Context, arg: str | None) -> None:
    """One country's card: every service's numbers, hours and whether it is open now."""
    session = ctx.session
    answer = query.country_answer(ctx.board.index, arg or "")
    await page(
        session, fmt.format_answer(answer, session.lang, _now(), session.caps.cols, session.strings)
    )


async def show_centres(ctx: Context, arg: str | None) -> None:
    """The international support centres: addresses, countries served, languages, hours."""
    session = ctx.session
    markup = fmt.format_centres(
        ctx.board.index, session.lang, _now(), session.caps.cols, session.strings
    )
    await page(session, markup)


async def directory_prompt(ctx: Context, arg: str | None) -> None:
    """The look-up prompt: a country, a service word, a number, or several words together."""
    session = ctx.session
    session.where = "annuaire"
    history: deque[str] = deque(maxlen=HISTORY)
    await session.clear()
    await session.send(
        "{title}"
        + escape(session.text("dir.prompt_title"))
        + "\n\n"
        + escape(session.text("dir.prompt_help"))
        + "\n"
    )
    while True:
        words = query.completion_words(ctx.board.index, session.lang)
        line = await edit_line(
            session, "{h}" + escape(session.text("dir.prompt")) + "{/} ", words, list(history)
        )
        text = line.strip()
        if text.upper() in _LEAVE:
            return
        handled = await ctx.engine.global_command(text)
        if handled is not None:
            return
        if text not in history:
            history.append(text)
        markup = answer_screen(
            ctx.board.index, text, session.lang, _now(), session.caps.cols, session.strings
        )
        await page(session, markup)


def _service_code(directory: Directory) -> Validator:
    codes = {s.code for s in directory.services}

    def check(arg: str | None) -> str | None:
        return (
            None if arg in codes else f"unknown service {arg!r} (known: {', '.join(sorted(codes))})"
        )

    return check


def _country_code(directory: Directory) -> Validator:
    codes = {c.code for c in directory.countries}

    def check(arg: str | None) -> str | None:
        return None if arg in codes else f"unknown country code {arg!r}"

    return check


def commands(directory: Directory) -> list[Command]:
    """The directory commands, checking arguments against this directory's codes."""
    return [
        Command(
            "service",
            show_service,
            takes_arg=True,
            validate=_service_code(directory),
            showable=True,
        ),
        Command(
            "country",
            show_country,
            takes_arg=True,
            validate=_country_code(directory),
            showable=True,
        ),
        Command("centres", show_centres, showable=True),
        Command("directory", directory_prompt),
    ]
