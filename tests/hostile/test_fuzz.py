"""Coverage-guided fuzzing (Hypothesis) of the telnet input path and the transfer framing.

Hypothesis shrinks towards the smallest failing input and, over the `fuzz` profile's
thousands of examples, steers its generation by what earlier examples did. The inputs
are structured: mixes of IAC commands, sub-negotiation bodies (ended or not), UTF-8
fragments (valid and not), CR/LF/NUL and escape sequences, delivered in arbitrary splits.

`make test` runs the `ci` profile (a few dozen examples each); `make fuzz` the `fuzz`
profile (`HYPOTHESIS_PROFILE=fuzz`, thousands, randomised).
"""

from __future__ import annotations

import asyncio
import itertools
import os
from dataclasses import replace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bbs.config import Config
from bbs.session.keys import MAX_SEQUENCE, CursorReport, Key, KeyParser, Resize
from bbs.telnet.server import BoardTelnetServer, BoardWriter, Edge
from bbs.transfer import zmodem_frames as zf
from bbs.transfer.blocks import LONG, SHORT, SOH, STX, BlockError, build_block, parse_block

PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
"""The settings every target runs with (profiles registered in this folder's conftest)."""

IAC, SB, SE = 255, 250, 240
OPTIONS = [0, 1, 3, 5, 6, 18, 24, 31, 32, 33, 34, 36, 39, 42, 69, 70, 85, 86, 87, 91, 200]

# ------------------------------------------------------------------ telnet input

_command = st.one_of(
    st.builds(
        lambda v, o: bytes([IAC, v, o]),
        st.sampled_from([251, 252, 253, 254]),
        st.sampled_from(OPTIONS),
    ),
    st.sampled_from([bytes([IAC, c]) for c in (241, 242, 243, 244, 245, 246, 247, 248, 249, 255)]),
    st.just(bytes([IAC])),  # a lone IAC at the end of a chunk
)
_sb_body = st.one_of(
    st.binary(max_size=64),
    st.builds(lambda n: b"\xff\xff" * n, st.integers(0, 3000)),
    st.builds(lambda n: b"A" * n, st.integers(0, 9000)),
    st.builds(lambda n: bytes([3, 1, 2]) * n, st.integers(0, 5000)),  # LINEMODE SLC
)
_subnegotiation = st.builds(
    lambda opt, body, ended: bytes([IAC, SB, opt]) + body + (bytes([IAC, SE]) if ended else b""),
    st.sampled_from(OPTIONS),
    _sb_body,
    st.booleans(),
)
_text = st.one_of(
    st.text(max_size=40).map(lambda t: t.encode("utf-8")),
    st.sampled_from(
        [
            b"\r\n",
            b"\r\x00",
            b"\r",
            b"\n",
            b"\x00",
            b"\xc0\xaf",
            b"\xed\xa0\x80",
            b"\xe2\x82",
            b"\x1b[",
            b"\x1b[6n",
            b"\x1b]52;c;QQ==\x07",
            b"\x9b2J",
            b"\x1bP$q\x1b\\",
        ]
    ),
    st.binary(max_size=40).map(lambda b: b.replace(b"\xff", b"\xff\xff")),
)
telnet_stream = st.lists(st.one_of(_command, _subnegotiation, _text), max_size=30).map(b"".join)


def splits(data: bytes, cuts: list[int]) -> list[bytes]:
    """`data` cut at the given offsets (taken modulo its length), in order."""
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points) if b > a]


class FakeTransport:
    """Enough of an asyncio transport for the protocol: it records writes and pauses."""

    def __init__(self) -> None:
        self.written = bytearray()
        self.closed = False
        self.paused = False

    def write(self, data: bytes) -> None:
        self.written += data

    def writelines(self, parts: Any) -> None:
        for part in parts:
            self.write(part)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.99", 4242), "sockname": ("127.0.0.1", 23)}.get(name, default)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0

    def can_write_eof(self) -> bool:
        return False


LIMITS = replace(Config(), max_subnegotiation=4096)


