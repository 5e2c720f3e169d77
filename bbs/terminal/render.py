"""Markup to terminal text for a session: ANSI colour, VT-100 monochrome or plain text.

Every screen line stands alone: it starts with the attributes it needs, ends with them
reset (and, on a VT-100, with the ASCII character set back), and fits in ``cols - 1``
columns so no terminal wraps it on its own. A pager may send any slice of
`render_lines` without colour bleeding from one line into the next.

ANSI palette (16 colours, bright = bold, as ANSI-BBS clients expect):

    {h} bright cyan     {k} bright white    {em} bold (brighter)   {link} bright magenta
    {dim} dark grey     {ok} bright green   {warn} bright yellow   {err} bright red
    {title} bright white on blue, across the width    {hr} a bright blue line of ─

VT-100 (monochrome): {h} {k} {warn} {err} bold, {em} {link} underline, {title} bold
reverse video across the width, {hr} and box characters in DEC Special Graphics
(as Unicode box characters when the session is UTF-8).

Plain text: no escape sequence at all; hotkeys as ``[K]``, titles underlined with
``=``, rules and boxes with ``+ - |`` (``=`` for double horizontal lines).

Videotex (Minitel): colours a monochrome screen shows as grey levels — {h} cyan,
{dim} magenta, {ok} green, {warn} yellow, {link} green, {k} and {err} inverse video,
{em} underlined; {title} in double height and inverse video over the blank line the
upper half takes; {hr} a line of G1 mosaic; boxes with ``+ - |``.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from bbs.terminal import videotex
from bbs.terminal.caps import Caps, Encoding, Tier
from bbs.terminal.encoding import DEC_GRAPHICS, BoxMode, encode, fold_text
from bbs.terminal.markup import Block, Line, Style, parse
from bbs.terminal.width import char_width, expand_tabs, text_width

ESC = "\x1b"
SGR_RESET = "\x1b[0m"
DEC_GRAPHICS_ON = "\x1b(0"
"""Designate DEC Special Graphics as G0: lowercase letters draw lines."""
DEC_GRAPHICS_OFF = "\x1b(B"
"""Designate US ASCII as G0 again."""


@dataclass(frozen=True, slots=True)
class Look:
    """Display attributes; an inner style's colours win, its other attributes add up."""

    fg: int | None = None
    bg: int | None = None
    bold: bool = False
    underline: bool = False
    reverse: bool = False

    def within(self, outer: Look) -> Look:
        """This look nested inside `outer`."""
        return Look(
            fg=self.fg if self.fg is not None else outer.fg,
            bg=self.bg if self.bg is not None else outer.bg,
            bold=self.bold or outer.bold,
            underline=self.underline or outer.underline,
            reverse=self.reverse or outer.reverse,
        )

    @property
    def sgr(self) -> str:
        """SGR parameters ("1;36"), empty for the terminal's default look."""
        params = [
            code
            for code, on in (("1", self.bold), ("4", self.underline), ("7", self.reverse))
            if on
        ]
        params += [str(c) for c in (self.fg, self.bg) if c is not None]
        return ";".join(params)


PLAIN = Look()
PALETTE: Mapping[Style, Look] = {
    Style.H: Look(fg=36, bold=True),
    Style.K: Look(fg=37, bold=True),
    Style.EM: Look(bold=True),
    Style.LINK: Look(fg=35, bold=True),
    Style.DIM: Look(fg=30, bold=True),
    Style.OK: Look(fg=32, bold=True),
    Style.WARN: Look(fg=33, bold=True),
    Style.ERR: Look(fg=31, bold=True),
}
"""ANSI tier: what each style looks like."""
TITLE_BAR = Look(fg=37, bg=44, bold=True)
RULE = Look(fg=34, bold=True)

MONO: Mapping[Style, Look] = {
    Style.H: Look(bold=True),
    Style.K: Look(bold=True),
    Style.EM: Look(underline=True),
    Style.LINK: Look(underline=True),
    Style.DIM: PLAIN,
    Style.OK: PLAIN,
    Style.WARN: Look(bold=True),
    Style.ERR: Look(bold=True),
}
"""VT-100 tier: what each style looks like."""
MONO_TITLE_BAR = Look(bold=True, reverse=True)

