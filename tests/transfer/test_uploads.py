"""The upload area: hostile names, size caps, the disk floor, commit/abort, clean-up."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bbs.transfer import uploads
from bbs.transfer.channel import OutFile, TransferError
from bbs.transfer.uploads import (
    FALLBACK_NAME,
    NAME_MAX,
    UploadArea,
    UploadError,
    UploadSink,
    cleanup_partials,
    sanitize_name,
)

MiB = 1 << 20
ID = re.compile(r"[0-9a-f]{32}")

HOSTILE = [
    "../../etc/passwd",
    "/etc/passwd",
    "C:\\AUTOEXEC.BAT",
    "C:AUTOEXEC.BAT",
    "..\\..\\x",
    "a\x00b",
    "\x1b[2J\x1b[31mred.txt",
    "\x1b]52;c;cm0gLXJmIH4K\x07clip.txt",
    "\x9b31mc1.txt",
    "x" * 10_000,
    "y" * 10_000 + ".zip",
    ".bashrc",
    "",
    "...",
    ". . .",
    "\u202etxt.exe",
    "\u200b\u200d\ufeff",
    "file\u2028name\r\n.txt",
    "CON",
]


def area(root: Path, **limits: int) -> UploadArea:
    settings = {"max_file_size": 64 * 1024, "min_free_bytes": 0} | limits
    return UploadArea(root, **settings)


def stored(root: Path) -> list[str]:
    """Everything under `root`, relative, sorted (directories included)."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def committed(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name != ".partial")


def partials(root: Path) -> list[str]:
    return sorted(p.name for p in (root / ".partial").iterdir())


def forbidden(c: str) -> bool:
    """What no sanitised name may hold: controls, format (bidi, zero-width), separators."""
    return unicodedata.category(c) in {"Cc", "Cf", "Cs", "Zl", "Zp"} or c in "/\\\0"


def check_name(name: str) -> None:
    assert name
    assert len(name) <= NAME_MAX
    assert not any(forbidden(c) for c in name), ascii(name)
    assert not name.startswith((".", " "))
    assert name == unicodedata.normalize("NFC", name)
    assert not name.endswith((".", " "))


class Received(NamedTuple):
    upload_id: str
    data: Path
    meta: dict[str, Any]


def receive(upload_area: UploadArea, name: str, data: bytes, **kw: Any) -> Received:
    sink = upload_area.open(name, kw.get("size", len(data)), kw.get("mtime"))
    assert isinstance(sink, UploadSink)
    for i in range(0, len(data), 1000):
        sink.write(data[i : i + 1000])
    sink.commit()
    path = upload_area.root / sink.id
    meta = json.loads(path.with_name(sink.id + ".json").read_text("ascii"))
    return Received(sink.id, path, meta)


# --- names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("/etc/passwd", "passwd"),
        ("C:\\AUTOEXEC.BAT", "AUTOEXEC.BAT"),
        ("C:AUTOEXEC.BAT", "AUTOEXEC.BAT"),
        ("..\\..\\x", "x"),
        ("a\x00b", "ab"),
        ("\x1b[2J\x1b[31mred.txt", "red.txt"),
        ("\x1b]52;c;cm0gLXJmIH4K\x07clip.txt", "clip.txt"),
        ("\x9b31mc1.txt", "c1.txt"),
        ("\x85nel\x9c\x7f.txt", "nel.txt"),
        (".bashrc", "bashrc"),
        ("  . hidden", "hidden"),
        ("", FALLBACK_NAME),
        ("...", FALLBACK_NAME),
        ("../..", FALLBACK_NAME),
        ("dir/", FALLBACK_NAME),
        ("\u202etxt.exe", "txt.exe"),
        ("a\u200bb\u200cc\u2066d\u2069\ufeff", "abcd"),
        ("e\u0301t\u0301e\u0301.txt", "\u00e9t\u0301\u00e9.txt"),  # NFC
        ("caf\u00c3\u00a9.txt", "caf\u00e9.txt"),  # UTF-8 bytes YMODEM read as Latin-1
        ("caf\u00e9.txt", "caf\u00e9.txt"),  # real Latin-1 stays as it is
        ("a  \t b.txt", "a b.txt"),
        ('what?<>|"*.txt', "what______.txt"),
        ("CON", "_CON"),
        ("nul.txt", "_nul.txt"),
        ("trailing. . ", "trailing"),
    ],
)
def test_names_are_sanitised(name: str, expected: str) -> None:
    assert sanitize_name(name) == expected
    check_name(sanitize_name(name))


