"""ZMODEM on the wire: frame types, ZDLE escaping, headers and data subpackets.

No I/O here: `Encoder` turns headers and file data into bytes for the peer, `Deframer`
takes the peer's bytes (as they arrive, in any pieces) and gives back headers and data
subpackets. The protocol itself (who sends what when) is in `bbs.transfer.zmodem`.

Layout, after Forsberg's specification:

* a hex header is ``* * ZDLE B`` then type, four header bytes and a CRC-16, all as
  lower-case hex digits, then CR LF (LF with its high bit set) and, except after ZACK
  and ZFIN, an XON;
* a binary header is ``* ZDLE A`` (CRC-16) or ``* ZDLE C`` (CRC-32) then type, four
  header bytes and the CRC, ZDLE-escaped;
* a data subpacket is the escaped data, ZDLE and one of ZCRCE/ZCRCG/ZCRCQ/ZCRCW (the
  "frame end", which says what follows), then the escaped CRC of data and frame end.

The four header bytes are a file position (least significant first) or flags, where ZF0
is the last byte and ZF3 the first.

Speed: a download is mostly escaping and CRCs, so neither is a Python loop over bytes.
Escaping replaces the handful of bytes that need it with C-level `bytes.replace` passes
over a whole batch of file data, which is then cut into subpackets (the number of raw
bytes in a cut is its length less the number of ZDLEs in it, as every escape holds
exactly one); unescaping splits on ZDLE; CRCs come from zlib and binascii.
"""

from __future__ import annotations

import binascii
import re
import zlib
from dataclasses import dataclass
from enum import IntEnum
from itertools import islice
from typing import Literal, NamedTuple

# --- constants ------------------------------------------------------------------------

ZPAD = 0x2A  # '*'
ZDLE = 0x18  # ASCII CAN, also the start of every escape
ZBIN = 0x41  # 'A': binary header, CRC-16
ZHEX = 0x42  # 'B': hex header, CRC-16
ZBIN32 = 0x43  # 'C': binary header, CRC-32
CAN = 0x18
XON = 0x11
XOFF = 0x13


class Frame(IntEnum):
    """Header (frame) types."""

    ZRQINIT = 0
    ZRINIT = 1
    ZSINIT = 2
    ZACK = 3
    ZFILE = 4
    ZSKIP = 5
    ZNAK = 6
    ZABORT = 7
    ZFIN = 8
    ZRPOS = 9
    ZDATA = 10
    ZEOF = 11
    ZFERR = 12
    ZCRC = 13
    ZCHALLENGE = 14
    ZCOMPL = 15
    ZCAN = 16
    ZFREECNT = 17
    ZCOMMAND = 18
    ZSTDERR = 19


class End(IntEnum):
    """How a data subpacket ends, which says what the receiver does next."""

    ZCRCE = 0x68  # 'h': end of frame, a header follows, no answer wanted
    ZCRCG = 0x69  # 'i': more data follows, no answer wanted
    ZCRCQ = 0x6A  # 'j': more data follows, answer with ZACK
    ZCRCW = 0x6B  # 'k': end of frame, answer with ZACK before anything more is sent


ZRUB0 = 0x6C  # 'l': escaped 0x7F
ZRUB1 = 0x6D  # 'm': escaped 0xFF

# ZRINIT capability flags (ZF0)
CANFDX = 0x01  # full duplex
CANOVIO = 0x02  # can receive data during disk I/O
CANBRK = 0x04  # can send a break
CANCRY = 0x08  # can decrypt
CANLZW = 0x10  # can uncompress
CANFC32 = 0x20  # can use CRC-32
ESCCTL = 0x40  # wants all control characters escaped
ESC8 = 0x80  # wants the eighth bit escaped

# ZSINIT flags (ZF0)
TESCCTL = 0x40
TESC8 = 0x80

# ZFILE conversion option (ZF0)
ZCBIN = 1
ZCNL = 2
ZCRESUM = 3