VIDEOTEX: Mapping[Style, str] = {
    Style.H: videotex.FOREGROUND["cyan"],
    Style.K: videotex.INVERSE,
    Style.EM: videotex.UNDERLINE,
    Style.LINK: videotex.FOREGROUND["green"],
    Style.DIM: videotex.FOREGROUND["magenta"],
    Style.OK: videotex.FOREGROUND["green"],
    Style.WARN: videotex.FOREGROUND["yellow"],
    Style.ERR: videotex.INVERSE,
}
"""Videotex tier: the attribute codes of each style (colours become grey levels)."""
VIDEOTEX_TITLE = videotex.DOUBLE_HEIGHT + videotex.INVERSE
VIDEOTEX_RULE = "\U0001fb0b"
"""The sextant of the two middle cells: a G1 mosaic line across the screen."""


def _videotex_codes(styles: tuple[Style, ...], bar: bool) -> str:
    """Attribute codes for nested styles: the innermost colour wins, the rest add up."""
    colour = ""
    others: list[str] = [videotex.DOUBLE_HEIGHT, videotex.INVERSE] if bar else []
    for style in styles:
        code = VIDEOTEX[style]
        if code in videotex.FOREGROUND.values():
            colour = code
        elif code not in others:
            others.append(code)
    return colour + "".join(others)


@dataclass(frozen=True, slots=True)
class _Profile:
    """Everything about a session that changes how a line is drawn."""

    tier: Tier
    encoding: Encoding
    box: BoxMode
    width: int
    narrow: bool
    """Every character takes exactly one column (all single-byte encodings)."""
    rule: str


@lru_cache(maxsize=64)
def _profile(caps: Caps) -> _Profile:
    encoding = caps.wire_encoding
    width = max(1, caps.cols - 1)
    if caps.tier is Tier.ANSI:
        box = BoxMode.CHARSET
        line = fold_text("─", encoding, box) * width
        rule = f"{ESC}[0;{RULE.sgr}m{line}{SGR_RESET}"
    elif caps.tier is Tier.VT100 and encoding is Encoding.UTF8:
        # UTF-8 terminals draw the box characters themselves, and some (the Linux
        # console) ignore charset designations in UTF-8 mode.
        box = BoxMode.CHARSET
        rule = "─" * width
    elif caps.tier is Tier.VT100:
        box = BoxMode.DEC
        rule = DEC_GRAPHICS_ON + "q" * width + DEC_GRAPHICS_OFF
    elif caps.tier is Tier.VIDEOTEX:
        box = BoxMode.ASCII
        blue = videotex.FOREGROUND["blue"]
        rule = blue + VIDEOTEX_RULE * width + videotex.undo(blue)
    else:
        box = BoxMode.ASCII
        rule = "-" * width
    narrow = encoding is not Encoding.UTF8
    return _Profile(caps.tier, encoding, box, width, narrow, rule)


@lru_cache(maxsize=256)
def _params(tier: Tier, styles: tuple[Style, ...], bar: bool) -> str:
    if tier is Tier.DUMB:
        return ""
    if tier is Tier.VIDEOTEX:
        return _videotex_codes(styles, bar)
    palette = PALETTE if tier is Tier.ANSI else MONO
    look = (TITLE_BAR if tier is Tier.ANSI else MONO_TITLE_BAR) if bar else PLAIN
    for style in styles:
        look = palette[style].within(look)
    return look.sgr


# ----------------------------------------------------------------- flattening


class _Flat:
    """A source line as displayable text, with where each look starts in it."""

    __slots__ = ("params", "starts", "text", "texts")

    def __init__(self, texts: list[str], starts: list[int], params: list[str]) -> None:
        self.texts = texts
        self.starts = starts
        self.params = params
        self.text = "".join(texts)

    def pieces(self, start: int, end: int) -> list[tuple[str, str]]:
        """The styled pieces of text[start:end]."""
        if start == 0 and end == len(self.text):
            return list(zip(self.texts, self.params, strict=True))
        out: list[tuple[str, str]] = []
        starts = self.starts
        i = max(0, bisect_right(starts, start) - 1)
        while i < len(starts) and starts[i] < end:
            lo = max(start, starts[i])
            hi = min(end, starts[i + 1] if i + 1 < len(starts) else end)
            if hi > lo:
                out.append((self.text[lo:hi], self.params[i]))
            i += 1
        return out