def test_long_names_are_cut_to_64_keeping_the_extension() -> None:
    assert sanitize_name("x" * 10_000) == "x" * 64
    assert sanitize_name("y" * 10_000 + ".zip") == "y" * 60 + ".zip"
    # Not an extension: too long to be one.
    assert sanitize_name("a" * 70 + "." + "b" * 40) == ("a" * 70)[:64]
    # The cut leaves no trailing dot or space before the extension.
    cut = sanitize_name("a" * 59 + ". . . . . . .txt")
    assert len(cut) <= NAME_MAX and cut.endswith(".txt") and not cut[:-4].endswith((" ", "."))


@given(st.text(max_size=300))
@settings(max_examples=500)
def test_any_name_sanitises_to_something_harmless(name: str) -> None:
    check_name(sanitize_name(name))


@given(
    st.text(
        alphabet=st.sampled_from(
            list("/\\. :Ca\x00\x1b[]\x07\x9b\u202e\u200b\u0301\u2028\U000e0041\ud800é")
        ),
        max_size=80,
    )
)
@settings(max_examples=500)
def test_any_mix_of_the_nasty_characters_sanitises(name: str) -> None:
    check_name(sanitize_name(name))


@pytest.fixture(scope="module")
def shared_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield tmp_path_factory.mktemp("shared")


@given(name=st.text(max_size=200), mtime=st.none() | st.integers(-(2**40), 2**40))
@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_name_lands_inside_root_under_a_generated_id(
    shared_root: Path, name: str, mtime: int | None
) -> None:
    root = shared_root.resolve()
    got = receive(area(root), name, b"payload", mtime=mtime)
    assert ID.fullmatch(got.upload_id)
    assert got.data.parent == root and got.data.resolve().parent == root
    assert got.data.read_bytes() == b"payload"
    assert got.meta["name"] == sanitize_name(name)
    check_name(got.meta["name"])
    original = got.meta["original_name"]
    assert original.isprintable() and len(original) <= 255 * 10 + 3
    assert got.meta["mtime"] is None or 315532800 <= got.meta["mtime"] <= 2**33
    assert partials(root) == []


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_are_stored_only_inside_root(tmp_path: Path, name: str) -> None:
    root = tmp_path / "uploads"
    outside = sorted(str(p) for p in tmp_path.rglob("*"))
    upload_area = area(root)
    got = receive(upload_area, name, b"data")
    assert sorted(os.listdir(root)) == sorted([".partial", got.upload_id, got.upload_id + ".json"])
    assert partials(root) == []
    # Nothing appeared beside the upload area.
    assert [p for p in sorted(str(p) for p in tmp_path.rglob("*")) if root.name not in p] == [
        p for p in outside if root.name not in p
    ]
    check_name(got.meta["name"])
    [upload] = upload_area.received
    assert upload.path == got.data and upload.name == got.meta["name"]


def test_the_original_name_is_kept_escaped_and_capped(tmp_path: Path) -> None:
    got = receive(area(tmp_path), "\x1b]52;c;aGk=\x07\u202e\\caf\u00e9.txt", b"")
    assert got.meta["original_name"] == "\\x1b]52;c;aGk=\\x07\\u202e\\\\caf\u00e9.txt"
    got = receive(area(tmp_path), "z" * 10_000, b"")
    assert got.meta["original_name"] == "z" * 255 + "..."


# --- commit and metadata ---------------------------------------------------------------


def test_commit_moves_the_file_and_writes_metadata(tmp_path: Path) -> None:
    upload_area = area(tmp_path)
    data = os.urandom(5000)
    sink = upload_area.open("report.wk3", len(data), 700_000_000)
    assert sink.offset == 0
    sink.write(data)
    # Nothing is complete before commit: the bytes are only in .partial.
    assert committed(tmp_path) == []
    assert partials(tmp_path) == [sink.id]
    assert upload_area.received == []
    sink.commit()
    assert partials(tmp_path) == []
    assert committed(tmp_path) == sorted([sink.id, sink.id + ".json"])
    stored_file = tmp_path / sink.id
    assert stored_file.read_bytes() == data
    meta = json.loads((tmp_path / f"{sink.id}.json").read_text("ascii"))
    digest = hashlib.sha256(data).hexdigest()
    assert meta["id"] == sink.id
    assert meta["name"] == "report.wk3"
    assert meta["original_name"] == "report.wk3"
    assert meta["size"] == 5000 and meta["declared_size"] == 5000
    assert meta["sha256"] == digest
    assert meta["mtime"] == 700_000_000
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", meta["received_at"])
    [upload] = upload_area.received
    assert upload == uploads.Upload(sink.id, "report.wk3", 5000, digest, stored_file)


