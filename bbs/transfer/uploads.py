"""The upload area: where files received from callers land.

Names come from the remote peer and are hostile. A received file is never stored under
the sender's name: it gets a generated id (`secrets.token_hex(16)`), and the sender's
name is only kept, sanitised, in the metadata next to it::

    root/.partial/<node>.<id>  bytes while they arrive (removed on abort or failure)
    root/<id>                  the file, once the protocol has confirmed its last byte
    root/<id>.json             its metadata, written last (temp + fsync + rename)

A file counts as received only once its `.json` exists; `cleanup_partials` (run at
start-up) removes what a crash left behind. Several nodes may share one area: each
names its unfinished files after itself and clears only its own.

Limits raise `UploadError`, a `TransferError` with a `code` ("too_big", "disk_full",
"too_many", "bad_name") for the session to localise; messages are one English line for
the logs.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import time
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Literal

from .channel import TransferError

if TYPE_CHECKING:
    from .channel import Incoming, Sink

ErrorCode = Literal["too_big", "disk_full", "too_many", "bad_name", "quota"]

PARTIAL_DIR = ".partial"
NAME_MAX = 64
"""Longest sanitised name, in code points."""
FALLBACK_NAME = "sans-nom"
ORIGINAL_MAX = 255
"""Code points of the name as received kept (escaped) in the metadata."""
PADDING = 1024
"""Bytes accepted past a declared size: one XMODEM-1K block of padding (dropped)."""
DISK_CHECK_EVERY = 1 << 20
"""Free space is checked at open and again after each MiB written."""
EXTENSION_MAX = 16
"""A suffix longer than this (dot included) is not treated as an extension when cutting."""
MTIME_MIN = 315532800
"""1980-01-01 UTC: an earlier sender date is taken as unknown (YMODEM sends 0)."""
MTIME_SLACK = 86400
"""A sender date up to a day in the future is accepted (clocks and time zones)."""

_ID = re.compile(r"[0-9a-f]{32}")
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Cn", "Co", "Zl", "Zp"})
"""Controls (C0, DEL, C1), format characters (bidi controls, zero-width, BOM, soft
hyphen), surrogates, unassigned and private-use code points, line/paragraph separators."""
_INVISIBLE = frozenset("\u034f\u115f\u1160\u3164\uffa0\u2800")
"""Blank-looking characters that are not format characters (the combining grapheme
joiner, Hangul fillers, the braille blank)."""
_RESERVED = str.maketrans(dict.fromkeys('<>:"|?*', "_"))
"""Characters that cannot be in a name on a caller's DOS/Windows machine."""
_DOS_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"COM{i}" for i in range(1, 10)}
    | {f"LPT{i}" for i in range(1, 10)}
)


