"""``python -m bench --only transfers``: file transfer throughput through the board, with lrzsz
behind a bare telnetlib3 server beside it, and keystroke latency while the board sends.

Everything runs over real TCP telnet on this machine:

- **board**: ``bbs serve`` on a fresh SQLite database loaded from a temp copy of ``data/`` to
  which a note (`NOTE`) is added whose attached file is the payload (`size` bytes cycling
  through every byte value). A caller (`bench.client.TelnetClient`, terminal "dumb", BINARY
  agreed) types ``DL 99001 Z`` (``Y``, ``G``, ``1K``) at the main menu, or ``GO SERVICES``
  then ``UL Z`` ..., and relays the line to an lrzsz program (``rz -y`` ... ``sx -k FILE``)
  running in a temp folder: IAC doubling is undone on the way in and done on the way out.
- **reference**: the same lrzsz pairs through `bench.xfer_server` (its shell runs ``sz FILE``
  or ``rz`` ... with the program's stdio relayed to the connection).

A run is timed from the Enter that ends the command to the server's end-of-transfer line
(the board's "Transfert terminé", the reference's ``bench-xfer: done``), and also to the
caller's lrzsz program exiting (the file complete on the caller's side, or the sender done).
The file that arrived is checked against the payload's SHA-256 (download: the caller's temp
folder; upload: the newest ``*.json`` record in the board's upload folder, the reference's
receive folder).

While ZMODEM downloads run back to back through the board, `bench.typists` (a process of
its own) keeps N callers typing at the main menu and times every key to its echo and every
Enter to the next prompt; only keys sent while a download was under way count as "during".

Every wait has a timeout (a transfer with no byte moving either way for `stall` seconds, or
running over `limit` seconds, fails and is reported); lrzsz programs and servers run under
`bench.procs`, so they are stopped on failure, Ctrl-C or the harness's death.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import shutil
import statistics
import sys
import tempfile
import textwrap
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import procs, report
from bench.client import Disconnected, Match, TelnetClient, WaitTimeout, connect
from bench.markers import load_french, marker_of
from bench.xfer_server import DONE, PROMPT, READY, START

HOST = "127.0.0.1"
NOTE = 99001
"""The document number of the note the payload is attached to."""
SOURCE_NOTE = "10158-fr.txt"
"""The note copied (header changed) to make `NOTE`."""
PAYLOAD = "benchxfr.zip"
"""The payload's name (it need not be a zip: the board only stores and sends it)."""
DEFAULT_SIZE = 10 * 1024 * 1024
ROWS = 60
"""The callers' window height: the main menu fits without a "Suite" prompt (paged anyway)."""
CHUNK = 1 << 16
PIPE_HIGH = 1 << 18
"""Bytes queued to an lrzsz program's input before the socket stops being read."""
PROGRAM_SETTLE = 0.1
"""Seconds between starting the caller's program and the Enter (see `start_program`)."""
TAIL = 4096
"""The last bytes given to a program that are kept (see `Relayed`)."""
NOTE_FILE = f"{NOTE}FR.TXT"
"""The note as a text file, sent before the payload by batch downloads."""
SUB = 0x1A


@dataclass(frozen=True, slots=True)
class Protocol:
    """One protocol: its letter on the board and the lrzsz programs on each side."""

    name: str
    letter: str
    receive: tuple[str, ...]
    """The caller's program for a download (board or reference)."""
    ref_send: tuple[str, ...]
    """The reference server's program for a download (it adds the file)."""
    send: tuple[str, ...]
    """The caller's program for an upload (the file is added)."""
    ref_receive: tuple[str, ...]
    """The reference server's program for an upload; () when lrzsz has none."""
    xmodem: bool = False
    """No name or size travels: the file is `XMODEM_FILE`, padded with SUB to a block."""
    notes: tuple[str, str] = ("", "")
    """What to know about the download's and the upload's figures."""


XMODEM_FILE = "recv.bin"
PROTOCOLS: dict[str, Protocol] = {
    p.letter: p
    for p in (
        Protocol("ZMODEM", "Z", ("rz", "-y"), ("sz",), ("sz",), ("rz", "-y")),
        Protocol("YMODEM", "Y", ("rb", "-y"), ("sb", "-k"), ("sb",), ("rb", "-y")),
        Protocol(
            "YMODEM-G",
            "G",
            ("rb", "-y"),
            ("sb", "-k"),
            ("sb",),
            (),
            notes=(
                "rb cannot ask for -G, and the board follows the receiver: this is plain "
                "YMODEM, as is the reference",
                "no reference: rb cannot receive YMODEM-G (sb runs -G when the board asks)",
            ),
        ),
        Protocol("XMODEM-1K", "1K", ("rx", "-c"), ("sx", "-k"), ("sx", "-k"), ("rx", "-c"), True),
    )
}
"""By board letter. Reference downloads send 1 KiB blocks (``sb -k``, ``sx -k``) as the board
does; uploads use the same sending program on both sides."""
DIRECTIONS = ("download", "upload")


