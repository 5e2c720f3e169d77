"""Terminal detection for a new session: TTYPE, then a cursor-position probe, then a UTF-8 probe."""

from __future__ import annotations

from bbs.session.session import Session
from bbs.terminal.caps import Caps, Encoding, Tier
from bbs.terminal.detect import Detection, Utf8Probe, choose, should_probe
from bbs.terminal.encoding import encode

_PROBE_CHAR = "é"
"""Two bytes in UTF-8, so a UTF-8 terminal moves one column and an 8-bit one moves two."""


async def detect(
    session: Session, probe_timeout: float, baud: int = 0, videotex_baud: int = 1200
) -> Detection:
    """Identify the caller's terminal and adopt the chosen capabilities on the session.

    A terminal that names itself dumb, or a client that negotiated nothing, is sent no
    probe and no escape sequence at all.
    """
    info = session.link.negotiated()
    session.server_echo = info.echo
    names = info.terminal_types
    cpr = False
    utf8 = Utf8Probe.NOT_RUN
    if should_probe(names, info.telnet):
        # Probes need escape sequences, so speak ANSI while they run.
        session.set_caps(Caps(tier=Tier.ANSI, encoding=Encoding.ASCII, eight_bit=False))
        first = await session.cursor_position(probe_timeout)
        cpr = first is not None
        if first is not None and info.binary_out:
            probe = Caps(tier=Tier.ANSI, encoding=Encoding.UTF8)
            await session.write_raw(b"\r" + encode(_PROBE_CHAR, probe), content=False)
            second = await session.cursor_position(probe_timeout)
            await session.write_raw(
                encode(session.controls.erase_line(), session.caps), content=False
            )
            if second is not None:
                moved = second.col - 1
                utf8 = Utf8Probe.ONE_COLUMN if moved == 1 else Utf8Probe.TWO_COLUMNS
    detection = choose(
        names,
        cpr=cpr,
        utf8=utf8,
        binary=info.binary_out,
        cols=info.cols,
        rows=info.rows,
        baud=baud,
        videotex_baud=videotex_baud,
    )
    session.set_caps(detection.caps)
    session.rebuild_decoder()
    session.detected = detection.reason
    session.detection = detection
    return detection
