"""Hostile round two: the six ways in or down found after the first hostile suite.

Pastes of megabytes into every kind of prompt, a company claimed by typing its name,
numbers no `int` takes, look-alike letters from every script, and uploads without end
(sub-negotiations and STATUS: `test_protocol_budgets.py`).
Five guests keep typing throughout (`Node.watch` checks their p99, the node's memory,
the log and the database).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bbs.transfer import zmodem
from bbs.transfer.channel import OutFile
from bbs.transfer.zmodem import zmodem_send
from tests.e2e.story import bbs
from tests.e2e.test_download import relay_to
from tests.hostile.harness import Node, live_node, to_index, utf8_terminal, wait_after
from tests.hostile.test_uploads import LineChannel
from tests.telnet_client import IAC, Script, TelnetClient
from tests.transfer.peers import every_byte

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(120)]

MB = 1024 * 1024
DO, STATUS, LINEMODE, SLC, NEW_ENVIRON = 253, 5, 34, 3, 39
PASSWORD = "Tr0ub4dor&3-lotus"
WRITER = "Paul Ecrivain"
QUOTA = 500 * 1024
"""The node's daily upload quota per caller: two files of 250 KiB fit, a third does not."""


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def node(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Node]:
    folder = tmp_path_factory.mktemp("round-two")
    async with live_node(folder, upload_quota_bytes=QUOTA, upload_quota_files=50) as running:
        url = running.config.db
        add = ("user", "add", WRITER, "--role", "caller", "--password-stdin")
        assert await bbs(url, *add, stdin=PASSWORD + "\n") == 0
        knowledge = ("--kind", "knowledge", "--number", "KB-95-00001")
        assert await bbs(url, "contract", "add", "--company", "Dupont SA", *knowledge) == 0
        yield running


def iac(*codes: int) -> bytes:
    return bytes([IAC, *codes])


async def xterm(node: Node, addr: str | None = None) -> TelnetClient:
    """A UTF-8 xterm that answers the board's probes: prompt_toolkit edits its lines."""
    script = Script(ttypes=["xterm"], rows=60, environ={"LANG": "fr_FR.UTF-8"})
    client = utf8_terminal(await node.client(script, addr))
    await client.wait_for(b"Appuyez sur Entr", 10)
    client.type("\r")
    await client.wait_for(b"Votre nom :", 10)
    return client


async def step(client: TelnetClient, typed: str, until: bytes, timeout: float = 10.0) -> None:
    since = len(client.data)
    client.type(typed + "\r")
    await wait_after(client, until, since, timeout)


async def paste(client: TelnetClient, total: int, rate: float, byte: bytes = b"A") -> None:
    """`total` bytes of `byte` with no line end, at about `rate` bytes a second."""
    chunk = byte * 65536
    sent = 0
    started = time.monotonic()
    while sent < total and not client._task.done():
        client.send(chunk)
        await asyncio.wait_for(client.writer.drain(), 30)
        sent += len(chunk)
        ahead = sent / rate - (time.monotonic() - started)
        if ahead > 0:
            await asyncio.sleep(ahead)  # pacing the attack at its rate, not a wait for an event


# ------------------------------------------------------------------ 1. pastes


@pytest.mark.parametrize("mb", [2, 8])
async def test_paste_into_a_prompt_toolkit_prompt(node: Node, mb: int) -> None:
    """An xterm guest at the directory's "Recherche :" pastes megabytes with no Enter: the
    line is refused with a message, the rest dropped, and the caller goes on searching."""
    async with node.watch():
        client = await xterm(node)
        await step(client, "INVITE", b"Votre choix (")
        await step(client, "GO ANNUAIRE", b"Recherche :")
        since = len(client.data)
        await paste(client, mb * MB, rate=mb * MB / 4)
        client.send(b"\r")
        await wait_after(client, b"Saisie trop longue", since, 20)
        assert len(client.data) - since < 64 * 1024, "the board echoed the paste back"
        await step(client, "belgique", b"Belgique", 20)