class TransferFailed(Exception):
    """One run that did not complete; the message says where and why."""


@dataclass(frozen=True, slots=True)
class Settings:
    """The transfer part of the command line."""

    size: int = DEFAULT_SIZE
    protocols: tuple[str, ...] = ("Z", "Y", "G", "1K")
    repeat: int = 3
    budget: float = 30.0
    """Seconds a row may take before it is not repeated any more."""
    typists: int = 20
    load_seconds: float = 10.0
    key_gap: float = 0.05
    """Mean seconds between a typist's keys."""
    timeout: float = 15.0
    """Seconds any prompt may take; also a transfer's longest silence."""
    limit: float = 300.0
    """Seconds a single transfer may take in all."""
    probe: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "protocols": list(self.protocols),
            "repeat": self.repeat,
            "budget_s": self.budget,
            "typists": self.typists,
            "load_seconds": self.load_seconds,
            "key_gap_s": self.key_gap,
            "timeout": self.timeout,
            "limit": self.limit,
            "probe": self.probe,
        }


# ---------------------------------------------------------------------- payload and markers


def payload(size: int) -> bytes:
    """`size` bytes cycling through all 256 values (0xFF, ZDLE, XON, CAN... all in)."""
    return (bytes(range(256)) * (size // 256 + 1))[:size]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_data_dir(target: Path, size: int) -> None:
    """A copy of the repository's ``data/`` with note `NOTE` and its `size`-byte file added."""
    shutil.copytree(procs.REPO / "data", target)
    (target / "files" / PAYLOAD).write_bytes(payload(size))
    lines = (target / "library" / SOURCE_NOTE).read_text(encoding="utf-8").splitlines()
    header = {"Document": f"Document: {NOTE}", "Fichier": f"Fichier: {PAYLOAD}"}
    out, seen = [], set()
    for line in lines:
        key = line.split(":", 1)[0]
        if key in header and key not in seen:
            seen.add(key)
            out.append(header[key])
        else:
            out.append(line)
    if "Fichier" not in seen:  # the header ends at the first blank line
        out.insert(out.index(""), header["Fichier"])
    (target / "library" / f"{NOTE}-fr.txt").write_text("\n".join(out) + "\n", encoding="utf-8")


BATCH_FIRST = 99101
"""The first of the ten small notes tagged and downloaded as one ZMODEM batch."""
BATCH_NOTES = 10
BATCH_NOTE_BYTES = 4096


def add_batch_notes(target: Path) -> None:
    """Ten notes of about `BATCH_NOTE_BYTES` each (no attached file) in a data copy."""
    lines = (target / "library" / SOURCE_NOTE).read_text(encoding="utf-8").splitlines()
    head = lines[: lines.index("")]
    for i in range(BATCH_NOTES):
        number = BATCH_FIRST + i
        fields = [
            f"Document: {number}"
            if ln.startswith("Document:")
            else "Categorie: faq"  # a note with no file (a driver note must have one)
            if ln.startswith("Categorie:")
            else ln
            for ln in head
            if not ln.startswith("Fichier:")
        ]
        para = f"Note {number} du lot : texte de remplissage pour le banc d'essai. "
        body = (para * (BATCH_NOTE_BYTES // len(para) + 1))[:BATCH_NOTE_BYTES]
        text = "\n".join([*fields, "", "DESCRIPTION", "", *textwrap.wrap(body, 70)]) + "\n"
        (target / "library" / f"{number}-fr.txt").write_text(text, encoding="utf-8")


@dataclass(frozen=True, slots=True)
class BoardMarkers:
    """Plain-ASCII runs of the board's French strings that mark the steps of a transfer."""

    press_enter: list[bytes]
    menu: list[bytes]
    more: list[bytes]
    start: list[bytes]
    done: list[bytes]


def board_markers(repo: Path) -> BoardMarkers:
    strings = load_french(repo / "menus" / "strings")

    def of(*keys: str, fallback: str, last_word: bool = False) -> list[bytes]:
        found = [marker_of(strings[k]) for k in keys if k in strings]
        if last_word:  # the board wraps long lines: only the end of the line is sure
            found = [m.split()[-1] for m in found if m]
        return [m.encode("latin-1") for m in dict.fromkeys(found) if m] or [fallback.encode()]

    return BoardMarkers(
        press_enter=of("board.press_enter", fallback="Appuyez sur Entr"),
        menu=of("board.prompt", "board.prompt_keys", fallback="Votre choix ("),
        more=of("board.more", fallback="-- Suite ("),
        start=of(
            "xfer.start", "xfer.start_z", "xfer.send_now", fallback="annuler.", last_word=True
        ),
        done=of("xfer.done", fallback="Transfert termin"),
    )


async def to_menu(client: TelnetClient, markers: BoardMarkers, timeout: float) -> None:
    """Wait for the menu's prompt, paging on (space) past "Suite" prompts."""
    for _ in range(20):
        match = await client.wait_for(markers.menu + markers.more, timeout)
        if match.index < len(markers.menu):
            return
        client.send(b" ")
    raise WaitTimeout("still paging after 20 pages")


# ---------------------------------------------------------------------- the relay


@dataclass(frozen=True, slots=True)
class Relayed:
    """How a relay ended: the program's status, when it exited, and the last bytes it was
    given (with the time they came), where a server's closing line may hide if it came
    before the program was seen to exit."""

    status: int
    ended: float
    tail: bytes
    tail_at: float


async def start_program(program: Sequence[str], cwd: Path, log: Path) -> Process:
    """Start an lrzsz program with its stdio as pipes (read only once the transfer starts).

    It is started `PROGRAM_SETTLE` before the command's Enter: lrzsz throws away the input
    waiting when it starts, so a program started after the server's first byte (a
    receiver's 'C' or NAK) would miss it and wait for the server to repeat it (10 s).
    """
    path = shutil.which(program[0])
    if path is None:
        raise TransferFailed(f"{program[0]} is not installed (make setup installs lrzsz)")
    return await procs.spawn([path, *program[1:]], log=log, pipes=True, cwd=cwd)


async def relay(
    client: TelnetClient, proc: Process, early: bytes, stall: float, limit: float
) -> Relayed:
    """Join the connection to an lrzsz program until it exits.

    TransferFailed when nothing moves either way for `stall` seconds, the whole takes over
    `limit`, or the connection drops; the program is stopped in every case.
    """
    assert proc.stdin is not None and proc.stdout is not None and client.transport is not None
    stdin, stdout, transport = proc.stdin, proc.stdout, client.transport
    loop = asyncio.get_running_loop()
    last = [loop.time()]
    tail = bytearray()
    tail_at = [0.0]
    resuming: list[asyncio.Task[None]] = []

    async def resume() -> None:
        with contextlib.suppress(ConnectionError):
            await stdin.drain()
        if not transport.is_closing():
            transport.resume_reading()

    def into_program(data: bytes) -> None:
        last[0] = loop.time()
        tail_at[0] = time.perf_counter()
        tail.extend(data)
        if len(tail) > TAIL:
            del tail[:-TAIL]
        if stdin.is_closing():
            return
        stdin.write(data)
        waiting = stdin.transport.get_write_buffer_size()
        if waiting > PIPE_HIGH and not (resuming and not resuming[-1].done()):
            transport.pause_reading()
            resuming.append(asyncio.create_task(resume()))

    async def out_of_program() -> None:
        while chunk := await stdout.read(CHUNK):
            last[0] = loop.time()
            client.send(chunk)  # IAC doubled
            await client.drain()

    client.sink = into_program
    into_program(early)
    pump = asyncio.create_task(out_of_program())
    started = loop.time()
    try:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(proc.wait()), 0.25)
            if proc.returncode is not None:
                ended = time.perf_counter()
                break
            now = loop.time()
            if pump.done() and pump.exception() is not None:
                raise TransferFailed(f"line lost: {pump.exception()}")
            if client.closed.done():
                raise TransferFailed("the server hung up during the transfer")
            if now - last[0] > stall:
                raise TransferFailed(f"nothing moved either way for {stall:g} s")
            if now - started > limit:
                raise TransferFailed(f"still running after {limit:g} s")
        with contextlib.suppress(TimeoutError, Disconnected, ConnectionError):
            await asyncio.wait_for(pump, 5)
        return Relayed(proc.returncode, ended, bytes(tail), tail_at[0])
    finally:
        client.sink = None
        pump.cancel()
        for task in resuming:
            task.cancel()
        if not transport.is_closing():
            transport.resume_reading()
        await procs.stop(proc, grace=1.0)


Process = asyncio.subprocess.Process


# ---------------------------------------------------------------------- one run


@dataclass
class Env:
    """What every run needs: where the servers listen, the payload, the folders."""

    settings: Settings
    board_port: int
    ref_port: int
    markers: BoardMarkers
    data: bytes
    digest: str
    source: Path
    """A folder holding the payload under its name, for the senders."""
    uploads: Path
    ref_recv: Path
    scratch: Path
    logdir: Path
    _runs: int = 0

    def folder(self) -> Path:
        self._runs += 1
        path = self.scratch / f"run-{self._runs:03d}"
        path.mkdir()
        return path


def _after_trigger(client: TelnetClient) -> bytes:
    """What came after the start line: it already belongs to the transfer."""
    early = bytes(client.buffer)
    client.buffer.clear()
    return early[2:] if early.startswith(b"\r\n") else early


def _program(env: Env, proto: Protocol, direction: str, name: str) -> tuple[str, ...]:
    """The caller's lrzsz command line."""
    if direction == "download":
        return proto.receive + ((XMODEM_FILE,) if proto.xmodem else ())
    return (*proto.send, name)


def _check(env: Env, path: Path | None, proto: Protocol) -> str:
    """'' when `path` holds the payload (XMODEM: plus SUB padding); what is wrong otherwise."""
    if path is None or not path.is_file():
        return "no file arrived"
    got = path.read_bytes()
    size = len(env.data)
    if proto.xmodem and len(got) >= size and set(got[size:]) <= {SUB}:
        got = got[:size]
    if sha256(got) != env.digest:
        return f"SHA-256 mismatch ({len(got)} bytes, expected {size})"
    return ""


def _received(folder: Path, proto: Protocol) -> Path | None:
    want = XMODEM_FILE if proto.xmodem else PAYLOAD
    return next((p for p in folder.iterdir() if p.name.lower() == want.lower()), None)


def _board_upload(env: Env, since: float, proto: Protocol) -> str:
    """Check the newest upload record made since `since`; its file is removed after."""
    records = sorted(
        (p for p in env.uploads.glob("*.json") if p.stat().st_mtime >= since - 1),
        key=lambda p: p.stat().st_mtime,
    )
    if not records:
        return "no upload record in the board's upload folder"
    meta = records[-1]
    record = json.loads(meta.read_text(encoding="utf-8"))
    stored = meta.with_suffix("")
    try:
        if record.get("sha256") == env.digest and record.get("size") == len(env.data):
            return ""
        return (
            _check(env, stored, proto)
            if proto.xmodem
            else (f"upload record says {record.get('size')} bytes, sha256 {record.get('sha256')}")
        )
    finally:
        stored.unlink(missing_ok=True)
        meta.unlink(missing_ok=True)


async def board_run(env: Env, proto: Protocol, direction: str) -> dict[str, Any]:
    """One transfer through the board; the figures, or a failure, as a dict."""
    s = env.settings
    m = env.markers
    folder = env.folder()
    src = env.source
    cwd = folder if direction == "download" else src
    step = "connect"
    client: TelnetClient | None = None
    proc: Process | None = None
    result: dict[str, Any] = {"target": "board", "protocol": proto.letter, "direction": direction}
    try:
        client = await connect(HOST, env.board_port, s.timeout, rows=ROWS)
        step = "welcome"
        await client.wait_for(m.press_enter + m.menu, s.timeout)
        client.discard()
        client.send(b"\rINVITE\r")  # past the welcome, then the sign-in prompt as a guest
        await to_menu(client, m, s.timeout)
        if direction == "upload":
            step = "GO SERVICES"
            client.discard()
            client.send(b"GO SERVICES\r")
            await to_menu(client, m, s.timeout)
        command = f"DL {NOTE} {proto.letter}" if direction == "download" else f"UL {proto.letter}"
        step = command
        client.discard()
        client.send(command.encode())
        await client.wait_for([command.encode()], s.timeout)  # typed and echoed: not timed
        program = _program(env, proto, direction, PAYLOAD)
        proc = await start_program(program, cwd, env.logdir / "xfer-peer.log")
        await asyncio.sleep(PROGRAM_SETTLE)
        client.discard()
        since = time.time()
        sent = client.send(b"\r")
        result["_sent"] = sent
        match = await client.wait_for(m.start + m.menu, s.timeout)
        if match.index >= len(m.start):
            raise TransferFailed(f"no transfer started: {_said(match.screen)}")
        step = "transfer"
        relayed = await relay(client, proc, _after_trigger(client), s.timeout, s.limit)
        status = relayed.status
        result["peer_s"] = relayed.ended - sent
        result["peer_status"] = status
        step = "end of transfer"
        match, at = await _end(client, relayed, m.done + m.menu, s.timeout)
        if match.index >= len(m.done):
            raise TransferFailed(f"the board said: {_said(match.screen)}")
        result["total_s"] = at - sent
        if status != 0:
            raise TransferFailed(f"{program[0]} exited with status {status}")
        step = "check"
        if direction == "download":
            wrong = _check(env, _received(folder, proto), proto)
        else:
            wrong = _board_upload(env, since, proto)
        if wrong:
            raise TransferFailed(wrong)
        result["ok"] = True
    except (TransferFailed, WaitTimeout, Disconnected, OSError) as exc:
        result["ok"] = False
        result["failure"] = f"{step}: {type(exc).__name__}: {exc}"[:400]
    finally:
        if proc is not None:
            await procs.stop(proc, grace=1.0)
        if client is not None:
            client.close()
        shutil.rmtree(folder, ignore_errors=True)
    return _rates(result, len(env.data))


async def batch_run(env: Env) -> dict[str, Any]:
    """Ten small notes tagged (untimed), then `DL Z`: Enter -> "Transfert terminé"."""
    s = env.settings
    m = env.markers
    folder = env.folder()
    step = "connect"
    client: TelnetClient | None = None
    proc: Process | None = None
    result: dict[str, Any] = {"notes": BATCH_NOTES, "bytes_each": BATCH_NOTE_BYTES}
    try:
        client = await connect(HOST, env.board_port, s.timeout, rows=ROWS)
        step = "welcome"
        await client.wait_for(m.press_enter + m.menu, s.timeout)
        client.discard()
        client.send(b"\rINVITE\r")
        await to_menu(client, m, s.timeout)
        for number in range(BATCH_FIRST, BATCH_FIRST + BATCH_NOTES):
            step = f"TAG {number}"
            client.discard()
            client.send(f"TAG {number}\r".encode())
            await client.wait_for([f"{number:05d}. DL Z".encode()], s.timeout)
        step = "DL Z"
        client.discard()
        client.send(b"DL Z")
        await client.wait_for([b"DL Z"], s.timeout)
        proc = await start_program(("rz", "-y"), folder, env.logdir / "xfer-peer.log")
        await asyncio.sleep(PROGRAM_SETTLE)
        client.discard()
        sent = client.send(b"\r")
        match = await client.wait_for(m.start + m.menu, s.timeout)
        if match.index >= len(m.start):
            raise TransferFailed(f"no transfer started: {_said(match.screen)}")
        step = "transfer"
        relayed = await relay(client, proc, _after_trigger(client), s.timeout, s.limit)
        result["peer_s"] = relayed.ended - sent
        step = "end of transfer"
        match, at = await _end(client, relayed, m.done + m.menu, s.timeout)
        if match.index >= len(m.done):
            raise TransferFailed(f"the board said: {_said(match.screen)}")
        result["total_s"] = at - sent
        if relayed.status != 0:
            raise TransferFailed(f"rz exited with status {relayed.status}")
        got = sorted(p.name.upper() for p in folder.iterdir())
        want = sorted(f"{n}FR.TXT" for n in range(BATCH_FIRST, BATCH_FIRST + BATCH_NOTES))
        if got != want:
            raise TransferFailed(f"received {got}, not the {BATCH_NOTES} notes")
        result["ok"] = True
    except (TransferFailed, WaitTimeout, Disconnected, OSError) as exc:
        result["ok"] = False
        result["failure"] = f"{step}: {type(exc).__name__}: {exc}"[:400]
    finally:
        if proc is not None:
            await procs.stop(proc, grace=1.0)
        if client is not None:
            client.close()
        shutil.rmtree(folder, ignore_errors=True)
    return result


async def reference_run(env: Env, proto: Protocol, direction: str) -> dict[str, Any]:
    """The same transfer with lrzsz on both ends of a bare telnetlib3 relay."""
    s = env.settings
    folder = env.folder()
    cwd = folder if direction == "download" else env.source
    step = "connect"
    client: TelnetClient | None = None
    proc: Process | None = None
    result: dict[str, Any] = {
        "target": "reference",
        "protocol": proto.letter,
        "direction": direction,
    }
    try:
        client = await connect(HOST, env.ref_port, s.timeout)
        step = "prompt"
        await client.wait_for([PROMPT], s.timeout)
        client.discard()
        server_side = proto.ref_send if direction == "download" else proto.ref_receive
        client.send(" ".join(server_side).encode() + b"\r")
        program = _program(env, proto, direction, PAYLOAD)
        proc = await start_program(program, cwd, env.logdir / "xfer-peer.log")
        step = "ready"
        await client.wait_for([READY], s.timeout)
        await asyncio.sleep(PROGRAM_SETTLE)
        client.discard()
        sent = client.send(b"\r")
        step = "start"
        await client.wait_for([START], s.timeout)
        step = "transfer"
        relayed = await relay(client, proc, _after_trigger(client), s.timeout, s.limit)
        status = relayed.status
        result["peer_s"] = relayed.ended - sent
        result["peer_status"] = status
        step = "end of transfer"
        _, at = await _end(client, relayed, [DONE], s.timeout)
        result["total_s"] = at - sent
        words = (await client.wait_for([b"\r\n"], s.timeout)).screen.split()
        server_status, server_folder = int(words[0]), words[1].decode() if len(words) > 1 else ""
        if status != 0 or server_status != 0:
            raise TransferFailed(f"exit status: caller {status}, server {server_status}")
        step = "check"
        if direction == "download":
            wrong = _check(env, _received(folder, proto), proto)
        else:
            there = env.ref_recv / server_folder
            wrong = _check(env, _received(there, proto), proto) if server_folder else "?"
            shutil.rmtree(there, ignore_errors=True)
        if wrong:
            raise TransferFailed(wrong)
        result["ok"] = True
    except (TransferFailed, WaitTimeout, Disconnected, OSError, ValueError, IndexError) as exc:
        result["ok"] = False
        result["failure"] = f"{step}: {type(exc).__name__}: {exc}"[:400]
    finally:
        if proc is not None:
            await procs.stop(proc, grace=1.0)
        if client is not None:
            client.close()
        shutil.rmtree(folder, ignore_errors=True)
    return _rates(result, len(env.data))


async def _end(
    client: TelnetClient, relayed: Relayed, markers: list[bytes], timeout: float
) -> tuple[Match, float]:
    """The server's end-of-transfer line, and when it came.

    A server may send it before the caller's program has exited (the reference does as
    soon as its own program ends), so it may be among the last bytes the program was
    given: those go back in front of the screen and, if a marker is in them, their arrival
    time counts.
    """
    tail = relayed.tail
    early = [i for i, marker in enumerate(markers) if marker in tail]
    if early:
        # Keep from the first marker on, so the program's bytes are not searched again.
        first = min(tail.find(markers[i]) for i in early)
        client.buffer[:0] = tail[first:]
    match = await client.wait_for(markers, timeout)
    return match, (relayed.tail_at if early else match.at)


def _said(screen: bytes) -> str:
    """The last lines of what a server showed, for a failure message."""
    text = screen.decode("latin-1", "replace").replace("\r", "")
    lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
    return " / ".join(lines[-3:])[:200] or "(nothing)"


def _rates(result: dict[str, Any], size: int) -> dict[str, Any]:
    result["bytes"] = size
    for key in ("total", "peer"):
        seconds = result.get(f"{key}_s")
        result[f"{key}_mb_s"] = size / seconds / 1e6 if result.get("ok") and seconds else None
    return result


# ---------------------------------------------------------------------- servers


async def _start(name: str, argv: list[str], log: Path, env: dict[str, str], port: int) -> Any:
    log.unlink(missing_ok=True)
    proc = await procs.spawn(argv, log=log, env=env)
    try:
        await procs.wait_listening(proc, log, HOST, port, 60.0)
    except RuntimeError as exc:
        await procs.stop(proc)
        tail = "\n    ".join(procs.tail(log, 8).splitlines())
        raise TransferFailed(f"{name} did not start: {exc}\n    {tail}") from None
    return proc


async def _probe(proc: Any, log: Path, count: int, reset: bool) -> dict[str, Any] | None:
    """The board's probe figures (dump number `count`), like harness.Server.probe_dump."""
    import signal

    if proc.returncode is not None:
        return None
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGUSR2)
    found: dict[str, Any] | None = None
    deadline = time.monotonic() + 10.0
    while time.monotonic() < deadline:
        lines = [
            ln
            for ln in log.read_text(encoding="utf-8", errors="replace").splitlines()
            if ln.startswith("BENCHPROBE ")
        ]
        if len(lines) >= count:
            found = json.loads(lines[count - 1].removeprefix("BENCHPROBE "))
            break
        await asyncio.sleep(0.05)
    if reset:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGUSR1)
    return found


BOARD_ENV = {
    "BBS_IDLE_TIMEOUT": "3600",
    "BBS_CONNECT_MAXWAIT": "2",
    "BBS_SHUTDOWN_GRACE": "0.5",
    "BBS_UPLOAD_MIN_FREE_BYTES": "1048576",
}


# ---------------------------------------------------------------------- load


@dataclass
class Load:
    """Keystroke latency while ZMODEM downloads run through the board."""

    windows: list[tuple[float, float]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)


async def keystrokes(env: Env, board_proc: Any, board_log: Path) -> dict[str, Any]:
    """Typists at the main menu while ZMODEM downloads run back to back; their figures."""
    s = env.settings
    m = env.markers
    spec = {
        "host": HOST,
        "port": env.board_port,
        "n": s.typists,
        "timeout": s.timeout,
        "press_enter": [x.decode("latin-1") for x in m.press_enter],
        "menu": [x.decode("latin-1") for x in m.menu],
        "more": [x.decode("latin-1") for x in m.more],
        "word": "belgique",
        "gap": s.key_gap,
        "seed": 1,
    }
    log = env.logdir / "xfer-typists.log"
    log.unlink(missing_ok=True)
    argv = [sys.executable, "-m", "bench.typists", json.dumps(spec)]
    proc = await procs.spawn(argv, log=log, pipes=True, limit=1 << 26)
    out: dict[str, Any] = {"typists": s.typists}
    load = Load()
    try:
        connected = await _expect(proc, "connected", s.timeout * 3 + 30, log)
        out["connected"] = connected
        dumps = 0
        if s.probe:
            dumps += 1
            await _probe(board_proc, board_log, dumps, reset=True)
        _tell(proc, "go")
        await asyncio.sleep(1.0)  # everybody typing before the first download
        started = time.perf_counter()
        while not load.runs or time.perf_counter() - started < s.load_seconds:
            run = await board_run(env, PROTOCOLS["Z"], "download")
            load.runs.append(run)
            if not run["ok"]:
                break
        await asyncio.sleep(0.5)
        _tell(proc, "stop")
        done = await _expect(proc, "done", s.timeout * 2 + 10, log)
        if s.probe:
            dumps += 1
            out["probe"] = await _probe(board_proc, board_log, dumps, reset=False)
        out.update(_split(done, load))
    except (TransferFailed, ValueError) as exc:
        out["error"] = str(exc)
    finally:
        if proc.stdin is not None:
            with contextlib.suppress(Exception):
                proc.stdin.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), 3.0)
        await procs.stop(proc)
    out["downloads"] = [_slim(r) for r in load.runs]
    return out