_NARROW = re.compile("[\x20-\x7e\xa0-\u02ff\u2010-\u2027\u2030-\u205e\u20a0-\u20bf\u2500-\u259f]*")
"""Characters that surely take one column each (after `fold_text`)."""


def _flatten(line: Line, profile: _Profile) -> _Flat:
    bar = line.block is Block.TITLE
    brackets = profile.tier is Tier.DUMB
    texts: list[str] = []
    starts: list[int] = []
    params: list[str] = []
    position = 0
    in_key = False
    for run in line.runs:
        text = fold_text(run.text, profile.encoding, profile.box)
        if brackets and (Style.K in run.styles) != in_key:
            in_key = not in_key
            text = ("[" if in_key else "]") + text
        if "\t" in text:
            text = expand_tabs(text, text_width("".join(texts)))
        if not text:
            continue
        texts.append(text)
        starts.append(position)
        params.append(_params(profile.tier, run.styles, bar))
        position += len(text)
    if in_key:
        texts.append("]")
        starts.append(position)
        params.append("")
    return _Flat(texts, starts, params)


# ----------------------------------------------------------------- wrapping

_TOKEN = re.compile(r"(?P<word>(?:[^ ]|(?<=«) +|(?<=[^ ]) +(?=[:;!?»]))+)|(?P<space> +)")
"""Words and the spaces between them; French spacing (« a », b : c, d ?) never breaks."""


def _fit(text: str, start: int, end: int, room: int) -> int:
    """Where text[start:end] must be cut to fit in `room` columns."""
    used = 0
    i = start
    while i < end:
        width = char_width(text[i])
        if used + width > room:
            break
        used += width
        i += 1
    return i


def _breaks(text: str, limit: int, indent: int, narrow: bool) -> list[tuple[int, int]]:
    """Greedy word wrap of `text`: (start, end) of each screen line.

    Continuation lines are `indent` columns narrower (the caller indents them); the
    spaces where a line breaks are dropped; a word longer than a line starts a new
    line and is cut; indentation that leaves no room for the first word is dropped.
    """
    if narrow:
        return _narrow_breaks(text, limit, indent)
    if text_width(text) <= limit:
        return [(0, len(text))]
    out: list[tuple[int, int]] = []
    start: int | None = 0
    end = placed = column = 0
    room = limit
    has_word = False
    for match in _TOKEN.finditer(text):
        s, e = match.span()
        width = text_width(match.group())
        if match.lastgroup == "space":
            if start is None:
                continue
            if column + width <= room:
                column += width
                placed = e
                continue
            if has_word:
                out.append((start, end))
                room = limit - indent
            start, column, has_word = None, 0, False
            continue
        if start is None:
            start = end = placed = s
        if column + width <= room:
            column += width
            end = placed = e
            has_word = True
            continue
        if has_word:
            out.append((start, end))
            start = end = placed = s
            column, room, has_word = 0, limit - indent, False
            if width <= room:
                column, end, placed, has_word = width, e, e, True
                continue
        elif column and width <= limit:
            # Only indentation so far: give it up rather than cut the word.
            start, end, placed, column, has_word = s, e, e, width, True
            continue
        i = s
        while i < e:
            cut = _fit(text, i, e, room - column)
            if cut == i and column:
                # Only indentation so far, and not even a piece of the word fits after it.
                start = end = placed = i
                column = 0
                continue
            if cut == i:
                cut = i + 1
                while cut < e and char_width(text[cut]) == 0:
                    cut += 1
            if cut > i:
                column += text_width(text[i:cut])
                end = placed = cut
                has_word = True
                i = cut
            if i < e:
                out.append((start, end))
                start, end, placed = i, i, i
                column, room, has_word = 0, limit - indent, False
    if start is not None:
        out.append((start, placed))
    elif not out:
        out.append((0, 0))
    return out


