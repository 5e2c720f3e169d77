"""Showing text longer than the screen one page at a time: Enter/space next, B back, Q quit."""

from __future__ import annotations

import re

from bbs.directory.text import fold
from bbs.session.keys import Key, Resize
from bbs.session.session import Session
from bbs.terminal.encoding import encode
from bbs.terminal.markup import escape
from bbs.terminal.render import render_lines


async def page(session: Session, markup: str, *, used: int = 0) -> bool:
    """Show `markup` a screenful at a time; False when the caller quit before the end.

    `used` is how many lines are already on the screen (art above a menu), so the
    first page does not push them off.
    """
    session.remember(markup)
    lines = render_lines(markup, session.caps)
    top = 0
    # Lines printed since the caller last pressed a key are still to be read: they count
    # against this page, so that nothing scrolls away unread.
    used = max(used, session.rows_used)
    session.rows_used = used
    while True:
        per_page = max(session.caps.rows - 1, 3)
        # A screen already nearly full gets its pause first: never more than it holds.
        room = per_page - used if used else per_page
        used = 0
        chunk = lines[top : top + max(room, 0)]
        if chunk:
            text = "".join(line + "\r\n" for line in chunk)
            await session.write_raw(encode(text, session.caps))
        session.rows_used += len(chunk)
        top += len(chunk)
        if top >= len(lines):
            return True
        shown = max(1, -(-top // per_page))
        # A pause that came early (the screen already held rows) is a page of its own.
        pages = max(-(-len(lines) // per_page), shown + 1)
        prompt = session.line_text("board.more", "board.more_short", page=shown, pages=pages)
        # Never wider than the screen: a footer that wraps would be erased only in part.
        await session.send("{dim}" + escape(prompt) + "{/}", remember=False)
        while True:
            event = await session.read_event()
            await session.write_raw(
                encode(session.controls.erase_line(), session.caps), content=False
            )
            if _typed_a_word(session, event):
                return False
            if isinstance(event, Resize):
                lines = render_lines(markup, session.caps)
                top = max(0, min(top, len(lines)) - per_page)
                break
            if event in ("q", "Q") or event in (Key.ESCAPE, Key.INTERRUPT, Key.MENU):
                session.drop_queued_enter()
                return False
            if event in ("b", "B", Key.PAGE_UP, Key.UP):
                session.drop_queued_enter()
                top = max(0, top - 2 * per_page)
                await session.write_raw(
                    encode(session.controls.clear(), session.caps), content=False
                )
                break
            if event in (" ", Key.ENTER, Key.PAGE_DOWN, Key.DOWN, "n", "N"):
                if event in ("n", "N", " "):
                    session.drop_queued_enter()
                break


_PAGER_KEYS = frozenset("qQbBnN ")
_READER_KEYS = _PAGER_KEYS | {"/"}


def _typed_a_word(session: Session, event: object, keys: frozenset[str] = _PAGER_KEYS) -> bool:
    """Whether `event` starts a line typed at a one-key prompt ("suisse fax", "GO FAX",
    a menu's letter): a character that is not one of its keys, or one with more typed
    behind it. It is given back, whole, to the prompt that follows; this one ends."""
    # A space is only ever "next page", even with typing behind it.
    if not isinstance(event, str) or event == " ":
        return False
    if event in keys and not session.typed_ahead():
        return False
    session.push_back([event])
    return True


async def read_document(session: Session, title: str, markup: str) -> None:
    """A document a screen at a time, as a reader: Enter/space next, B back, /word finds
    the next page holding the word, Q quits. Every page says where the reader is.
    """
    page_no = 0
    notice = ""
    while True:
        # A long title wraps, and a Minitel's takes two rows a line (double height).
        heading = len(render_lines("{title}" + escape(title) + "\n", session.caps))
        per_page = max(session.caps.rows - 2 - heading, 3)
        lines = render_lines(markup, session.caps)
        plain = [fold(strip_controls(line)) for line in lines]
        pages = max(1, -(-len(lines) // per_page))
        page_no = min(page_no, pages - 1)
        await session.clear()
        await session.send("{title}" + escape(title) + "\n", remember=False)
        chunk = lines[page_no * per_page : (page_no + 1) * per_page]
        await session.write_raw(encode("".join(line + "\r\n" for line in chunk), session.caps))
        session.remember("{title}" + escape(title) + "\n" + markup)
        status = session.line_text(
            "board.reader", "board.reader_short", page=page_no + 1, pages=pages
        )
        if notice:
            # The full help would no longer fit on the status line: page number only.
            status = (
                notice + "  " + session.text("board.reader_page", page=page_no + 1, pages=pages)
            )
            notice = ""
        await session.send("{dim}" + escape(status) + "{/} ", remember=False)
        event = await session.read_event()
        if isinstance(event, Resize):
            continue
        if _typed_a_word(session, event, _READER_KEYS):
            await session.send("\n", remember=False)
            session.acknowledge()
            return
        if isinstance(event, str) or event is Key.ESCAPE:
            session.drop_queued_enter()
        if event in ("q", "Q") or event in (Key.ESCAPE, Key.INTERRUPT, Key.MENU):
            await session.send("\n", remember=False)
            session.acknowledge()
            return
        if event in ("b", "B", Key.PAGE_UP, Key.UP):
            page_no = max(0, page_no - 1)
        elif event == "/":
            word = fold(await session.read_line("/", max_len=40))
            found = _find_page(plain, word, page_no, per_page) if word else None
            if found is None:
                notice = session.text("board.reader_not_found")
            else:
                page_no = found
        elif event in (" ", Key.ENTER, Key.PAGE_DOWN, Key.DOWN, "n", "N"):
            if page_no + 1 >= pages:
                await session.send("\n", remember=False)
                session.acknowledge()
                return
            page_no += 1


def _find_page(lines: list[str], word: str, current: int, per_page: int) -> int | None:
    """The next page after `current` (wrapping round) with a line holding `word`."""
    total = max(1, -(-len(lines) // per_page))
    for step in range(1, total + 1):
        candidate = (current + step) % total
        if any(word in line for line in lines[candidate * per_page : (candidate + 1) * per_page]):
            return candidate
    return None


def strip_controls(line: str) -> str:
    """A rendered line without its escape sequences, as the caller reads it."""
    return _SEQUENCE.sub("", line)


_SEQUENCE = re.compile(r"\x1b(?:\[[0-9;?]*[A-Za-z]|\([0B])")