async def _feed_protocol(chunks: list[bytes]) -> tuple[BoardTelnetServer, FakeTransport]:
    protocol = BoardTelnetServer(
        encoding=False,
        connect_maxwait=0.05,
        timeout=0,
        compression=False,
        writer_factory=BoardWriter,
    )
    protocol.edge = Edge(LIMITS)
    transport = FakeTransport()
    protocol.connection_made(transport)  # type: ignore[arg-type]
    try:
        for chunk in chunks:
            if transport.closed:
                break
            protocol.data_received(chunk)
            # Bounded: a sub-negotiation never grows past the cap, nor what is held back.
            assert protocol.held_bytes() <= 2 * LIMITS.max_subnegotiation + 65536
        await asyncio.sleep(0)
    finally:
        protocol.connection_lost(None)
        await asyncio.sleep(0)
    return protocol, transport


@PROFILE
@given(telnet_stream, st.lists(st.integers(0, 1 << 16), max_size=8))
def test_telnet_protocol_takes_any_stream(stream: bytes, cuts: list[int]) -> None:
    """Any mix of commands, sub-negotiations and text, split anywhere: no exception escapes
    the protocol, and its buffers stay bounded."""
    _, transport = asyncio.run(_feed_protocol(splits(stream, cuts)))
    # Whatever it answered is telnet: an IAC the board sends is never half a command.
    assert transport.written.count(bytes([IAC, SB])) == transport.written.count(bytes([IAC, SE]))


def _inband(protocol: BoardTelnetServer) -> bytes:
    reader = protocol.reader
    return bytes(reader._buffer) if reader is not None else b""


@PROFILE
@given(
    st.lists(st.one_of(_command.filter(lambda c: len(c) == 3 and c[2] != 18), _text), max_size=20),
    st.lists(st.integers(0, 1 << 16), max_size=8),
)
def test_telnet_inband_data_does_not_depend_on_splits(parts: list[bytes], cuts: list[int]) -> None:
    """Negotiation commands and text: the in-band bytes the board reads are the same whole
    or cut anywhere (LOGOUT left out: it rightly ends the connection)."""
    stream = b"".join(parts)
    whole, _ = asyncio.run(_feed_protocol([stream]))
    cut, _ = asyncio.run(_feed_protocol(splits(stream, cuts)))
    assert _inband(cut) == _inband(whole)


# ------------------------------------------------------------------ keys

_keys_text = st.lists(
    st.one_of(
        st.text(max_size=10),
        st.sampled_from(
            [
                "\r",
                "\n",
                "\r\n",
                "\r\x00",
                "\x1b",
                "\x1b[",
                "\x1b[A",
                "\x1bO",
                "\x1b[3~",
                "\x1b[12;40R",
                "\x1b[" + "1;" * 40 + "R",
                "\x9b",
                "\x7f",
                "\b",
                "\x03",
            ]
        ),
    ),
    max_size=30,
).map("".join)


@PROFILE
@given(_keys_text, st.lists(st.integers(0, 1 << 12), max_size=8))
def test_key_parser_any_text_any_split(text: str, cuts: list[int]) -> None:
    """Any decoded text, cut anywhere: the same events as whole, each a known kind, and the
    pending sequence never longer than MAX_SEQUENCE."""
    whole = KeyParser()
    expected = whole.feed(text) + whole.flush()
    parser = KeyParser()
    got = []
    points = sorted({c % (len(text) + 1) for c in cuts} | {0, len(text)})
    for a, b in itertools.pairwise(points):
        got += parser.feed(text[a:b])
        assert len(parser._seq) <= MAX_SEQUENCE
    got += parser.flush()
    assert got == expected
    for event in got:
        assert isinstance(event, Key | CursorReport | Resize) or (
            isinstance(event, str) and len(event) == 1 and event.isprintable()
        )


# ------------------------------------------------------------------ ZMODEM framing