_GLUED_BEFORE = "«"
_GLUED_AFTER = ":;!?»"
_SPACES = re.compile(" +")


def _last_break(text: str, pos: int, last: int) -> tuple[int, int] | None:
    """The last run of spaces starting in text(pos:last] where a line may break."""
    space = text.rfind(" ", pos + 1, last + 1)
    while space > pos:
        start = space
        while text[start - 1] == " ":
            start -= 1
        if start <= pos:
            return None
        end = _SPACES.match(text, space)
        stop = end.end() if end else space + 1
        if text[start - 1] not in _GLUED_BEFORE and (
            stop == len(text) or text[stop] not in _GLUED_AFTER
        ):
            return start, stop
        space = text.rfind(" ", pos + 1, start)
    return None


def _narrow_breaks(text: str, limit: int, indent: int) -> list[tuple[int, int]]:
    """`_breaks` for text whose every character takes one column, without tokenising."""
    size = len(text)
    if size <= limit:
        return [(0, size)]
    lead = size - len(text.lstrip(" "))
    if lead == size:
        return [(0, 0)]
    out: list[tuple[int, int]] = []
    pos = 0
    room = limit
    if lead >= room:
        pos, lead = lead, 0
    while size - pos > room:
        last = pos + room
        found = _last_break(text, pos, last)
        if found is not None:
            out.append((pos, found[0]))
            pos, room, lead = found[1], limit - indent, 0
            continue
        if lead:
            word = _TOKEN.match(text, lead)
            if word is not None and word.end() - lead <= limit:
                # Only indentation so far: give it up rather than cut the word.
                pos, lead = lead, 0
                continue
        out.append((pos, last))
        pos, room, lead = last, limit - indent, 0
    if pos < size or not out:
        out.append((pos, size))
    return out


def _spans(text: str, limit: int, indent: int, narrow: bool) -> list[tuple[int, int]]:
    """`_breaks`, without marks that would start a line: they have nothing to sit on."""
    spans = _breaks(text, limit, indent, narrow)
    if narrow:
        return spans
    out = []
    for start, end in spans:
        while start < end and char_width(text[start]) == 0:
            start += 1
        out.append((start, end))
    return out


# ----------------------------------------------------------------- emitting

_DEC_RUN = re.compile("[" + "".join(chr(code) for code in sorted(DEC_GRAPHICS)) + "]+")
_DEC_NEUTRAL = re.compile(r"[ -^]*")
"""Characters DEC Special Graphics leaves alone (it redraws only 0x5F-0x7E)."""


def _emit_videotex(pieces: list[tuple[str, str]]) -> str:
    """One Minitel line: text with the attribute codes it needs, the default look after."""
    out: list[str] = []
    current = ""
    for text, codes in pieces:
        if not text:
            continue
        if codes != current:
            out.append(videotex.undo(current) + codes)
            current = codes
        out.append(text)
    if current:
        out.append(videotex.undo(current))
    return "".join(out)


def _emit(pieces: list[tuple[str, str]], dec: bool, tier: Tier = Tier.ANSI) -> str:
    """One screen line: text with the SGR changes and charset switches it needs."""
    if tier is Tier.VIDEOTEX:
        return _emit_videotex(pieces)
    out: list[str] = []
    current = ""
    graphics = False

    def plain(text: str) -> None:
        nonlocal graphics
        # Spaces and capitals look the same in either set: no need to switch back for them.
        if graphics and not _DEC_NEUTRAL.fullmatch(text):
            out.append(DEC_GRAPHICS_OFF)
            graphics = False
        out.append(text)

    for text, params in pieces:
        if not text:
            continue
        if params != current:
            # Starting from 0 also clears whatever art or a raw write left set, and
            # ANSI.SYS-era terminals know no "bold off" (22).
            out.append(f"{ESC}[0;{params}m" if params else SGR_RESET)
            current = params
        if not dec or text.isascii():
            plain(text)
            continue
        position = 0
        for match in _DEC_RUN.finditer(text):
            if match.start() > position:
                plain(text[position : match.start()])
            if not graphics:
                out.append(DEC_GRAPHICS_ON)
                graphics = True
            out.append(match.group().translate(DEC_GRAPHICS))
            position = match.end()
        if position < len(text):
            plain(text[position:])
    if graphics:
        out.append(DEC_GRAPHICS_OFF)
    if current:
        out.append(SGR_RESET)
    return "".join(out)