@pytest.mark.parametrize("mtime", [None, 0, -1, 315532799, 2**40])
def test_implausible_sender_dates_are_dropped(tmp_path: Path, mtime: int | None) -> None:
    assert receive(area(tmp_path), "f", b"x", mtime=mtime).meta["mtime"] is None


def test_a_batch_keeps_every_file_apart(tmp_path: Path) -> None:
    upload_area = area(tmp_path)
    ids = {receive(upload_area, "same.txt", bytes([i]) * i).upload_id for i in range(5)}
    assert len(ids) == 5
    assert [u.size for u in upload_area.received] == [0, 1, 2, 3, 4]
    assert all(u.name == "same.txt" for u in upload_area.received)


def test_padding_past_the_declared_size_is_dropped(tmp_path: Path) -> None:
    got = receive(area(tmp_path), "f.txt", b"hello" + b"\x1a" * 123, size=5)
    assert got.data.read_bytes() == b"hello"
    assert got.meta["size"] == 5
    assert got.meta["sha256"] == hashlib.sha256(b"hello").hexdigest()


def test_without_a_size_everything_is_kept(tmp_path: Path) -> None:
    got = receive(area(tmp_path), "f.txt", b"hello" + b"\x1a" * 123, size=None)
    assert got.meta["size"] == 128 and got.meta["declared_size"] is None


def test_a_negative_size_counts_as_none(tmp_path: Path) -> None:
    got = receive(area(tmp_path), "f.txt", b"hello", size=-5)
    assert got.meta["size"] == 5 and got.meta["declared_size"] is None


def test_a_finished_sink_takes_nothing_more(tmp_path: Path) -> None:
    upload_area = area(tmp_path)
    sink = upload_area.open("f", 1, None)
    sink.write(b"x")
    sink.commit()
    sink.abort()  # after commit: harmless, the file stays
    assert (tmp_path / sink.id).read_bytes() == b"x"
    with pytest.raises(TransferError):
        sink.write(b"y")
    with pytest.raises(TransferError):
        sink.commit()


# --- abort -----------------------------------------------------------------------------


def test_abort_leaves_nothing(tmp_path: Path) -> None:
    upload_area = area(tmp_path)
    sink = upload_area.open("f.txt", 3000, None)
    sink.write(b"x" * 2000)
    sink.abort()
    sink.abort()
    assert stored(tmp_path) == [".partial"]
    assert upload_area.received == []
    with pytest.raises(TransferError):
        sink.commit()


# --- sizes -----------------------------------------------------------------------------


def test_a_declared_size_over_the_cap_is_refused_at_open(tmp_path: Path) -> None:
    with pytest.raises(UploadError) as caught:
        area(tmp_path, max_file_size=1000).open("big.zip", 1001, None)
    assert caught.value.code == "too_big"
    assert isinstance(caught.value, TransferError)
    assert "\n" not in str(caught.value) and "big.zip" in str(caught.value)
    assert stored(tmp_path) == [".partial"]


def test_the_cap_itself_is_allowed(tmp_path: Path) -> None:
    got = receive(area(tmp_path, max_file_size=1000), "f", b"x" * 1000)
    assert got.meta["size"] == 1000
    got = receive(area(tmp_path, max_file_size=1000), "g", b"x" * 1000, size=None)
    assert got.meta["size"] == 1000


def test_more_than_announced_is_refused_and_nothing_is_kept(tmp_path: Path) -> None:
    upload_area = area(tmp_path)
    sink = upload_area.open("small.txt", 1024, None)
    with pytest.raises(UploadError) as caught:
        for _ in range(10):
            sink.write(b"x" * 1024)
    assert caught.value.code == "too_big"
    assert stored(tmp_path) == [".partial"]
    sink.abort()  # what a receiver does next: harmless
    assert stored(tmp_path) == [".partial"]
    assert upload_area.received == []


