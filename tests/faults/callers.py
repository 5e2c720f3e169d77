"""Scripted callers that keep writing (forum posts, incidents, uploads) and note every write
the board confirmed on screen, so that a test can look for each one after a crash."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from tests.e2e.story import Line
from tests.faults.node import CONTACT, PASSWORD, POSTER, SPECIALIST, UPLOADER
from tests.telnet_client import Script, TelnetClient
from tests.transfer.peers import LRZSZ

PAGER = "Q pour quitter --"
"""The end of the pager's prompt line."""


class Gone(Exception):
    """The line closed (the node died or hung up) before the expected text came."""


class Call(Line):
    """A scripted dumb-terminal caller whose waits end early when the line drops."""

    peer: TelnetClient

    async def expect(self, text: str, timeout: float = 15.0, *, pages: bool = False) -> str:
        """Output up to `text`; with `pages`, pager prompts met on the way are answered
        with Q (a long incident history is paged)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            seen = self.transcript()
            found = seen.find(text, self.consumed)
            more = seen.find(PAGER, self.consumed) if pages else -1
            if more >= 0 and (found < 0 or more < found):
                self.consumed = more + len(PAGER)
                self.type("q")
                continue
            if found >= 0:
                end = found + len(text)
                chunk, self.consumed = seen[self.consumed : end], end
                return chunk
            if self.peer._task.done():
                raise Gone(text)
            if loop.time() > deadline:
                raise AssertionError(
                    f"{text!r} never came; since the last step:\n{seen[self.consumed :][-2000:]}"
                )
            await asyncio.sleep(0.01)

    async def choose(self, answer: str, until: str = "Votre choix") -> str:
        self.type(f"{answer}\r")
        return await self.expect(until)


async def call(port: int) -> Call:
    """A caller at the name prompt, past the welcome screen."""
    client = await TelnetClient.connect(port, Script(ttypes=["dumb"], rows=60))
    line = Call(client)
    try:
        await line.expect("Appuyez sur Entree")
        line.type("\r")
        await line.expect("Votre nom :")
    except BaseException:
        line.close()
        raise
    return line


async def signed_in(port: int, name: str) -> Call:
    """A caller signed in as `name`, at the index prompt."""
    line = await call(port)
    try:
        line.type(f"{name}\r")
        await line.expect("Mot de passe :")
        await line.choose(PASSWORD, "Votre choix")
    except BaseException:
        line.close()
        raise
    return line


@dataclass
class Ledger:
    """What one caller wrote: `acked` the board confirmed, `tried` it may or may not have kept."""

    acked: list[str] = field(default_factory=list)
    tried: list[str] = field(default_factory=list)
    working: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once the caller is past sign-in and writing."""


async def forum_poster(port: int, tag: str, ledger: Ledger) -> None:
    """Open new threads in the French forum again and again (a thread and its first post in
    one transaction); subject and body hold the same token."""
    line = await signed_in(port, POSTER)
    try:
        await line.choose("GO LOTFRA", "Section (numero")
        await line.choose("5", "Sujet (numero")
        ledger.working.set()
        for n in range(10_000):
            token = f"post-{tag}-{n}"
            await line.choose("N", "Sujet (Entree")
            await line.choose(token, "Tapez votre texte")
            ledger.tried.append(token)
            line.type(f"{token}\r.\r")
            await line.expect("Message publie")
            ledger.acked.append(token)
            await line.expect("Sujet (numero")
    finally:
        line.close()


async def incident_opener(port: int, tag: str, ledger: Ledger) -> None:
    """Open incidents one after the other under the unlimited contract; each summary is a
    token. The ledger holds `token` for each incident the board said it opened."""
    line = await signed_in(port, CONTACT)
    try:
        await line.choose("GO INCIDENTS")
        ledger.working.set()
        for n in range(10_000):
            token = f"inc-{tag}-{n}"
            await line.choose("O", "Votre choix (numero")
            await line.choose("2", "Version du produit")
            await line.choose("5.0", "Votre choix (numero")
            await line.choose("3", "Resume du probleme")
            await line.choose(token, "Tapez votre texte")
            line.type("Le recalcul ne finit jamais.\r.\r")
            await line.expect("Envoyer cet incident")
            ledger.tried.append(token)
            await line.choose("O", "ouvert")
            ledger.acked.append(token)
            await line.expect("Joindre des exemples")
            await line.choose("N", "Appuyez sur Entree")
            await line.choose("")
    finally:
        line.close()


async def incident_replier(port: int, tag: str, number: int, ledger: Ledger) -> None:
    """The specialist answers incident `number` again and again (an update of an existing
    row: its version, state and a new event); each answer holds a token."""
    line = await signed_in(port, SPECIALIST)
    try:
        await line.choose("GO INCIDENTS")
        await line.choose("C", "Incident a consulter")
        line.type(f"{number}\r")
        screen = await line.expect("Action (lettre", pages=True)
        if (
            "P : Prendre en charge" in screen
            or "Prendre en charge" in screen.split("Historique")[-1]
        ):
            # A new incident is answered only once a specialist has taken it.
            line.type("P\r")
            await line.expect("pris en charge")
            line.type("\r")
            await line.expect("Action (lettre", pages=True)
        ledger.working.set()
        for n in range(10_000):
            token = f"rep-{tag}-{n}"
            await line.choose("R", "Tapez votre texte")
            ledger.tried.append(token)
            line.type(f"{token}\r.\r")
            await line.expect("Reponse envoyee")
            ledger.acked.append(token)
            line.type("\r")
            await line.expect("Action (lettre", pages=True)
    finally:
        line.close()


