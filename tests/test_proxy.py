"""The PROXY protocol parser: valid v1 and v2 headers, refusals, and properties over any split."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bbs.telnet.proxy import (
    V2_SIGNATURE,
    Header,
    NeedMore,
    ProxyError,
    ProxyParser,
    Trusted,
    parse,
    v1_header,
    v2_header,
)


def test_v1_tcp4() -> None:
    result = parse(b"PROXY TCP4 203.0.113.7 10.0.0.1 51234 2323\r\nhello")
    assert result == Header(("203.0.113.7", 51234), ("10.0.0.1", 2323), 1, 44)


def test_v1_tcp6_and_unknown() -> None:
    result = parse(b"PROXY TCP6 2001:db8::7 2001:db8::1 40000 23\r\n")
    assert isinstance(result, Header) and result.src == ("2001:db8::7", 40000)
    assert parse(b"PROXY UNKNOWN\r\n") == Header(None, None, 1, 15)
    assert parse(b"PROXY UNKNOWN ff:: 1.2.3.4 junk\r\n") == Header(None, None, 1, 33)


@pytest.mark.parametrize(
    "header",
    [
        b"PROXY TCP4 203.0.113.7 10.0.0.1 51234\r\n",  # a field missing
        b"PROXY TCP4 2001:db8::7 10.0.0.1 1 2\r\n",  # family and address disagree
        b"PROXY TCP4 203.0.113.7 10.0.0.1 70000 23\r\n",  # port out of range
        b"PROXY TCP4 203.0.113.7 10.0.0.1 -1 23\r\n",
        b"PROXY TCP4 203.0.113.7 10.0.0.1 0023 23\r\n",  # leading zero
        b"PROXY TCP4  203.0.113.7 10.0.0.1 1 23\r\n",  # two spaces
        b"PROXY UDP4 203.0.113.7 10.0.0.1 1 23\r\n",
        b"PROXY TCP4 203.0.113.7 10.0.0.1 1 2\n",  # LF without CR
        b"PROXY " + b"A" * 120 + b"\r\n",  # longer than 107 bytes
        b"GET / HTTP/1.0\r\n",
        b"\xff\xfd\x18",  # a telnet client talking first
        V2_SIGNATURE + b"\x31\x11\x00\x0c" + bytes(12),  # version 3
        V2_SIGNATURE + b"\x22\x11\x00\x0c" + bytes(12),  # command 2
        V2_SIGNATURE + b"\x21\x12\x00\x0c" + bytes(12),  # UDP
        V2_SIGNATURE + b"\x21\x11\x00\x04" + bytes(4),  # address block too short
        V2_SIGNATURE + b"\x21\x11\xff\xff",  # 64 KiB announced: refused before it comes
    ],
)
def test_bad_headers_are_errors(header: bytes) -> None:
    assert isinstance(parse(header), ProxyError)


def test_v1_waits_then_gives_up_at_107_bytes() -> None:
    assert isinstance(parse(b"PROXY TCP4 1.2.3.4"), NeedMore)
    assert isinstance(parse(b"PROXY " + b"1" * 100), NeedMore)
    assert isinstance(parse(b"PROXY " + b"1" * 101), ProxyError)


def test_v2_tcp4_with_tlvs_skipped() -> None:
    tlvs = bytes([0x04]) + struct.pack("!H", 5) + b"hello"  # PP2_TYPE_NOOP
    data = v2_header(("198.51.100.9", 4242), ("10.0.0.1", 2323), tlvs) + b"\xff\xfb\x18"
    result = parse(data)
    assert isinstance(result, Header)
    assert (result.src, result.dst, result.version) == (
        ("198.51.100.9", 4242),
        ("10.0.0.1", 2323),
        2,
    )
    assert data[result.length :] == b"\xff\xfb\x18"


def test_v2_tcp6_and_local() -> None:
    result = parse(v2_header(("2001:db8::9", 1), ("2001:db8::1", 23)))
    assert isinstance(result, Header) and result.src == ("2001:db8::9", 1)
    local = parse(v2_header(None))
    assert local == Header(None, None, 2, 16)


def test_trusted_networks() -> None:
    trusted = Trusted(["127.0.0.1/32", "::1/128", "10.1.0.0/16"])
    assert "127.0.0.1" in trusted and "::1" in trusted and "10.1.200.3" in trusted
    assert "::ffff:127.0.0.1" in trusted  # an IPv4 peer on a dual-stack socket
    assert "127.0.0.2" not in trusted and "10.2.0.1" not in trusted
    assert "not an address" not in trusted


# ---------------------------------------------------------------- properties

ipv4 = st.ip_addresses(v=4).map(str)
ipv6 = st.ip_addresses(v=6).map(str)
port = st.integers(0, 65535)


@st.composite
def valid_headers(draw: st.DrawFn) -> bytes:
    version6 = draw(st.booleans())
    address = ipv6 if version6 else ipv4
    src, dst = (draw(address), draw(port)), (draw(address), draw(port))
    kind = draw(st.sampled_from(["v1", "v2", "v2tlv", "local"]))
    if kind == "v1":
        return v1_header(src, dst)
    if kind == "local":
        return v2_header(None)
    tlvs = b""
    if kind == "v2tlv":
        value = draw(st.binary(max_size=40))
        tlvs = bytes([draw(st.integers(0, 255))]) + struct.pack("!H", len(value)) + value
    return v2_header(src, dst, tlvs)


def split_feed(data: bytes, cuts: list[int]) -> tuple[object, ProxyParser, int]:
    """Feed `data` in pieces cut at `cuts`; the result, the parser, and bytes fed."""
    parser = ProxyParser()
    result: object = NeedMore()
    fed = 0
    for start, end in zip([0, *cuts], [*cuts, len(data)], strict=True):
        result = parser.feed(data[start:end])
        fed = end
        if not isinstance(result, NeedMore):
            break
    return result, parser, fed


@settings(max_examples=300, deadline=None)
@given(valid_headers(), st.binary(max_size=64), st.data())
def test_any_split_parses_the_same(header: bytes, rest: bytes, data: st.DataObject) -> None:
    whole = header + rest
    expected = parse(whole)
    assert isinstance(expected, Header) and expected.length == len(header)
    cuts = sorted(set(data.draw(st.lists(st.integers(0, len(whole)), max_size=8))))
    result, parser, fed = split_feed(whole, cuts)
    assert result == expected
    # Never past the header: what follows it comes back untouched.
    assert parser.rest + whole[fed:] == rest


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300), st.data())
def test_garbage_never_raises(garbage: bytes, data: st.DataObject) -> None:
    cuts = sorted(set(data.draw(st.lists(st.integers(0, len(garbage)), max_size=6))))
    result, _parser, _ = split_feed(garbage, cuts)
    assert isinstance(result, NeedMore | Header | ProxyError)
    if isinstance(result, Header):
        assert result.length <= len(garbage)


@settings(max_examples=300, deadline=None)
@given(valid_headers(), st.integers(0, 200), st.binary(min_size=1, max_size=8))
def test_corrupted_headers_never_raise(header: bytes, at: int, noise: bytes) -> None:
    at %= len(header)
    corrupted = header[:at] + noise + header[at + len(noise) :]
    assert isinstance(parse(corrupted), NeedMore | Header | ProxyError)


@given(st.binary(max_size=40))
def test_signature_prefixes_wait_for_more(tail: bytes) -> None:
    for n in range(len(V2_SIGNATURE)):
        assert isinstance(parse(V2_SIGNATURE[:n]), NeedMore)
    for n in range(6):
        assert isinstance(parse(b"PROXY "[:n]), NeedMore)
    if tail and not (V2_SIGNATURE.startswith(tail[:12]) or b"PROXY ".startswith(tail[:6])):
        assert isinstance(parse(tail), ProxyError)
