"""The plain line editor's state and drawing: a line and its cursor, keys that edit it,
and the terminal output that keeps the screen in step, across wrapped rows.

Pure: it knows the prompt's width, the screen's width and the terminal's controls, and
returns text to write; the session reads the keys and writes the text. It holds a few
hundred bytes per prompt, so every idle caller can have it (prompt_toolkit cannot).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from wcwidth import wcswidth

from bbs.session.keys import Key
from bbs.terminal.controls import Controls


def width(text: str) -> int:
    """Columns `text` takes on a terminal (wide letters 2, combining marks 0)."""
    columns = wcswidth(text)
    return columns if columns >= 0 else len(text)


@dataclass
class LineEditor:
    """One line being typed at a prompt `prompt_width` columns wide."""

    controls: Controls
    prompt: str
    """The prompt's last line as rendered for this terminal (drawn again on redraws)."""
    prompt_width: int
    limit: int
    secret: bool = False
    history: Sequence[str] = ()
    chars: list[str] = field(default_factory=list)
    cursor: int = 0
    rang: bool = False
    _browsing: int = -1
    """Where Up/Down is in `history` (-1: the line being typed)."""
    _draft: str = ""

    @property
    def text(self) -> str:
        """The line as typed."""
        return "".join(self.chars)

    @property
    def _cols(self) -> int:
        return max(self.controls.caps.cols, 1)

    @property
    def _plain(self) -> bool:
        """A terminal without cursor movement: only typing and rubbing out at the end."""
        return not self.controls.can_move

    def _shown(self, chars: Sequence[str]) -> str:
        return "*" * len(chars) if self.secret else "".join(chars)

    def _at(self, index: int) -> int:
        """The column, counted from the prompt's start, of the character at `index`."""
        return self.prompt_width + width(self._shown(self.chars[:index]))

    # ------------------------------------------------------------------ keys

    def key(self, event: str | Key) -> str:
        """Apply one key; what to write to the terminal for it ("" when nothing changes)."""
        if isinstance(event, str):
            return self._insert(event)
        handler = _HANDLERS.get(event)
        return handler(self) if handler is not None else ""

    def _insert(self, ch: str) -> str:
        if len(self.chars) >= self.limit:
            if self.rang:
                return ""
            self.rang = True
            return self.controls.bell()
        self.chars.insert(self.cursor, ch)
        self.cursor += 1
        if self.cursor == len(self.chars):
            return self._shown([ch]) + self._settle(self._at(self.cursor))
        return self._redraw(self._at(self.cursor - 1))

    def _erase(self) -> str:
        self.rang = False
        if not self.cursor:
            return ""
        before = self._at(self.cursor)
        gone = self._shown(self.chars[self.cursor - 1 : self.cursor])
        del self.chars[self.cursor - 1]
        self.cursor -= 1
        if self._plain:
            return self.controls.backspace_erase() * max(width(gone), 1)
        if self.cursor == len(self.chars) and before % self._cols and width(gone) == 1:
            return self.controls.backspace_erase()
        return self._redraw(before)

    def _delete(self) -> str:
        if self._plain or self.cursor >= len(self.chars):
            return ""
        here = self._at(self.cursor)
        del self.chars[self.cursor]
        return self._redraw(here)

    def _move(self, to: int) -> str:
        to = max(0, min(to, len(self.chars)))
        if self._plain or to == self.cursor:
            return ""
        here = self._at(self.cursor)
        self.cursor = to
        return self._go(here, self._at(to))

    def _left(self) -> str:
        return self._move(self.cursor - 1)

    def _right(self) -> str:
        return self._move(self.cursor + 1)

    def _home(self) -> str:
        return self._move(0)

    def _end(self) -> str:
        return self._move(len(self.chars))

    def _kill_line(self) -> str:
        self.rang = False
        if not self.chars:
            return ""
        if self._plain:
            out = self.controls.backspace_erase() * len(self.chars)
            self.chars.clear()
            self.cursor = 0
            return out
        here = self._at(self.cursor)
        self.chars.clear()
        self.cursor = 0
        return self._redraw(here)

    def _kill_end(self) -> str:
        if self._plain or self.cursor >= len(self.chars):
            return ""
        here = self._at(self.cursor)
        del self.chars[self.cursor :]
        return self._redraw(here)

    def _kill_word(self) -> str:
        self.rang = False
        start = self.cursor
        while start and self.chars[start - 1] == " ":
            start -= 1
        while start and self.chars[start - 1] != " ":
            start -= 1
        if start == self.cursor:
            return ""
        if self._plain and self.cursor == len(self.chars):
            out = self.controls.backspace_erase() * (self.cursor - start)
            del self.chars[start:]
            self.cursor = start
            return out
        here = self._at(self.cursor)
        del self.chars[start : self.cursor]
        self.cursor = start
        return self._redraw(here)

    def _recall(self, step: int) -> str:
        """Up (-1) or Down (+1) through the lines typed before at this kind of prompt."""
        if self.secret or self._plain or not self.history:
            return ""
        if self._browsing < 0:
            if step > 0:
                return ""
            self._draft = self.text
            at = len(self.history) - 1
        else:
            at = self._browsing + step
            if at < 0:
                return ""
        here = self._at(self.cursor)
        if at >= len(self.history):
            self._browsing = -1
            line = self._draft
        else:
            self._browsing = at
            line = self.history[at]
        self.chars = list(line[: self.limit])
        self.cursor = len(self.chars)
        return self._redraw(here)

    def _up(self) -> str:
        return self._recall(-1)

    def _down(self) -> str:
        return self._recall(+1)

    # ------------------------------------------------------------------ drawing

    def _settle(self, end: int) -> str:
        """Text ending exactly at the right margin leaves the cursor waiting there to wrap;
        a space and a backspace make it wrap now, so that rows follow `column // cols`."""
        return " \b" if end and end % self._cols == 0 else ""

    def _go(self, here: int, there: int) -> str:
        """Cursor from column `here` to column `there` (both counted from the prompt)."""
        c = self.controls
        rows = there // self._cols - here // self._cols
        vertical = c.cursor_down(rows) if rows > 0 else c.cursor_up(-rows)
        return vertical + "\r" + c.cursor_forward(there % self._cols)

    def wipe(self) -> str:
        """Blank the prompt and the line, the cursor left at the prompt's first row (a
        message is about to be printed there; `redraw(0)` puts them back under it)."""
        if self._plain:
            return self.controls.erase_line()
        here = self._at(self.cursor)
        return self.controls.cursor_up(here // self._cols) + "\r" + self.controls.erase_below()

    def resized(self, controls: Controls) -> None:
        """The window changed: new widths; the line is drawn again whole, cursor at its end."""
        self.controls = controls
        self.cursor = len(self.chars)

    def redraw(self, here: int) -> str:
        """The prompt and the line drawn again from the prompt's first row, the cursor put
        back where it belongs; `here` is where the terminal's cursor is now (the line's
        end after something printed under the prompt: pass 0 then)."""
        return self._redraw(here)

    def _redraw(self, here: int) -> str:
        if self._plain:
            return "\r\n" + self.prompt + self._shown(self.chars)
        c = self.controls
        shown = self._shown(self.chars)
        end = self.prompt_width + width(shown)
        out = c.cursor_up(here // self._cols) + "\r" + self.prompt + shown + c.erase_below()
        out += self._settle(end)
        return out + self._go(end, self._at(self.cursor))


_HANDLERS = {
    Key.ERASE: LineEditor._erase,
    Key.DELETE: LineEditor._delete,
    Key.LEFT: LineEditor._left,
    Key.RIGHT: LineEditor._right,
    Key.HOME: LineEditor._home,
    Key.END: LineEditor._end,
    Key.KILL_LINE: LineEditor._kill_line,
    Key.KILL_END: LineEditor._kill_end,
    Key.KILL_WORD: LineEditor._kill_word,
    Key.UP: LineEditor._up,
    Key.DOWN: LineEditor._down,
}