class UploadError(TransferError):
    """An upload refused by a limit; `code` says which, for the session to localise."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code: ErrorCode = code


@dataclass(frozen=True, slots=True)
class Upload:
    """A committed upload: its id, sanitised name, size, SHA-256 (hex) and stored path."""

    id: str
    name: str
    size: int
    sha256: str
    path: Path


# --- names ---------------------------------------------------------------------------


def _repair_utf8(name: str) -> str:
    """YMODEM decodes header names as Latin-1: undo that when the bytes were UTF-8."""
    if name.isascii():
        return name
    try:
        return name.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return name


_ESCAPES = re.compile(
    r"(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC ... BEL/ST (OSC 52)
    r"|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"  # CSI (colours, cursor, clear screen)
    r"|\x1b[ -/]*[0-~]"  # other ESC sequences
)
"""Terminal escape sequences, removed whole so that no half of one is left in a name."""


def _visible(text: str) -> str:
    return "".join(
        " " if unicodedata.category(c) == "Zs" else c
        for c in text
        if unicodedata.category(c) not in _DROPPED_CATEGORIES and c not in _INVISIBLE
    )


def _trim(text: str) -> str:
    """No leading dots or spaces (hidden files), no trailing ones (DOS drops them)."""
    return text.lstrip(". ").rstrip(". ")


def _cap(name: str, limit: int) -> str:
    """`name` cut to `limit` code points, its extension kept when it has a short one."""
    if len(name) <= limit:
        return name
    stem, dot, ext = name.rpartition(".")
    if dot and stem and len(ext) + 1 <= EXTENSION_MAX:
        suffix = "." + ext
        return _trim(stem[: limit - len(suffix)]) + suffix
    return name[:limit]


def sanitize_name(name: str) -> str:
    """A harmless display name for what the sender called its file.

    Directories (`/`, `\\`, drive letters) go, as do control characters (C0, DEL, C1),
    bidi and zero-width characters, leading dots and spaces; the result is NFC,
    at most 64 code points (the extension survives the cut) and never empty
    ("sans-nom").
    """
    text = _ESCAPES.sub("", _repair_utf8(name))
    text = _visible(unicodedata.normalize("NFC", text))
    text = unicodedata.normalize("NFC", text)
    # The last path component, whichever convention the sender used.
    text = re.split(r"[/\\]", text)[-1]
    text = re.sub(r"^[A-Za-z]:", "", text)
    text = " ".join(text.translate(_RESERVED).split())
    text = _trim(text)
    stem = text.split(".", 1)[0].rstrip(" ")
    if stem.upper() in _DOS_DEVICES:
        text = "_" + text
    text = _trim(_cap(text, NAME_MAX))
    # Removing characters can expose dots and spaces again; what is left is visible.
    return text or FALLBACK_NAME


def _escaped_original(name: str) -> str:
    """The name as received, capped and printable (Python escapes for anything odd)."""
    capped = name[:ORIGINAL_MAX]
    escaped = "".join(
        c
        if c != "\\" and c.isprintable() and unicodedata.category(c) not in _DROPPED_CATEGORIES
        # ascii() escapes the one character (a backslash too); the quotes it adds go.
        else ascii(c)[1:-1]
        for c in capped
    )
    return escaped + ("..." if len(name) > ORIGINAL_MAX else "")


def _plausible_mtime(mtime: int | None) -> int | None:
    if mtime is None or not MTIME_MIN <= mtime <= time.time() + MTIME_SLACK:
        return None
    return mtime


# --- files ---------------------------------------------------------------------------


def _fsync_dir(path: Path) -> None:
    """Make renames in `path` durable (POSIX; a no-op where directories cannot open)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _free_bytes(root: Path) -> int:
    # Looked up on the module each time so that tests can substitute it.
    return shutil.disk_usage(root).free


def _inside(root: Path, path: Path) -> Path:
    """`path` resolved, checked to be directly or deeply inside the resolved `root`."""
    resolved = path.resolve()
    if not resolved.is_relative_to(root) or resolved == root:
        raise UploadError("bad_name", f"refusing to write outside the upload area: {path}")
    return resolved


def cleanup_partials(root: Path, node: str = "") -> int:
    """Remove what interrupted uploads left (run at start-up); the number removed.

    In `root/.partial`, this node's files go (`<node>.<id>`; every file when `node` is
    empty), and so does anything not named after a node; another node's files stay, as
    that node may still be receiving them. A stored file whose metadata was never
    written (a crash in the middle of `commit`) goes too. Committed uploads stay.
    """
    removed = 0
    partial = root / PARTIAL_DIR
    if partial.is_dir() and not partial.is_symlink():
        for entry in partial.iterdir():
            owner, dot, rest = entry.name.partition(".")
            if node and dot and _ID.fullmatch(rest.removesuffix(".json")) and owner != node:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                _unlink(entry)
            removed += 1
    if root.is_dir():
        for entry in root.iterdir():
            if (
                _ID.fullmatch(entry.name)
                and (entry.is_symlink() or entry.is_file())
                and not entry.with_name(entry.name + ".json").exists()
            ):
                _unlink(entry)
                removed += 1
    return removed