ZCOMMAND_FLAG = Frame.ZCOMMAND  # ZRQINIT's ZF0 when the sender wants to run a command

CANCEL = bytes([CAN] * 8 + [0x08] * 10)
"""The abort sequence: eight CANs (five are enough), then backspaces over them."""

MAX_SUBPACKET = 8192
"""Longest data subpacket accepted (the spec says 1024; lrzsz's -8 sends 8192)."""

_MAX_ESCAPED = 2 * MAX_SUBPACKET + 16

_AT = (0x40, 0xC0)
_CR = (0x0D, 0x8D)

# --- errors ---------------------------------------------------------------------------


class Garbled(Exception):
    """Bytes that do not decode: a bad escape, a bad CRC, a header or subpacket cut short."""


# --- escaping -------------------------------------------------------------------------

_ALWAYS = bytes([0x10, 0x11, 0x13, ZDLE, 0x90, 0x91, 0x93])
"""Escaped whatever the peer asked: ZDLE, DLE, XON, XOFF and their high-bit forms."""

_ESC2 = tuple(bytes([ZDLE, b ^ 0x40]) for b in range(256))
"""The escaped form of each byte (ZDLE then the byte with bit 6 flipped)."""

# ZDLE first: the later replacements bring in ZDLEs of their own.
_PLAIN_REPLACEMENTS = tuple(
    (bytes([b]), _ESC2[b]) for b in sorted(_ALWAYS, key=lambda b: b != ZDLE)
)

_CONTROLS = re.compile(rb"[\x00-\x1f\x80-\x9f]")
_ESC2_BY_BYTES = {bytes([b]): _ESC2[b] for b in range(256)}

_AT_CR_MARKS = bytes(1 if b in _AT else 2 if b in _CR else 0 for b in range(256))
"""Marks '@' (either parity) as 1 and CR (either parity) as 2, all else 0, so one
substring search finds every CR that follows an '@'."""

_TAIL_QUIET = bytes(b for b in range(256) if b not in _ALWAYS and b not in _CR)
"""Deleting these from a CRC leaves something only if it needs a closer look."""


def _escape_always(data: bytes) -> bytes:
    for plain, escaped in _PLAIN_REPLACEMENTS:
        data = data.replace(plain, escaped)
    return data


def _escape_control(match: re.Match[bytes]) -> bytes:
    return _ESC2_BY_BYTES[match.group()]


def escape(data: bytes, *, controls: bool = False, after_at: bool = False) -> bytes:
    """ZDLE-encode `data`.

    Always escaped: ZDLE, DLE, XON, XOFF and their high-bit forms, and a CR (either
    parity) that follows an '@' (either parity), which guards Telenet's CR @ CR command
    escape. `after_at` says the byte sent just before `data` was an '@'. With
    `controls` (the peer's ESCCTL), every control character is escaped.
    """
    if controls:
        # CR is a control character here, so the '@' rule is already covered.
        return _CONTROLS.sub(_escape_control, data)
    lead = b""
    if after_at and data[:1] in (b"\r", b"\x8d"):
        lead = _ESC2[data[0]]
        data = data[1:]
    marks = data.translate(_AT_CR_MARKS)
    found = marks.find(b"\x01\x02")
    if found < 0:
        return lead + _escape_always(data) if lead else _escape_always(data)
    pieces = [lead]
    done = 0
    while found >= 0:
        cr = found + 1
        pieces.append(_escape_always(data[done:cr]))
        pieces.append(_ESC2[data[cr]])
        done = cr + 1
        found = marks.find(b"\x01\x02", cr)
    pieces.append(_escape_always(data[done:]))
    return b"".join(pieces)


_UNESCAPED: tuple[bytes | None, ...] = tuple(
    bytes([b ^ 0x40])
    if b & 0x60 == 0x40
    else b"\x7f"
    if b == ZRUB0
    else b"\xff"
    if b == ZRUB1
    else None
    for b in range(256)
)
"""What each byte after a ZDLE stands for; None for a frame end or anything invalid."""

