"""Choosing a tier and an encoding from what a terminal says it is and how it answers probes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from bbs.terminal.caps import MINITEL_CAPS, Caps, Encoding, Tier, clamp_size

ANSI_BBS = frozenset(
    {"ansi", "ansi-bbs", "syncterm", "pcansi", "cterm", "netrunner", "scoansi", "ansi.sys", "bbs"}
)
"""ANSI-BBS clients: CP437 art and line drawing."""
XTERM_LIKE = (
    "xterm",
    "rxvt",
    "screen",
    "tmux",
    "linux",
    "putty",
    "konsole",
    "gnome",
    "alacritty",
    "kitty",
    "foot",
    "wezterm",
    "iterm",
    "vte",
    "st-",
    "mintty",
    "cygwin",
)
"""Prefixes of modern terminal names: ANSI colour, UTF-8 when they pass the probe."""
VT_8BIT = ("vt220", "vt240", "vt320", "vt340", "vt420", "vt510", "vt520", "vt525")
"""8-bit DEC terminals: VT-100 tier with Latin-1."""
VT_7BIT = ("vt100", "vt102", "vt52", "vt125", "vt131")
MINITEL = ("minitel", "videotex", "teletel")
"""Prefixes of Minitel names (emulators and serial bridges say `minitel`, some `minitel1b`)."""
NO_ESCAPES = frozenset({"dumb", "unknown", "network", "tty33", "tty", ""})
"""Names that promise nothing: no probe, no escape sequence."""


class Utf8Probe(Enum):
    """What the UTF-8 probe learned: a two-byte character printed, cursor moved by one or two."""

    NOT_RUN = "not run"
    ONE_COLUMN = "utf-8"
    TWO_COLUMNS = "8-bit"


REASONS: dict[str, str] = {
    "term.detect.no_type": "no terminal type",
    "term.detect.answers_probes": "answers probes",
    "term.detect.plain": "plain text",
    "term.detect.ansi_bbs": "ANSI-BBS, CP437",
    "term.detect.utf8_probe": "passed the UTF-8 probe",
    "term.detect.latin1": "no UTF-8, Latin-1",
    "term.detect.dec_8bit": "8-bit DEC, Latin-1",
    "term.detect.seven_bit": "7-bit",
    "term.detect.probes_utf8": "answers probes, UTF-8",
    "term.detect.unknown": "unknown, plain text",
    "term.detect.no_8bit": "no 8-bit line, ASCII",
    "term.detect.minitel": "Minitel, Videotex 40x24",
}
"""Each detection reason in English, for the log (callers read menus/strings)."""


@dataclass(frozen=True, slots=True)
class Detection:
    """The outcome of terminal detection and a one-line description of it."""

    caps: Caps
    term: str
    reason: str
    """In English, for the log."""
    keys: tuple[str, ...] = ()
    """The same reasons as string keys (term.detect.* in menus/strings), for screens."""
    named: bool = True
    """False when the terminal gave no name (`term` is then "unknown", in English)."""

    def describe(self, text: Callable[[str], str]) -> str:
        """The reasons in the caller's language, `text` giving a string by its key."""
        said = "; ".join(text(k) for k in self.keys)
        name = self.term if self.named else text("term.detect.no_type")
        return f"{name}: {said}"


def primary_name(names: tuple[str, ...]) -> str:
    """The most telling terminal name of a TTYPE list (known names before unknown ones)."""
    lowered = tuple(n.lower() for n in names if n)
    for name in lowered:
        if name in ANSI_BBS or name.startswith(XTERM_LIKE + VT_8BIT + VT_7BIT + MINITEL):
            return name
    return lowered[0] if lowered else "unknown"


def should_probe(names: tuple[str, ...], telnet: bool) -> bool:
    """Whether to send cursor-position probes: never to `dumb`, never to a raw TCP script."""
    if not telnet or primary_name(names).startswith(MINITEL):
        return False
    return primary_name(names) not in NO_ESCAPES or not names


def choose(
    names: tuple[str, ...],
    *,
    cpr: bool,
    utf8: Utf8Probe,
    binary: bool,
    cols: int,
    rows: int,
    baud: int = 0,
    videotex_baud: int = 1200,
) -> Detection:
    """Tier and encoding for a terminal, from its TTYPE names and probe answers.

    Without 8-bit transmission (`binary` false), output is 7-bit ASCII whatever the
    terminal could show. With nothing learned: 80x24 dumb ASCII. A Minitel is 40x24
    Videotex whatever its line says, at `videotex_baud`.
    """
    cols, rows = clamp_size(cols, rows)
    term = primary_name(names)
    if term.startswith(MINITEL):
        key = "term.detect.minitel"
        caps = MINITEL_CAPS.with_(baud=videotex_baud)
        return Detection(caps=caps, term=term, reason=f"{term}: {REASONS[key]}", keys=(key,))
    tier, encoding, key = Tier.DUMB, Encoding.ASCII, "term.detect.no_type"
    if term in NO_ESCAPES:
        if cpr:
            # It answers ANSI probes but names no charset: colour yes, 7-bit text.
            tier, encoding, key = Tier.ANSI, Encoding.ASCII, "term.detect.answers_probes"
        else:
            key = "term.detect.plain"
    elif term in ANSI_BBS:
        tier, encoding, key = Tier.ANSI, Encoding.CP437, "term.detect.ansi_bbs"
    elif term.startswith(XTERM_LIKE):
        if utf8 is Utf8Probe.ONE_COLUMN:
            tier, encoding, key = Tier.ANSI, Encoding.UTF8, "term.detect.utf8_probe"
        else:
            tier, encoding, key = Tier.ANSI, Encoding.LATIN1, "term.detect.latin1"
    elif term.startswith(VT_8BIT):
        tier, encoding, key = Tier.VT100, Encoding.LATIN1, "term.detect.dec_8bit"
    elif term.startswith(VT_7BIT):
        tier, encoding, key = Tier.VT100, Encoding.ASCII, "term.detect.seven_bit"
    elif cpr:
        tier, encoding, key = _by_probe(utf8)
    else:
        key = "term.detect.unknown"
    keys: tuple[str, ...] = (key,)
    if not binary and encoding is not Encoding.ASCII:
        keys += ("term.detect.no_8bit",)
    named = any(names)
    reason = f"{term}: " + "; ".join(REASONS[k] for k in keys)
    caps = Caps(
        tier=tier,
        encoding=encoding,
        cols=cols,
        rows=rows,
        eight_bit=binary,
        baud=baud,
    )
    return Detection(caps=caps, term=term, reason=reason, keys=keys, named=named)


def _by_probe(utf8: Utf8Probe) -> tuple[Tier, Encoding, str]:
    """An unnamed terminal that answered the cursor probe: ANSI, UTF-8 if it passed."""
    if utf8 is Utf8Probe.ONE_COLUMN:
        return Tier.ANSI, Encoding.UTF8, "term.detect.probes_utf8"
    return Tier.ANSI, Encoding.ASCII, "term.detect.answers_probes"