class UploadArea:
    """The `Incoming` for one caller's upload batch: stores files under generated ids.

    `max_file_size` caps each file (declared size at open, bytes as they come);
    `min_free_bytes` is the disk space that must stay free; `max_files` caps the
    number of files one batch may hold.
    """

    def __init__(
        self,
        root: Path,
        *,
        max_file_size: int,
        min_free_bytes: int,
        max_files: int = 16,
        node: str = "",
        quota_bytes: int | None = None,
        quota_files: int | None = None,
    ) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root.resolve()
        self.node = node
        """This node's name, prefixed to its unfinished files (letters, digits, . _ -)."""
        self.partial_dir = self.root / PARTIAL_DIR
        if self.partial_dir.is_symlink():
            raise UploadError("bad_name", f"{self.partial_dir} is a symbolic link")
        self.partial_dir.mkdir(exist_ok=True)
        self.max_file_size = max_file_size
        self.min_free_bytes = min_free_bytes
        self.max_files = max_files
        self.quota_bytes = quota_bytes
        """Bytes the caller may still send today (None: no quota)."""
        self.quota_files = quota_files
        """Files the caller may still send today (None: no quota)."""
        self.received: list[Upload] = []
        """Committed uploads, in the order they completed."""
        self._active = 0

    def open(self, name: str, size: int | None, mtime: int | None) -> UploadSink:
        """A sink for the announced file; UploadError when a limit already refuses it."""
        shown = sanitize_name(name)
        if size is not None and size < 0:
            size = None  # nonsense from the header: treated as not announced
        if size is not None and size > self.max_file_size:
            raise UploadError(
                "too_big",
                f"{shown}: announced {size} bytes, over the {self.max_file_size}-byte limit",
            )
        if len(self.received) + self._active >= self.max_files:
            raise UploadError("too_many", f"{shown}: over the {self.max_files}-file batch limit")
        if self.quota_files is not None and len(self.received) + self._active >= self.quota_files:
            raise UploadError("quota", f"{shown}: over the caller's daily number of files")
        left = self.quota_left()
        if left is not None and (left <= 0 or (size is not None and size > left)):
            raise UploadError("quota", f"{shown}: over the caller's daily quota ({left} left)")
        self._check_space(shown, size or 0)
        upload_id = secrets.token_hex(16)
        prefix = f"{self.node}." if self.node else ""
        partial = _inside(self.root, self.partial_dir / f"{prefix}{upload_id}")
        final = _inside(self.root, self.root / upload_id)
        meta = _inside(self.root, self.root / f"{upload_id}.json")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(partial, flags | getattr(os, "O_BINARY", 0), 0o600)
        except OSError as e:
            raise UploadError("disk_full", f"{shown}: cannot create the file: {e.strerror}") from e
        self._active += 1
        return UploadSink(
            self,
            upload_id=upload_id,
            stream=os.fdopen(fd, "wb"),
            partial=partial,
            final=final,
            meta=meta,
            original=name,
            name=shown,
            declared=size,
            mtime=_plausible_mtime(mtime),
        )

    def quota_left(self) -> int | None:
        """Bytes this batch may still take under the daily quota (None: no quota)."""
        if self.quota_bytes is None:
            return None
        return self.quota_bytes - sum(r.size for r in self.received)

    def _check_space(self, shown: str, needed: int) -> None:
        """UploadError("disk_full") unless `needed` more bytes leave the floor free."""
        try:
            free = _free_bytes(self.root)
        except OSError as e:
            raise UploadError("disk_full", f"{shown}: cannot tell free space: {e}") from e
        if free - needed < self.min_free_bytes:
            raise UploadError("disk_full", f"{shown}: not enough disk space ({free} bytes free)")

    def _done(self, upload: Upload | None) -> None:
        self._active -= 1
        if upload is not None:
            self.received.append(upload)