_FLOW = bytes([XON, XOFF, XON | 0x80, XOFF | 0x80])
"""Flow-control bytes a link may add; never data (the sender escapes them)."""


def _unescape(data: bytes) -> bytes:
    """Decode ZDLE escapes (flow-control bytes already gone); Garbled if one is invalid."""
    if ZDLE not in data:
        return data
    parts = data.split(b"\x18")
    first = parts[0]
    try:
        # Each part after the first starts with the byte that followed a ZDLE.
        rest = [_UNESCAPED[part[0]] + part[1:] for part in islice(parts, 1, None)]  # type: ignore[operator]
    except IndexError:
        raise Garbled("ZDLE with nothing after it") from None
    except TypeError:
        raise Garbled("bad escape after ZDLE") from None
    return first + b"".join(rest)


def unescape(data: bytes) -> bytes:
    """Undo `escape`, ignoring XON/XOFF (either parity) that flow control slipped in."""
    return _unescape(data.translate(None, _FLOW))


# --- headers --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Header:
    """A frame type and its four header bytes, as they go on the wire (ZP0/ZF3 first)."""

    type: int
    data: bytes = bytes(4)

    @classmethod
    def at(cls, type: int, position: int) -> Header:
        """A header carrying a file position (ZRPOS, ZDATA, ZEOF, ZACK...)."""
        return cls(type, (position & 0xFFFFFFFF).to_bytes(4, "little"))

    @classmethod
    def flagged(cls, type: int, f0: int = 0, f1: int = 0, f2: int = 0, f3: int = 0) -> Header:
        """A header carrying flags (ZRINIT, ZFILE, ZSINIT...)."""
        return cls(type, bytes([f3, f2, f1, f0]))

    @property
    def position(self) -> int:
        return int.from_bytes(self.data, "little")

    @property
    def f0(self) -> int:
        return self.data[3]

    @property
    def f1(self) -> int:
        return self.data[2]

    @property
    def name(self) -> str:
        try:
            return Frame(self.type).name
        except ValueError:
            return f"frame type {self.type}"


def _crc16(data: bytes) -> bytes:
    return binascii.crc_hqx(data, 0).to_bytes(2, "big")


def _crc32(data: bytes) -> bytes:
    return zlib.crc32(data).to_bytes(4, "little")


def encode_hex(header: Header) -> bytes:
    """A hex header, with its CR LF and (except after ZACK and ZFIN) XON."""
    raw = bytes([header.type]) + header.data
    digits = (raw + _crc16(raw)).hex().encode("ascii")
    xon = b"" if header.type in (Frame.ZACK, Frame.ZFIN) else b"\x11"
    return b"**\x18B" + digits + b"\r\x8a" + xon


def encode_binary(header: Header, *, crc32: bool = False, controls: bool = False) -> bytes:
    """A binary header, with a CRC-16 (ZBIN) or a CRC-32 (ZBIN32)."""
    raw = bytes([header.type]) + header.data
    if crc32:
        return b"*\x18C" + escape(raw + _crc32(raw), controls=controls)
    return b"*\x18A" + escape(raw + _crc16(raw), controls=controls)


ZRQINIT_HEX = encode_hex(Header(Frame.ZRQINIT))

AUTO_START = b"rz\r" + ZRQINIT_HEX
"""What a ZMODEM download starts with: "rz" and Enter (starts a receiver on a shell),
then ZRQINIT in hex, the bytes terminals watch for to start their own receiver:
``rz\\r**\\x18B00000000000000\\r\\x8a\\x11``."""


# --- encoding -------------------------------------------------------------------------

_END_MARK = {int(end): bytes([ZDLE, end]) for end in End}
_END_BYTE = {int(end): bytes([end]) for end in End}
_ZCRCG = int(End.ZCRCG)


def _crc16_of(data: bytes | memoryview, crc: int = 0) -> int:
    return binascii.crc_hqx(data, crc)