def test_one_block_of_padding_past_the_size_is_tolerated(tmp_path: Path) -> None:
    upload_area = area(tmp_path)
    sink = upload_area.open("f", 1, None)
    sink.write(b"x" + b"\x1a" * 1024)
    with pytest.raises(UploadError):
        sink.write(b"\x1a")


def test_no_size_over_the_cap_is_refused_midstream(tmp_path: Path) -> None:
    upload_area = area(tmp_path, max_file_size=10_000)
    sink = upload_area.open("stream.bin", None, None)
    written = 0
    with pytest.raises(UploadError) as caught:
        while True:
            sink.write(b"z" * 1024)
            written += 1024
    assert caught.value.code == "too_big"
    assert written == 9 * 1024
    assert stored(tmp_path) == [".partial"]


# --- batch limit -----------------------------------------------------------------------


def test_more_than_max_files_is_refused(tmp_path: Path) -> None:
    upload_area = area(tmp_path, max_files=3)
    for i in range(2):
        receive(upload_area, f"f{i}", b"x")
    third = upload_area.open("f2", 1, None)  # in progress: counts
    with pytest.raises(UploadError) as caught:
        upload_area.open("f3", 1, None)
    assert caught.value.code == "too_many"
    third.abort()  # an aborted file frees its place
    receive(upload_area, "f3", b"x")
    with pytest.raises(UploadError):
        upload_area.open("f4", 1, None)
    assert len(upload_area.received) == 3


# --- disk ------------------------------------------------------------------------------


class FakeUsage(NamedTuple):
    total: int
    used: int
    free: int


def fake_free(monkeypatch: pytest.MonkeyPatch, free: list[int]) -> list[Path]:
    """shutil.disk_usage reports `free[0]` (change it as you go); the calls are recorded."""
    calls: list[Path] = []

    def disk_usage(path: Any) -> FakeUsage:
        calls.append(Path(path))
        return FakeUsage(1 << 40, (1 << 40) - free[0], free[0])

    monkeypatch.setattr(shutil, "disk_usage", disk_usage)
    return calls


def test_little_free_space_refuses_at_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = fake_free(monkeypatch, [5 * MiB])
    upload_area = area(tmp_path, min_free_bytes=10 * MiB, max_file_size=100 * MiB)
    with pytest.raises(UploadError) as caught:
        upload_area.open("f", None, None)
    assert caught.value.code == "disk_full"
    assert calls == [tmp_path.resolve()]
    assert stored(tmp_path) == [".partial"]


def test_a_declared_size_that_would_cross_the_floor_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_free(monkeypatch, [15 * MiB])
    upload_area = area(tmp_path, min_free_bytes=10 * MiB, max_file_size=100 * MiB)
    with pytest.raises(UploadError) as caught:
        upload_area.open("f", 6 * MiB, None)
    assert caught.value.code == "disk_full"
    upload_area.open("f", 4 * MiB, None).abort()


def test_the_floor_is_checked_every_mib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    free = [100 * MiB]
    calls = fake_free(monkeypatch, free)
    upload_area = area(tmp_path, min_free_bytes=10 * MiB, max_file_size=100 * MiB)
    sink = upload_area.open("f", None, None)
    chunk = b"\0" * (256 * 1024)
    for _ in range(8):
        sink.write(chunk)
    assert len(calls) == 3  # open, then after each MiB
    free[0] = 9 * MiB  # someone else filled the disk
    with pytest.raises(UploadError) as caught:
        for _ in range(4):
            sink.write(chunk)
    assert caught.value.code == "disk_full"
    assert stored(tmp_path) == [".partial"]
    assert upload_area.received == []


