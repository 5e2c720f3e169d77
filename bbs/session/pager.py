"""Showing text longer than the screen one page at a time: Enter/space next, B back, Q quit."""

from __future__ import annotations

from bbs.session.keys import Key, Resize
from bbs.session.session import Session
from bbs.terminal.encoding import encode
from bbs.terminal.render import render_lines


async def page(session: Session, markup: str, *, used: int = 0) -> bool:
    """Show `markup` a screenful at a time; False when the caller quit before the end.

    `used` is how many lines are already on the screen (art above a menu), so the
    first page does not push them off.
    """
    session.remember(markup)
    lines = render_lines(markup, session.caps)
    top = 0
    while True:
        per_page = max(session.caps.rows - 1 - used, 3)
        used = 0
        chunk = lines[top : top + per_page]
        await session.write_raw(encode("".join(line + "\r\n" for line in chunk), session.caps))
        top += len(chunk)
        if top >= len(lines):
            return True
        pages = -(-len(lines) // per_page)
        prompt = session.text("board.more", page=-(-top // per_page), pages=pages)
        await session.send("{dim}" + prompt + "{/}", remember=False)
        while True:
            event = await session.read_event()
            await session.write_raw(encode(session.controls.erase_line(), session.caps))
            if isinstance(event, Resize):
                lines = render_lines(markup, session.caps)
                top = max(0, min(top, len(lines)) - per_page)
                break
            if event in ("q", "Q") or event in (Key.ESCAPE, Key.INTERRUPT):
                return False
            if event in ("b", "B", Key.PAGE_UP, Key.UP):
                top = max(0, top - 2 * per_page)
                await session.write_raw(encode(session.controls.clear(), session.caps))
                break
            if event in (" ", Key.ENTER, Key.PAGE_DOWN, Key.DOWN, "n", "N"):
                break