def _subpacket_crc(data: bytes | memoryview, end: int, crc32: bool) -> bytes:
    if crc32:
        return zlib.crc32(bytes([end]), zlib.crc32(data)).to_bytes(4, "little")
    return binascii.crc_hqx(bytes([end]), binascii.crc_hqx(data, 0)).to_bytes(2, "big")


class Encoder:
    """Frames for one direction of a session.

    Remembers whether the last byte it produced was an '@', so that a CR opening the next
    piece is escaped too; hex headers (which end in LF or XON) reset that.
    """

    def __init__(self, *, crc32: bool = False, controls: bool = False) -> None:
        self.crc32 = crc32
        """Binary headers and their data subpackets use CRC-32 (the peer said CANFC32)."""
        self.controls = controls
        """Escape every control character (the peer said ESCCTL)."""
        self._after_at = False

    def hex(self, header: Header) -> bytes:
        self._after_at = False
        return encode_hex(header)

    def header(self, header: Header) -> bytes:
        """A binary header (CRC-16 or CRC-32 as the session uses)."""
        out = encode_binary(header, crc32=self.crc32, controls=self.controls)
        self._after_at = out[-1] in _AT
        return out

    def _tail(self, crc: bytes) -> bytes:
        if self.controls or crc.translate(None, _TAIL_QUIET):
            crc = escape(crc, controls=self.controls)
        self._after_at = crc[-1] in _AT
        return crc

    def subpacket(self, data: bytes, end: int) -> bytes:
        """Exactly one data subpacket, however long `data` is (ZFILE, ZSINIT)."""
        body = escape(data, controls=self.controls, after_at=self._after_at)
        return body + _END_MARK[end] + self._tail(_subpacket_crc(data, end, self.crc32))

    def data(self, data: bytes, end: int, size: int = 1024) -> bytes:
        """`data` as subpackets of at most `size` bytes: the last ends with `end`, the
        others with ZCRCG. Escaped in one go, then cut; a cut may hold a little less
        than `size` bytes of data (never more), and never splits an escape."""
        if not data:
            return self.subpacket(b"", end)
        controls = self.controls
        escaped = escape(data, controls=controls, after_at=self._after_at)
        view = memoryview(data)
        pieces = memoryview(escaped)
        total = len(escaped)
        count = escaped.count
        crc_of = zlib.crc32 if self.crc32 else _crc16_of
        width = 4 if self.crc32 else 2
        order: Literal["little", "big"] = "little" if self.crc32 else "big"
        mark, end_byte = _END_MARK[_ZCRCG], b"i"
        after_at = self._after_at
        out: list[bytes | memoryview] = []
        append = out.append
        start = raw = 0
        # The hot loop of a download: one pass per subpacket, nothing per byte.
        while start < total:
            stop = start + size
            if stop >= total:
                stop = total
                mark, end_byte = _END_MARK[end], _END_BYTE[end]
            elif escaped[stop - 1] == ZDLE:
                stop += 1  # keep the escape whole (its second byte is never a ZDLE)
                if stop >= total:
                    mark, end_byte = _END_MARK[end], _END_BYTE[end]
            n = stop - start - count(b"\x18", start, stop)
            if after_at and start and escaped[start] in _CR:
                append(_ESC2[escaped[start]])
                append(pieces[start + 1 : stop])
            else:
                append(pieces[start:stop])
            append(mark)
            tail = crc_of(end_byte, crc_of(view[raw : raw + n])).to_bytes(width, order)
            if controls or tail.translate(None, _TAIL_QUIET):
                tail = escape(tail, controls=controls)
            append(tail)
            after_at = tail[-1] in _AT
            raw += n
            start = stop
        self._after_at = after_at
        return b"".join(out)


# --- decoding -------------------------------------------------------------------------

_HEADER_START = re.compile(rb"[\x2a\xaa]\x18([ABC])")
_FRAME_END = re.compile(rb"\x18[hijk]")
_HEX_DIGITS = b"0123456789abcdefABCDEF"
_STRIP_PARITY = bytes(b & 0x7F for b in range(256))
_CAN5 = b"\x18" * 5