class FailingStream:
    """A file object whose writes fail like a full disk."""

    def __init__(self, real: Any, after: int) -> None:
        self.real = real
        self.left = after

    def write(self, data: bytes) -> int:
        if self.left < len(data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.left -= len(data)
        return int(self.real.write(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def test_an_os_error_on_write_removes_the_partial(tmp_path: Path) -> None:
    upload_area = area(tmp_path)
    sink = upload_area.open("f", 5000, None)
    sink._stream = FailingStream(sink._stream, after=2000)  # type: ignore[assignment]
    sink.write(b"a" * 2000)
    assert partials(tmp_path) == [sink.id]
    with pytest.raises(UploadError) as caught:
        sink.write(b"b" * 1000)
    assert caught.value.code == "disk_full"
    assert "No space left" in str(caught.value)
    assert stored(tmp_path) == [".partial"]
    sink.abort()
    assert upload_area.received == []
    # The area goes on taking files.
    receive(upload_area, "g", b"fine")


def test_an_os_error_while_committing_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    upload_area = area(tmp_path)
    sink = upload_area.open("f", 4, None)
    sink.write(b"data")
    real_replace = os.replace

    def replace(src: Any, dst: Any) -> None:
        if str(dst).endswith(".json"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(UploadError) as caught:
        sink.commit()
    assert caught.value.code == "disk_full"
    assert stored(tmp_path) == [".partial"]
    assert upload_area.received == []


# --- clean-up --------------------------------------------------------------------------


def test_cleanup_removes_orphans_and_keeps_committed_files(tmp_path: Path) -> None:
    upload_area = area(tmp_path)
    kept = receive(upload_area, "kept.txt", b"keep me")
    # A crash mid-upload: the sink is simply never finished.
    orphan = upload_area.open("orphan.txt", None, None)
    orphan.write(b"half")
    # A crash mid-commit: data moved, metadata never written.
    half_done = "ab" * 16
    (tmp_path / half_done).write_bytes(b"no metadata")
    (tmp_path / ".partial" / f"{'cd' * 16}.json").write_text("{}")
    (tmp_path / "README.txt").write_text("the sysop's own file")
    (tmp_path / ("ef" * 16)).mkdir()  # not a file of ours: left alone
    assert cleanup_partials(tmp_path) == 3
    assert partials(tmp_path) == []
    assert committed(tmp_path) == sorted(
        [kept.upload_id, kept.upload_id + ".json", "README.txt", "ef" * 16]
    )
    assert kept.data.read_bytes() == b"keep me"
    assert cleanup_partials(tmp_path) == 0


def test_a_node_starting_clears_only_its_own_unfinished_uploads(tmp_path: Path) -> None:
    # Two nodes share one upload area (docker-compose mounts one volume in both).
    first = UploadArea(tmp_path, max_file_size=1 << 20, min_free_bytes=0, node="node1")
    second = UploadArea(tmp_path, max_file_size=1 << 20, min_free_bytes=0, node="node2")
    crashed = first.open("crashed.txt", None, None)
    crashed.write(b"left by node1's crash")
    receiving = second.open("busy.txt", None, None)
    receiving.write(b"node2 is still receiving this")
    (tmp_path / ".partial" / "0123456789abcdef0123456789abcdef").write_bytes(b"older layout")
    assert cleanup_partials(tmp_path, "node1") == 2
    assert [p.name.split(".")[0] for p in (tmp_path / ".partial").iterdir()] == ["node2"]
    receiving.write(b" and the rest")
    receiving.commit()
    assert [m.name for m in tmp_path.glob("*.json")]


def test_cleanup_of_a_missing_area_is_harmless(tmp_path: Path) -> None:
    assert cleanup_partials(tmp_path / "nowhere") == 0


def test_a_planted_partial_symlink_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "uploads"
    root.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (root / ".partial").symlink_to(elsewhere)
    with pytest.raises(UploadError) as caught:
        area(root)
    assert caught.value.code == "bad_name"
    cleanup_partials(root)
    assert (root / ".partial").is_symlink()  # not followed, not emptied


# --- with a real receiver --------------------------------------------------------------


async def test_a_ymodem_batch_with_hostile_names_lands_in_the_area(tmp_path: Path) -> None:
    from bbs.transfer.ymodem import ymodem_receive, ymodem_send
    from tests.transfer.test_xmodem_failures import both
    from tests.transfer.test_xmodem_support import line

    source = tmp_path / "source.bin"
    source.write_bytes(os.urandom(3000))
    names = ["../../etc/passwd", "\x1b]52;c;aGk=\x07x.txt", "C:\\AUTOEXEC.BAT"]
    files = [OutFile(name, source) for name in names]
    root = tmp_path / "uploads"
    upload_area = area(root)
    sender_end, receiver_end = line()
    await both(ymodem_send(sender_end, files), ymodem_receive(receiver_end, upload_area))
    assert [u.name for u in upload_area.received] == ["passwd", "x.txt", "AUTOEXEC.BAT"]
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    for upload in upload_area.received:
        assert upload.path.parent == root.resolve()
        assert upload.size == 3000 and upload.sha256 == digest
        assert hashlib.sha256(upload.path.read_bytes()).hexdigest() == digest
    assert partials(root) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["source.bin", "uploads"]