async def test_paste_into_the_plain_line_reader(node: Node) -> None:
    """A dumb terminal (the plain line reader) pastes 2 MB at the directory's prompt."""
    async with node.watch():
        client = await node.client(Script(ttypes=["dumb"], rows=60))
        await to_index(client)
        await step(client, "GO ANNUAIRE", b"Recherche :")
        since = len(client.data)
        await paste(client, 2 * MB, rate=MB)
        client.send(b"\r")
        await wait_after(client, b"Saisie trop longue", since, 30)
        assert len(client.data) - since < 64 * 1024, "the board echoed the paste back"
        await step(client, "belgique", b"Belgique", 20)


@pytest.mark.parametrize("byte", [b"A", b"\x01"], ids=["letters", "control-keys"])
async def test_paste_into_the_full_screen_editor(node: Node, byte: bytes) -> None:
    """A signed-in xterm caller pastes 2 MB into the full-screen message editor, then
    abandons the message."""
    async with node.watch(allow={"forum_post"}):
        client = await xterm(node)
        await step(client, WRITER, b"Mot de passe :")
        await step(client, PASSWORD, b"Votre choix (", 20)
        await step(client, "GO LOTFRA", b"Section (num")
        await step(client, "5", b"Sujet (num")
        await step(client, "1", b"R r")
        since = len(client.data)
        client.type("R\r")
        await wait_after(client, b"^Z", since, 10)
        await paste(client, 2 * MB, rate=MB / 2, byte=byte)
        since = len(client.data)
        # A printable key ends a dropped run of control keys; then ^C twice abandons.
        client.send(b"x\x03\x03")
        # "Texte abandonné" stays until a key; the thread is drawn again after it.
        await wait_after(client, b"Appuyez sur Entr", since, 30)
        client.type("\r")
        await wait_after(client, b"pondre", since, 30)


# ------------------------------------------------------------------ 4. companies


async def test_typing_a_subscribed_company_opens_nothing(node: Node) -> None:
    """A stranger registers typing "dupont sa", whose company holds a Knowledge base
    subscription: the base stays closed to them."""
    async with node.watch(allow={"account"}):
        client = await node.client(Script(ttypes=["vt100"], rows=60))
        await client.wait_for(b"Appuyez sur Entr", 10)
        client.type("\r")
        await client.wait_for(b"Votre nom :", 10)
        await step(client, "NOUVEAU", b"Nom choisi")
        await step(client, "Jean Etranger", b"Mot de passe")
        await step(client, PASSWORD, b"Retapez")
        await step(client, PASSWORD, b"Soci")
        await step(client, "dupont sa", b"Pays")
        await step(client, "FR", b"Langue")
        await step(client, "fr", b"(O/N)", 20)
        await step(client, "N", b"Votre choix (", 20)
        await step(client, "GO KNOWLEDGE", b"Votre choix (")
        since = len(client.data)
        client.type("C\r")
        await wait_after(client, b"abonn", since)
        assert b"Recherche" not in client.data[since:], "the search box opened"


# ------------------------------------------------------------------ 5. numbers


@pytest.mark.parametrize(
    ("verb", "number"),
    [
        *((verb, n) for verb in ("DL", "CAP", "TAG", "PAGE") for n in ("²", "10²")),
        *((verb, "100000000000000000000") for verb in ("DL", "CAP", "TAG")),
    ],
)
async def test_odd_numbers_in_global_commands(node: Node, verb: str, number: str) -> None:
    """`str.isdigit` takes "²" and `int` does not; SQLite takes no 10^20."""
    async with node.watch():
        client = await xterm(node)
        await step(client, "INVITE", b"Votre choix (")
        typed = f"{verb} {number}" + (" bonjour" if verb == "PAGE" else "")
        await step(client, typed, b"Votre choix (")
        await step(client, "GO ANNUAIRE", b"Recherche :")


