"""The PROXY protocol (HAProxy, versions 1 and 2): an incremental parser and the trust check.

The parser is a pure state machine: bytes in, then "need more", a header, or an error;
it never takes a byte past the header, which belongs to the telnet stream.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterable
from dataclasses import dataclass

V1_PREFIX = b"PROXY "
V1_MAX = 107
"""Longest v1 header, CR LF included (the specification's bound)."""
V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
V2_MAX_BODY = 2048
"""Longest v2 address block plus TLVs accepted; a longer length is refused, not awaited."""

Address = tuple[str, int]


@dataclass(frozen=True, slots=True)
class NeedMore:
    """The bytes so far are a valid beginning; send more."""


@dataclass(frozen=True, slots=True)
class Header:
    """A complete header: the caller's and the proxy's addresses, or None for LOCAL/UNKNOWN."""

    src: Address | None
    dst: Address | None
    version: int
    length: int
    """Bytes the header took; what follows is the telnet stream."""


@dataclass(frozen=True, slots=True)
class ProxyError:
    """Not a valid PROXY header; the connection must be closed."""

    reason: str


Result = NeedMore | Header | ProxyError
NEED_MORE = NeedMore()


class ProxyParser:
    """Feed it the connection's first bytes until it answers a Header or a ProxyError."""

    def __init__(self, max_body: int = V2_MAX_BODY) -> None:
        self._buffer = bytearray()
        self._max_body = max_body
        self.result: Result = NEED_MORE
        self.rest = b""
        """Bytes received after the header (the start of the telnet stream)."""

    def feed(self, data: bytes) -> Result:
        """Take more bytes; the outcome so far (final once it is not NeedMore)."""
        if not isinstance(self.result, NeedMore):
            return self.result
        self._buffer += data
        self.result = parse(bytes(self._buffer), self._max_body)
        if isinstance(self.result, Header):
            self.rest = bytes(self._buffer[self.result.length :])
            self._buffer.clear()
        elif isinstance(self.result, ProxyError):
            self._buffer.clear()
        return self.result


def parse(data: bytes, max_body: int = V2_MAX_BODY) -> Result:
    """Parse the start of a connection: the header it holds, an error, or NeedMore."""
    if data.startswith(V2_SIGNATURE):
        return _parse_v2(data, max_body)
    if data.startswith(V1_PREFIX):
        return _parse_v1(data)
    if V2_SIGNATURE.startswith(data[:12]) or V1_PREFIX.startswith(data[:6]):
        return NEED_MORE
    return ProxyError("no PROXY signature")


def _parse_v1(data: bytes) -> Result:
    end = data.find(b"\r\n", 0, V1_MAX)
    if end < 0:
        if len(data) >= V1_MAX:
            return ProxyError("v1 header longer than 107 bytes")
        if b"\n" in data or b"\x00" in data:
            return ProxyError("v1 header malformed")
        return NEED_MORE
    line = data[:end]
    if not line.isascii():
        return ProxyError("v1 header not ASCII")
    parts = line.decode("ascii").split(" ")
    length = end + 2
    if len(parts) >= 2 and parts[1] == "UNKNOWN":
        return Header(None, None, 1, length)
    if len(parts) != 6 or parts[1] not in ("TCP4", "TCP6"):
        return ProxyError("v1 header malformed")
    version = 4 if parts[1] == "TCP4" else 6
    src_ip, dst_ip = _ip(parts[2], version), _ip(parts[3], version)
    src_port, dst_port = _port(parts[4]), _port(parts[5])
    if src_ip is None or dst_ip is None or src_port is None or dst_port is None:
        return ProxyError("v1 address or port invalid")
    return Header((src_ip, src_port), (dst_ip, dst_port), 1, length)


def _ip(text: str, version: int) -> str | None:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    return str(address) if address.version == version else None


def _port(text: str) -> int | None:
    if not (text.isascii() and text.isdigit()) or len(text) > 5:
        return None
    if len(text) > 1 and text[0] == "0":
        return None
    value = int(text)
    return value if value <= 65535 else None


def _parse_v2(data: bytes, max_body: int) -> Result:
    if len(data) < 16:
        return NEED_MORE
    ver_cmd, family, body_len = data[12], data[13], struct.unpack("!H", data[14:16])[0]
    if ver_cmd >> 4 != 2:
        return ProxyError("v2 header with an unknown version")
    command = ver_cmd & 0x0F
    if command > 1:
        return ProxyError("v2 header with an unknown command")
    if body_len > max_body:
        return ProxyError("v2 header too long")
    length = 16 + body_len
    if len(data) < length:
        return NEED_MORE
    body = data[16:length]
    if command == 0:
        # LOCAL: the proxy's own connection (a health check); the socket's peer is right.
        return Header(None, None, 2, length)
    if family == 0x11:
        if body_len < 12:
            return ProxyError("v2 TCP4 address block too short")
        src_ip = str(ipaddress.IPv4Address(body[0:4]))
        dst_ip = str(ipaddress.IPv4Address(body[4:8]))
        src_port, dst_port = struct.unpack("!HH", body[8:12])
    elif family == 0x21:
        if body_len < 36:
            return ProxyError("v2 TCP6 address block too short")
        src_ip = str(ipaddress.IPv6Address(body[0:16]))
        dst_ip = str(ipaddress.IPv6Address(body[16:32]))
        src_port, dst_port = struct.unpack("!HH", body[32:36])
    elif family == 0x00:
        return Header(None, None, 2, length)
    else:
        return ProxyError("v2 header for a protocol other than TCP")
    # What follows the addresses is TLVs (SSL, unique id, ...): not needed here, skipped.
    return Header((src_ip, src_port), (dst_ip, dst_port), 2, length)


class Trusted:
    """The networks allowed to speak the PROXY protocol to this node."""

    def __init__(self, networks: Iterable[str]) -> None:
        self._networks = [ipaddress.ip_network(n, strict=False) for n in networks]

    def __contains__(self, host: object) -> bool:
        try:
            address = ipaddress.ip_address(str(host).split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self._networks)


def v1_header(src: Address, dst: Address) -> bytes:
    """A v1 header for `src` connecting to `dst` (for tests and tools)."""
    family = "TCP6" if ":" in src[0] else "TCP4"
    return f"PROXY {family} {src[0]} {dst[0]} {src[1]} {dst[1]}\r\n".encode("ascii")


def v2_header(src: Address | None, dst: Address | None = None, tlvs: bytes = b"") -> bytes:
    """A v2 header (PROXY over TCP, or LOCAL when `src` is None), for tests and tools."""
    if src is None:
        return V2_SIGNATURE + bytes([0x20, 0x00]) + struct.pack("!H", len(tlvs)) + tlvs
    dst = dst or (("::1", 23) if ":" in src[0] else ("127.0.0.1", 23))
    s, d = ipaddress.ip_address(src[0]), ipaddress.ip_address(dst[0])
    family = 0x21 if s.version == 6 else 0x11
    body = s.packed + d.packed + struct.pack("!HH", src[1], dst[1]) + tlvs
    return V2_SIGNATURE + bytes([0x21, family]) + struct.pack("!H", len(body)) + body