@PROFILE
@given(st.binary(max_size=4096), st.lists(st.integers(0, 1 << 16), max_size=8), st.booleans())
def test_zmodem_deframer_takes_any_bytes(junk: bytes, cuts: list[int], crc32: bool) -> None:
    """Arbitrary bytes, in any split: only Garbled comes out, and the buffer stays bounded."""
    deframer = zf.Deframer()
    for chunk in splits(junk, cuts):
        deframer.feed(chunk)
        for reader in (deframer.header, lambda: deframer.subpackets(crc32)):
            for _ in range(4):
                try:
                    if not reader():
                        break
                except zf.Garbled:
                    continue
        assert len(deframer.buf) <= len(junk)


_headers = st.builds(
    zf.Header,
    st.sampled_from(list(zf.Frame)),
    st.binary(min_size=4, max_size=4),
)


@PROFILE
@given(
    _headers,
    st.lists(st.binary(max_size=2048), min_size=1, max_size=4),
    st.booleans(),
    st.booleans(),
    st.lists(st.integers(0, 1 << 16), max_size=12),
    st.binary(max_size=64),
)
def test_zmodem_frames_round_trip_under_any_split(
    header: zf.Header,
    payloads: list[bytes],
    crc32: bool,
    controls: bool,
    cuts: list[int],
    noise: bytes,
) -> None:
    """A valid header and its data subpackets, after line noise, cut anywhere: decoded back
    exactly (noise before a header is skipped)."""
    encoder = zf.Encoder(crc32=crc32, controls=controls)
    ends = [zf.End.ZCRCG] * (len(payloads) - 1) + [zf.End.ZCRCE]
    wire = encoder.header(header) + b"".join(
        encoder.subpacket(p, int(e)) for p, e in zip(payloads, ends, strict=True)
    )
    # Noise without anything that could start a header or abort the transfer.
    quiet = bytes(b for b in noise if b not in (0x2A, 0xAA, 0x18, 0x11, 0x13, 0x91, 0x93))
    deframer = zf.Deframer()
    got_header = None
    got: list[zf.Subpacket] = []
    for chunk in splits(quiet + wire, cuts):
        deframer.feed(chunk)
        if got_header is None:
            got_header = deframer.header()
        if got_header is not None:
            got += deframer.subpackets(crc32)
    if got_header is None:
        got_header = deframer.header()
    if got_header is not None:
        got += deframer.subpackets(crc32)
    assert got_header is not None
    assert got_header[0] == header
    assert [s.data for s in got] == payloads
    assert [s.end for s in got] == [int(e) for e in ends]


@PROFILE
@given(st.binary(max_size=3000), st.booleans(), st.booleans())
def test_zmodem_escape_round_trip(data: bytes, controls: bool, after_at: bool) -> None:
    assert zf.unescape(zf.escape(data, controls=controls, after_at=after_at)) == data


# ------------------------------------------------------------------ XMODEM/YMODEM blocks


@PROFILE
@given(st.sampled_from([SOH, STX, 0x00, 0x04, 0x18]), st.binary(max_size=1100), st.booleans())
def test_block_parser_takes_any_bytes(kind: int, body: bytes, crc: bool) -> None:
    """Any start byte and body: a block or BlockError, nothing else."""
    try:
        number, data = parse_block(kind, body, crc=crc)
    except BlockError:
        return
    assert 0 <= number <= 255 and len(data) in (SHORT, LONG)


@PROFILE
@given(
    st.integers(0, 1000),
    st.sampled_from([SHORT, LONG]),
    st.binary(max_size=LONG),
    st.booleans(),
    st.integers(0, 1100),
    st.integers(1, 255),
)
def test_blocks_round_trip_and_any_corruption_is_caught(
    number: int, size: int, data: bytes, crc: bool, where: int, flip: int
) -> None:
    payload = (data * (size // max(1, len(data)) + 1))[:size] if data else bytes(size)
    block = build_block(number, payload, crc=crc)
    assert parse_block(block[0], block[1:], crc=crc) == (number & 0xFF, payload)
    spoiled = bytearray(block[1:])
    at = where % len(spoiled)
    spoiled[at] ^= flip
    try:
        got = parse_block(block[0], bytes(spoiled), crc=crc)
    except BlockError:
        return
    # An 8-bit checksum cannot see every change; a CRC and the number's complement can.
    assert not crc and at >= 2 and got[1] != payload