class UploadSink:
    """One file arriving into an `UploadArea` (the `Sink` a receiver writes to)."""

    offset = 0
    """Resuming an upload is not offered: every file starts from its first byte."""

    def __init__(
        self,
        area: UploadArea,
        *,
        upload_id: str,
        stream: IO[bytes],
        partial: Path,
        final: Path,
        meta: Path,
        original: str,
        name: str,
        declared: int | None,
        mtime: int | None,
    ) -> None:
        self.area = area
        self.id = upload_id
        self.name = name
        self._stream: IO[bytes] | None = stream
        self._partial = partial
        self._final = final
        self._meta = meta
        self._original = original
        self._declared = declared
        self._mtime = mtime
        self._limit = declared + PADDING if declared is not None else area.max_file_size
        left = area.quota_left()
        self._quota = left + PADDING if left is not None else None
        """What the daily quota lets this file take, padding included."""
        self._received = 0
        """Bytes the sender sent, padding included (what the limits count)."""
        self._kept = 0
        """Bytes stored (at most the declared size)."""
        self._since_check = 0
        self._sha = hashlib.sha256()
        self._closed = False

    # -- Sink --

    def write(self, data: bytes) -> None:
        if self._closed or self._stream is None:
            raise TransferError(f"{self.name}: the upload is already over")
        self._received += len(data)
        if self._quota is not None and self._received > self._quota:
            self._fail()
            raise UploadError("quota", f"{self.name}: over the caller's daily quota")
        if self._received > self._limit:
            if self._declared is not None:
                why = f"more than the {self._declared} bytes announced"
            else:
                why = f"over the {self.area.max_file_size}-byte limit"
            self._fail()
            raise UploadError("too_big", f"{self.name}: {why}")
        if self._declared is not None:
            # Past the announced size, bytes are padding: counted, not kept.
            data = data[: max(0, self._declared - self._kept)]
        self._since_check += len(data)
        if self._since_check >= DISK_CHECK_EVERY:
            self._since_check = 0
            try:
                self.area._check_space(self.name, 0)
            except UploadError:
                self._fail()
                raise
        if not data:
            return
        try:
            self._stream.write(data)
        except OSError as e:
            self._fail()
            raise UploadError("disk_full", f"{self.name}: write failed: {e.strerror}") from e
        self._sha.update(data)
        self._kept += len(data)

    def commit(self) -> None:
        if self._closed or self._stream is None:
            raise TransferError(f"{self.name}: the upload is already over")
        stream, self._stream = self._stream, None
        try:
            stream.flush()
            os.fsync(stream.fileno())
            stream.close()
            metadata = self._metadata()
            temp = self._partial.with_name(self._partial.name + ".json")
            _write_synced(temp, json.dumps(metadata, ensure_ascii=True, indent=2) + "\n")
            os.replace(self._partial, self._final)
            os.replace(temp, self._meta)
            _fsync_dir(self.area.root)
        except OSError as e:
            with contextlib.suppress(OSError):
                stream.close()
            temp = self._partial.with_name(self._partial.name + ".json")
            for path in (self._final, self._meta, temp):
                _unlink(path)
            self._fail()
            raise UploadError("disk_full", f"{self.name}: could not be stored: {e.strerror}") from e
        self._closed = True
        self.area._done(
            Upload(
                id=self.id,
                name=self.name,
                size=self._kept,
                sha256=self._sha.hexdigest(),
                path=self._final,
            )
        )

    def abort(self) -> None:
        if not self._closed:
            self._fail()

    # -- inside --

    def _fail(self) -> None:
        """Close and remove the partial file; the sink is over."""
        if self._stream is not None:
            with contextlib.suppress(OSError):
                self._stream.close()
            self._stream = None
        _unlink(self._partial)
        if not self._closed:
            self._closed = True
            self.area._done(None)

    def _metadata(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "original_name": _escaped_original(self._original),
            "size": self._kept,
            "declared_size": self._declared,
            "sha256": self._sha.hexdigest(),
            "mtime": self._mtime,
            "received_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }


def _write_synced(path: Path, text: str) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


if TYPE_CHECKING:

    def _implements(area: UploadArea, sink: UploadSink) -> tuple[Incoming, Sink]:
        return area, sink  # mypy checks both protocols here