def _render_line(line: Line, profile: _Profile) -> list[str]:
    if line.block is Block.HR:
        return [profile.rule]
    flat = _flatten(line, profile)
    text = flat.text
    limit = profile.width
    dec = profile.box is BoxMode.DEC
    narrow = profile.narrow or text.isascii() or _NARROW.fullmatch(text) is not None
    measure = len if narrow else text_width
    if line.block is Block.TEXT:
        indent = len(text) - len(text.lstrip(" "))
        if indent * 2 > limit:
            indent = 0
        out = []
        for number, (start, end) in enumerate(_spans(text, limit, indent, narrow)):
            pieces = flat.pieces(start, end)
            if number and indent:
                pieces.insert(0, (" " * indent, ""))
            out.append(_emit(pieces, dec, profile.tier))
        return out
    # Titles and centred lines: surrounding spaces mean nothing, each line is centred.
    lo = len(text) - len(text.lstrip(" "))
    hi = len(text.rstrip(" "))
    spans = [(lo + s, lo + e) for s, e in _spans(text[lo:hi], limit, 0, narrow)]
    widths = [measure(text[s:e]) for s, e in spans]
    bar = line.block is Block.TITLE and profile.tier is not Tier.DUMB
    bar_params = _params(profile.tier, (), True)
    out = []
    for (start, end), width in zip(spans, widths, strict=True):
        left = (limit - width) // 2
        pieces = flat.pieces(start, end)
        if bar:
            pieces = [(" " * left, bar_params), *pieces, (" " * (limit - width - left), bar_params)]
        elif left:
            pieces.insert(0, (" " * left, ""))
        out.append(_emit(pieces, dec, profile.tier))
    if line.block is Block.TITLE and profile.tier is Tier.DUMB:
        widest = max(widths)
        out.append(" " * ((limit - widest) // 2) + "=" * widest)
    if line.block is Block.TITLE and profile.tier is Tier.VIDEOTEX:
        # Double height draws each line over the row above: a blank row to take it.
        return [part for line_ in out for part in ("", line_)]
    return out


@lru_cache(maxsize=512)
def _render(markup: str, caps: Caps) -> tuple[str, ...]:
    if not markup.isascii():
        markup = unicodedata.normalize("NFC", markup)
    lines = parse(markup)
    if not markup or markup.endswith("\n"):
        lines = lines[:-1]
    profile = _profile(caps)
    out: list[str] = []
    for line in lines:
        out += _render_line(line, profile)
    return tuple(out)


def render_lines(markup: str, caps: Caps) -> list[str]:
    """The screen lines of `markup` for this terminal, without line ends.

    A final newline ends the last line rather than starting an empty one, so
    ``"a\\nb\\n"`` is two screen lines; raises MarkupError for bad markup.
    """
    return list(_render(markup, caps))


def render(markup: str, caps: Caps) -> str:
    """`markup` as text for this terminal, lines ended by CR LF.

    Ends with CR LF only when the markup ends with a newline, so a prompt leaves the
    cursor after itself; encode the result with `bbs.terminal.encoding.encode`.
    """
    text = "\r\n".join(_render(markup, caps))
    return text + "\r\n" if markup.endswith("\n") else text


def render_bytes(markup: str, caps: Caps) -> bytes:
    """`render` then `encode`: the bytes to send."""
    return encode(render(markup, caps), caps)


def display_width(markup_line: str, caps: Caps) -> int:
    """Columns the text of a markup line takes on this terminal, before wrapping.

    Counts the ``[ ]`` plain-text terminals put round hotkeys and longer spellings
    (… → ... in 7-bit); the widest line if there are several; 0 for a rule.
    """
    if not markup_line.isascii():
        markup_line = unicodedata.normalize("NFC", markup_line)
    profile = _profile(caps)
    measure = len if profile.narrow else text_width
    return max(
        (measure(_flatten(line, profile).text) for line in parse(markup_line)),
        default=0,
    )