def _slim(run: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in run.items() if not k.startswith("_")}


def _split(done: dict[str, Any], load: Load) -> dict[str, Any]:
    """Samples sent while a download was under way ("during"), and the others."""
    windows = [
        (r["_sent"], r["_sent"] + r["peer_s"])
        for r in load.runs
        if r.get("_sent") is not None and r.get("peer_s") is not None
    ]

    def inside(at: float) -> bool:
        return any(a <= at <= b for a, b in windows)

    groups: dict[str, list[float]] = {}
    for kind, at, seconds in done.get("samples", []):
        when = "during" if inside(at) else "between"
        groups.setdefault(f"{kind}_{when}", []).append(seconds)
    return {
        "latency": {k: summary(v) for k, v in sorted(groups.items())},
        "window_s": sum(b - a for a, b in windows),
        "failures": done.get("failures", {}),
        "client_lag": done.get("client_lag", {}),
    }


def summary(values: list[float]) -> dict[str, float]:
    from bench.callers import summary as _summary

    return _summary(values)


def _tell(proc: Any, command: str) -> None:
    assert proc.stdin is not None
    proc.stdin.write(command.encode() + b"\n")


async def _expect(proc: Any, phase: str, timeout: float, log: Path) -> dict[str, Any]:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        try:
            if left <= 0:
                raise TimeoutError
            line = await asyncio.wait_for(proc.stdout.readline(), left)
        except TimeoutError:
            raise TransferFailed(
                f"typists did not finish '{phase}' within {timeout:.0f} s"
            ) from None
        if not line:
            await proc.wait()
            tail = "\n    ".join(procs.tail(log, 8).splitlines())
            raise TransferFailed(
                f"typists exited ({proc.returncode}) before '{phase}':\n    {tail}"
            )
        with contextlib.suppress(ValueError):
            message: dict[str, Any] = json.loads(line)
            if message.get("phase") == phase:
                return message