class Subpacket(NamedTuple):
    data: bytes
    end: int


class Deframer:
    """The peer's bytes, as they arrive, back into headers and data subpackets.

    `feed` drops flow-control bytes (which the sender escapes, so they are never data)
    and watches for the abort sequence: five CANs in a row never occur in a well-formed
    stream (the byte after a ZDLE is never a ZDLE), so seeing them sets `cancelled`.
    """

    def __init__(self) -> None:
        self.buf = bytearray()
        self.cancelled = False
        self._tail = b""
        self._searched = 0
        self._crlf = 0  # CR/LF still due after a hex header that ended the buffer
        self._garbled: Garbled | None = None  # found after good subpackets, told next

    def feed(self, chunk: bytes) -> None:
        chunk = chunk.translate(None, _FLOW)
        if not chunk:
            return
        if _CAN5 in chunk or _CAN5 in self._tail + chunk[:4]:
            self.cancelled = True
        self._tail = chunk[-4:] if len(chunk) >= 4 else (self._tail + chunk)[-4:]
        self.buf += chunk

    def drop(self, n: int) -> None:
        del self.buf[:n]
        self._searched = 0

    # headers

    def header(self) -> tuple[Header, int] | None:
        """The next header and its kind (ZHEX, ZBIN or ZBIN32), or None until a whole one
        is in. Bytes before a header are dropped; Garbled (the bad header dropped) when a
        header does not decode."""
        buf = self.buf
        self._crlf = 0
        self._searched = 0
        self._garbled = None
        match = _HEADER_START.search(buf)
        if match is None:
            # Keep what may be the start of a header cut off by the end of the buffer.
            last = buf[-1] if buf else -1
            keep = 0
            if last in (ZPAD, ZPAD | 0x80):
                keep = 1
            elif last == ZDLE and len(buf) > 1 and buf[-2] in (ZPAD, ZPAD | 0x80):
                keep = 2
            if len(buf) > keep:
                self.drop(len(buf) - keep)
            return None
        if match.start():
            self.drop(match.start())
        kind = buf[2]
        if kind == ZHEX:
            return self._hex_header()
        try:
            taken = _take_escaped(buf, 3, 9 if kind == ZBIN32 else 7)
        except Garbled:
            self.drop(3)
            raise
        if taken is None:
            return None
        raw, stop = taken
        self.drop(stop)
        body, check = raw[:5], raw[5:]
        if check != (_crc32(body) if kind == ZBIN32 else _crc16(body)):
            raise Garbled("bad CRC on a binary header")
        return Header(body[0], body[1:]), kind

    def _hex_header(self) -> tuple[Header, int] | None:
        buf = self.buf
        if len(buf) < 17:
            return None
        digits = bytes(buf[3:17]).translate(_STRIP_PARITY)
        if digits.translate(None, _HEX_DIGITS):
            self.drop(3)
            raise Garbled("bad hex header")
        raw = bytes.fromhex(digits.decode("ascii"))
        stop = 17
        pending = 2
        if stop < len(buf) and buf[stop] & 0x7F == 0x0D:
            stop += 1
            pending = 1
        if stop < len(buf):
            pending = 0
            if buf[stop] & 0x7F == 0x0A:
                stop += 1
        self.drop(stop)
        if raw[5:] != _crc16(raw[:5]):
            raise Garbled("bad CRC on a hex header")
        self._crlf = pending
        return Header(raw[0], raw[1:5]), ZHEX

    # data subpackets

    def _skip_crlf(self) -> bool:
        """Drop the CR LF still due after a hex header; False while they may yet come."""
        buf = self.buf
        while self._crlf and buf:
            if buf[0] & 0x7F not in (0x0D, 0x0A):
                self._crlf = 0
                break
            del buf[0]
            self._crlf -= 1
        return not self._crlf

    def subpackets(self, crc32: bool) -> list[Subpacket]:
        """The data subpackets wholly in, up to the first that ends with other than
        ZCRCG (that one included); [] until one is. Garbled when the first does not
        decode (what was read of it dropped); one that fails after good ones ends the
        list and is reported by the next call. (One call per batch of the line, not
        per subpacket: this is an upload's inner loop.)"""
        pending = self._garbled
        if pending is not None:
            self._garbled = None
            raise pending
        if not self._skip_crlf():
            return []
        buf = self.buf
        width = 4 if crc32 else 2
        order: Literal["little", "big"] = "little" if crc32 else "big"
        crc_of = zlib.crc32 if crc32 else _crc16_of
        search = _FRAME_END.search
        got: list[Subpacket] = []
        pos = 0
        searched = self._searched
        error: Garbled | None = None
        while True:
            match = search(buf, max(pos, searched))
            if match is None:
                if len(buf) - pos > _MAX_ESCAPED:
                    pos, error = len(buf), Garbled("data subpacket too long")
                else:
                    searched = max(pos, len(buf) - 1)
                break
            at = match.start()
            if at - pos > _MAX_ESCAPED:
                pos, error = at, Garbled("data subpacket too long")
                break
            start = at + 2
            check = bytes(buf[start : start + width])
            stop = start + width
            if len(check) < width or ZDLE in check:
                try:
                    taken = _take_escaped(buf, start, width)
                except Garbled as e:
                    pos, error = start, e
                    break
                if taken is None:
                    searched = at
                    break
                check, stop = taken
            end = buf[at + 1]
            body = bytes(buf[pos:at])
            pos = stop
            try:
                data = _unescape(body)
            except Garbled as e:
                error = e
                break
            if crc_of(_END_BYTE[end], crc_of(data)).to_bytes(width, order) != check:
                error = Garbled("bad CRC on a data subpacket")
                break
            got.append(Subpacket(data, end))
            if end != _ZCRCG:
                break
        self.drop(pos)
        self._searched = max(0, searched - pos)
        if error is not None:
            if not got:
                raise error
            self._garbled = error
        return got

    def subpacket(self, crc32: bool) -> Subpacket | None:
        """The next data subpacket, or None until a whole one is in; Garbled (with what
        was read of it dropped) when it does not decode."""
        buf = self.buf
        if not self._skip_crlf():
            return None
        match = _FRAME_END.search(buf, self._searched)
        if match is None:
            if len(buf) > _MAX_ESCAPED:
                self.drop(len(buf))
                raise Garbled("data subpacket too long")
            self._searched = max(0, len(buf) - 1)
            return None
        at = match.start()
        if at > _MAX_ESCAPED:
            self.drop(at)
            raise Garbled("data subpacket too long")
        end = buf[at + 1]
        try:
            taken = _take_escaped(buf, at + 2, 4 if crc32 else 2)
        except Garbled:
            self.drop(at + 2)
            raise
        if taken is None:
            self._searched = at
            return None
        check, stop = taken
        body = bytes(buf[:at])
        self.drop(stop)
        data = _unescape(body)
        if _subpacket_crc(data, end, crc32) != check:
            raise Garbled("bad CRC on a data subpacket")
        return Subpacket(data, end)


def _take_escaped(buf: bytearray, start: int, n: int) -> tuple[bytes, int] | None:
    """`n` bytes decoded from `buf[start:]` and where they stop; None if not all in yet."""
    if ZDLE not in buf[start : start + n]:
        if len(buf) < start + n:
            return None
        return bytes(buf[start : start + n]), start + n
    out = bytearray()
    i = start
    size = len(buf)
    while len(out) < n:
        if i >= size:
            return None
        byte = buf[i]
        if byte == ZDLE:
            if i + 1 >= size:
                return None
            plain = _UNESCAPED[buf[i + 1]]
            if plain is None:
                raise Garbled(f"bad escape ZDLE {buf[i + 1]:#04x}")
            out += plain
            i += 2
        else:
            out.append(byte)
            i += 1
    return bytes(out), i