def payload(name: str, size: int) -> bytes:
    """Bytes that differ from one file to the next (every byte value included)."""
    seed = hashlib.sha256(name.encode()).digest()
    block = bytes(range(256)) + seed
    return (block * (size // len(block) + 1))[:size]


async def uploader(port: int, tag: str, folder: Path, ledger: Ledger, size: int) -> None:
    """Send files by ZMODEM (the real `sz`) to the deposit screen again and again; each
    file name is a token, and its bytes are `payload(name, size)`."""
    line = await signed_in(port, UPLOADER)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        await line.choose("GO SERVICES", "Votre choix (")
        ledger.working.set()
        for n in range(10_000):
            name = f"up-{tag}-{n}.bin"
            (folder / name).write_bytes(payload(name, size))
            line.type("UL Z\r")
            await line.expect("annuler.")
            ledger.tried.append(name)
            code = await sz_through(line, folder, name)
            line.consumed = 0  # the relay took the line's record
            if code != 0:
                return
            await line.expect("Transfert termine")
            ledger.acked.append(name)
            await line.expect("Votre choix (")
    finally:
        line.close()


async def sz_through(
    line: Call,
    folder: Path,
    *names: str,
    timeout: float = 60,
    rate: int = 0,
    log: Path | None = None,
    heard: bytearray | None = None,
) -> int:
    """Run `sz` with the caller's line as its modem until it exits; its exit status.

    `rate` (bytes a second, 0: no limit) slows what `sz` sends, as a modem would; `log`
    keeps what `sz` said on stderr; `heard` gets every byte the board sent it. When the
    line drops, `sz` reads what came before, then is killed if it would rather retry."""
    client = line.peer
    path = LRZSZ["sz"]
    assert path, "sz is not installed (make setup installs lrzsz)"
    with contextlib.ExitStack() as files:
        stderr = files.enter_context(log.open("wb")) if log is not None else None
        process = await asyncio.create_subprocess_exec(
            path,
            *names,
            cwd=folder,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr or asyncio.subprocess.DEVNULL,
        )
    assert process.stdin and process.stdout
    stdin = process.stdin
    _, _, early = bytes(client.data).partition(b"annuler.\r\n")
    client.data.clear()

    # Bytes after sz's last word ("OO"): on a terminal they stay on the line for the
    # screen, here they went down the pipe; put back once sz has exited.
    after_last_word = bytearray()
    # What the board writes after cancelling the transfer (eight CANs, then text) is for
    # the screen whatever sz still sends: a rate-limited sz talks on for a while.
    after_cancel = bytearray()
    cancelled = [False]

    def feed(data: bytes) -> None:
        if cancelled[0]:
            after_cancel.extend(data)
        elif (at := data.find(b"\x18" * 8)) >= 0:
            cancelled[0] = True
            after_cancel.extend(data[at:].lstrip(b"\x18\x08"))
        after_last_word.extend(data)
        if heard is not None:
            heard.extend(data)
        if not stdin.is_closing():
            stdin.write(data)

    client.sink = feed
    feed(early)

    async def outbound() -> None:
        assert process.stdout
        while chunk := await process.stdout.read(4096 if rate else 65536):
            after_last_word.clear()
            if client.writer.is_closing():
                continue  # read on to the end, or the process is never reaped
            client.send(chunk.replace(b"\xff", b"\xff\xff"))
            if rate:
                await asyncio.sleep(len(chunk) / rate)

    pump = asyncio.create_task(outbound())
    exited = asyncio.create_task(process.wait())
    try:
        await asyncio.wait(
            [exited, asyncio.ensure_future(asyncio.shield(client._task))],
            timeout=timeout,
            return_when=asyncio.FIRST_COMPLETED,
        )
        if not exited.done():
            # The line is gone (or the transfer hung): what came before the hang-up is
            # still for sz to read, then it meets the end of its input; killed if it
            # would rather retry for minutes.
            with contextlib.suppress(OSError):
                stdin.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(exited), 3)
        if not exited.done():
            with contextlib.suppress(ProcessLookupError):
                process.kill()
        code = await asyncio.wait_for(exited, 10)
        with contextlib.suppress(TimeoutError, asyncio.CancelledError, OSError):
            await asyncio.wait_for(pump, 5)
        return code
    finally:
        client.sink = None
        client.data[:0] = (
            after_cancel if len(after_cancel) > len(after_last_word) else after_last_word
        )
        pump.cancel()
        exited.cancel()
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()


async def keep_going(worker: asyncio.Future[None]) -> BaseException | None:
    """What ended a worker: None for a dropped line (expected when the node dies)."""
    try:
        await worker
    except (Gone, ConnectionError, OSError):
        return None
    except asyncio.CancelledError:
        return None
    except BaseException as e:  # reported by the test
        return e
    return None


__all__ = [
    "Call",
    "Gone",
    "Ledger",
    "call",
    "forum_poster",
    "incident_opener",
    "incident_replier",
    "keep_going",
    "payload",
    "signed_in",
    "sz_through",
    "uploader",
]