# ---------------------------------------------------------------------- the whole


def _side(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One side of a row: medians over the runs that completed, and why the others did not."""
    good = [r for r in runs if r.get("ok")]
    return {
        "runs": len(runs),
        "ok": len(good),
        "total_mb_s": statistics.median(r["total_mb_s"] for r in good) if good else None,
        "peer_mb_s": statistics.median(r["peer_mb_s"] for r in good) if good else None,
        "total_s": [round(r["total_s"], 4) for r in good],
        "failures": [r["failure"] for r in runs if not r.get("ok")],
    }


async def _row(env: Env, proto: Protocol, direction: str, rows: list[dict[str, Any]]) -> None:
    """Board and reference runs of one (protocol, direction), alternated; the row is in
    `rows` from the start and updated after each run (an interrupted run keeps it)."""
    s = env.settings
    board: list[dict[str, Any]] = []
    ref: list[dict[str, Any]] = []
    row: dict[str, Any] = {
        "protocol": proto.letter,
        "name": proto.name,
        "direction": direction,
        "board": _side(board),
        "reference": _side(ref),
        "peers": {
            "board": list(_program(env, proto, direction, "FILE")),
            "reference_server": list(
                (*proto.ref_send, "FILES") if direction == "download" else proto.ref_receive
            ),
        },
        "note": proto.notes[DIRECTIONS.index(direction)],
        "runs": [],
    }
    rows.append(row)
    started = time.monotonic()
    for _ in range(max(1, s.repeat)):
        board.append(_slim(await board_run(env, proto, direction)))
        _progress(board[-1])
        row.update(board=_side(board), runs=board + ref)
        if direction == "download" or proto.ref_receive:
            ref.append(_slim(await reference_run(env, proto, direction)))
            _progress(ref[-1])
            row.update(reference=_side(ref), runs=board + ref)
        if time.monotonic() - started > s.budget:
            break
        if not board[-1]["ok"] and not (ref and ref[-1]["ok"]):
            break


def _progress(run: dict[str, Any]) -> None:
    label = f"  {run['target']} {run['protocol']} {run['direction']}"
    if run.get("ok"):
        text = f"{run['total_mb_s']:.2f} MB/s ({run['total_s']:.2f} s; peer {run['peer_s']:.2f} s)"
    else:
        text = f"FAILED: {run.get('failure')}"
    print(f"{label}: {text}", file=sys.stderr, flush=True)


async def run(settings: Settings, logdir: Path, record: dict[str, Any]) -> None:
    """Set up, measure every row and the keystroke load; results go into `record` as they
    come (so an interrupted run still has what was measured)."""
    record.update(
        {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": report.machine(),
            "settings": settings.as_dict(),
            "rows": [],
            "load": None,
        }
    )
    bbs = str(procs.BIN / "bbs")
    if not Path(bbs).exists():
        record["error"] = f"{bbs} not found: run 'make setup' first"
        return
    missing = sorted(
        {p for proto in map(PROTOCOLS.__getitem__, settings.protocols) for p in _programs(proto)}
        - {p for p in ("sz", "rz", "sb", "rb", "sx", "rx") if shutil.which(p)}
    )
    if missing:
        record["error"] = f"lrzsz programs missing: {', '.join(missing)} (make setup installs them)"
        return
    logdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lotus-bench-xfer-") as tmp:
        root = Path(tmp)
        data = payload(settings.size)
        make_data_dir(root / "data", settings.size)
        add_batch_notes(root / "data")
        source = root / "source"
        source.mkdir()
        (source / PAYLOAD).write_bytes(data)
        # The board sends the note as a text file before its attached file (batch
        # protocols): the reference sends a file of that size too.
        note = (root / "data" / "library" / f"{NOTE}-fr.txt").read_bytes()
        (source / NOTE_FILE).write_bytes(note)
        for name in ("uploads", "ref", "scratch"):
            (root / name).mkdir()
        db = f"sqlite:///{root / 'bench.db'}"
        print("transfers: preparing the board ...", file=sys.stderr, flush=True)
        try:
            await procs.run_tool([bbs, "db", "upgrade", "--db", db], 180)
            await procs.run_tool([bbs, "load", str(root / "data"), "--db", db], 180)
        except RuntimeError as exc:
            record["error"] = f"board setup failed: {exc}"
            return
        board_port, ref_port = procs.free_port(HOST), procs.free_port(HOST)
        args = ["serve", "--host", HOST, "--port", str(board_port), "--db", db]
        if settings.probe:
            argv = [sys.executable, "-m", "bench.probe", "board", *args]
        else:
            argv = [bbs, *args]
        from bench.scale import limit_env

        board_env = {
            **BOARD_ENV,
            # Every caller comes from 127.0.0.1: the per-address cap would refuse the typists.
            **limit_env(settings.typists + 50),
            "BBS_DATA_DIR": str(root / "data"),
            "BBS_UPLOAD_DIR": str(root / "uploads"),
            "BBS_UPLOAD_MAX_BYTES": str(max(64 << 20, 2 * settings.size)),
        }
        board_log = logdir / "xfer-board.log"
        ref_log = logdir / "xfer-reference.log"
        board = ref = None
        try:
            board = await _start("board", argv, board_log, board_env, board_port)
            ref_argv = [
                sys.executable,
                "-m",
                "bench.xfer_server",
                "--host",
                HOST,
                "--port",
                str(ref_port),
                "--send-file",
                str(source / NOTE_FILE),
                "--send-file",
                str(source / PAYLOAD),
                "--recv-dir",
                str(root / "ref"),
            ]
            ref = await _start("reference server", ref_argv, ref_log, {}, ref_port)
            env = Env(
                settings=settings,
                board_port=board_port,
                ref_port=ref_port,
                markers=board_markers(procs.REPO),
                data=data,
                digest=sha256(data),
                source=source,
                uploads=root / "uploads",
                ref_recv=root / "ref",
                scratch=root / "scratch",
                logdir=logdir,
            )
            for letter in settings.protocols:
                for direction in DIRECTIONS:
                    print(
                        f"transfers: {PROTOCOLS[letter].name} {direction} ...",
                        file=sys.stderr,
                        flush=True,
                    )
                    await _row(env, PROTOCOLS[letter], direction, record["rows"])
            print(
                f"transfers: a batch of {BATCH_NOTES} notes by ZMODEM ...",
                file=sys.stderr,
                flush=True,
            )
            record["batch"] = [await batch_run(env) for _ in range(settings.repeat)]
            if settings.typists > 0:
                print(
                    f"transfers: {settings.typists} callers typing during ZMODEM downloads ...",
                    file=sys.stderr,
                    flush=True,
                )
                record["load"] = await keystrokes(env, board, board_log)
        except TransferFailed as exc:
            record["error"] = str(exc)
        finally:
            for proc in (board, ref):
                if proc is not None:
                    if proc.returncode is not None:
                        record.setdefault("server_exit", {})[str(proc.pid)] = proc.returncode
                    await procs.stop(proc)
        from bench.harness import scan_log

        record["board_log"] = scan_log(board_log)
        record["reference_log"] = scan_log(ref_log)


def _programs(proto: Protocol) -> set[str]:
    return {proto.receive[0], proto.ref_send[0], proto.send[0], *proto.ref_receive[:1]}


def parse_protocols(text: str) -> tuple[str, ...]:
    """``Z,Y,G,1K`` -> ('Z', 'Y', 'G', '1K'); ValueError naming what is unknown."""
    letters = tuple(dict.fromkeys(w.strip().upper() for w in text.split(",") if w.strip()))
    unknown = [w for w in letters if w not in PROTOCOLS]
    if unknown or not letters:
        raise ValueError(f"protocols are among {', '.join(PROTOCOLS)}; got {text!r}")
    return letters