@pytest.mark.parametrize(
    ("path", "answer"),
    [
        (["GO TERMINAL", "3"], "²x25"),
        (["GO TERMINAL", "5"], "²"),
        (["GO TERMINAL", "3"], "٣x25"),
        (["GO BIBLIO", "1"], "²"),
    ],
    ids=["size", "speed", "arabic-indic", "library-product"],
)
async def test_odd_numbers_at_prompts(node: Node, path: list[str], answer: str) -> None:
    async with node.watch():
        client = await xterm(node)
        await step(client, "INVITE", b"Votre choix (")
        for typed in path:
            since = len(client.data)
            client.type(typed + "\r")
            await asyncio.sleep(0)
            await wait_after(client, b":", since)
        await step(client, answer, b"non valable")


async def test_a_zfile_size_of_five_thousand_digits(
    node: Node, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ZMODEM sender announcing a size of 5 000 digits (over Python's `int` limit)."""
    source = tmp_path / "data.bin"
    source.write_bytes(every_byte(3000))
    real = zmodem._file_info

    def huge(name: str, size: int, mtime: int, files_left: int, bytes_left: int) -> bytes:
        info = real(name, size, mtime, files_left, bytes_left)
        head, _, rest = info.partition(b"\0")
        return head + b"\0" + b"9" * 5000 + rest[rest.find(b" ") :]

    async with node.watch(min_seconds=1.0, allow_files=True):
        client = await node.client(Script(ttypes=["dumb"], rows=60))
        await to_index(client)
        await step(client, "GO SERVICES", b"Votre choix (")
        client.type("UL Z\r")
        await client.wait_for(b"annuler.\r\n", 10)
        _, _, early = bytes(client.data).partition(b"annuler.\r\n")
        client.data.clear()
        monkeypatch.setattr(zmodem, "_file_info", huge)
        channel = LineChannel(client, early)
        try:
            await asyncio.wait_for(zmodem_send(channel, [OutFile("x.bin", source)], timeout=5), 30)
        except Exception as e:  # the board may refuse the file; our sender then gives up
            assert "Traceback" not in str(e)
        finally:
            client.sink = None
            monkeypatch.setattr(zmodem, "_file_info", real)
        await client.wait_for(b"Votre choix (", 15)


# ------------------------------------------------------------------ 6. look-alikes


@pytest.mark.parametrize("name", ["ꓢysop", "Ꮪysop", "Տysop", "Ꭺdmin", "ꓣoot"])
async def test_lookalike_letters_of_a_reserved_name(node: Node, name: str) -> None:
    async with node.watch():
        client = await xterm(node)
        await step(client, "NOUVEAU", b"Nom choisi")
        since = len(client.data)
        client.type(name + "\r")
        await wait_after(client, b"Nom choisi", since)
        assert b"ressemble trop" in client.data[since:]


# ------------------------------------------------------------------ uploads


async def test_uploads_batch_after_batch_stop_at_the_daily_quota(
    node: Node, tmp_path: Path
) -> None:
    """A guest sends batch after batch: the quota is shown first, and once it is spent the
    next file and the next batch are refused."""
    for n in range(3):
        (tmp_path / f"f{n}.bin").write_bytes(every_byte(250 * 1024))
    addr = node.address()
    async with node.watch(min_seconds=1.0, allow_files=True):
        client = await node.client(Script(ttypes=["dumb"], rows=60), addr)
        await to_index(client)
        await step(client, "GO SERVICES", b"Votre choix (")
        since = len(client.data)
        client.type("UL Z\r")
        await wait_after(client, b"encore envoyer", since)
        await relay_to(client, b"annuler.\r\n", "sz", "f0.bin", "f1.bin", "f2.bin", cwd=tmp_path)
        await wait_after(client, b"Votre choix (", 0, 20)  # the relay cleared what came before
        assert b"f2.bin refuse" in client.data, bytes(client.data)[-600:]
        since = len(client.data)
        client.type("UL Z\r")
        await wait_after(client, b"quota d'envoi du jour", since)
        await wait_after(client, b"Votre choix (", since)
        assert b"annuler" not in client.data[since:], "a transfer started past the quota"
