"""Attacks through what callers type into the board: passwords from many addresses, escape
sequences in posts and names, metacharacters in every search box, numbers guessed by the
wrong caller. Five guests keep typing throughout (`Node.watch`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from bbs.accounts import auth
from tests.e2e.story import bbs, plain
from tests.e2e.test_download import relay_to
from tests.hostile.harness import Node, connect, live_node, wait_after
from tests.telnet_client import Script, TelnetClient

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(120)]

PASSWORD = "Tr0ub4dor&3-lotus"
VICTIM = "Claire Victime"
WRITER = "Paul Ecrivain"
SUBSCRIBER = "Anne Abonnee"
SPECIALIST = "Sam Specialiste"
CONTRACT = "PP-95-00077"

# Terminal commands a caller must never be able to send to another caller's screen.
HOSTILE = {
    "OSC 52 clipboard": "\x1b]52;c;cm0gLXJmIH4=\x07",
    "title report": "\x1b[21t",
    "DCS": '\x1bP$q"p\x1b\\',
    "clear screen": "\x1b[2J",
    "C1 CSI": "\x9b2J",
    "C1 OSC": "\x9d0;pwned\x9c",
}
FORBIDDEN = [b"\x1b]52", b"\x1b[21t", b"\x1bP", b"\x9b", b"\x9d", b"\xc2\x9b", b"\xc2\x9d"]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def node(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Node]:
    async with live_node(tmp_path_factory.mktemp("content")) as running:
        url = running.config.db
        for name in (VICTIM, WRITER, SUBSCRIBER):
            add = ("user", "add", name, "--role", "caller", "--password-stdin")
            assert await bbs(url, *add, "--company", "Dupont SA", stdin=PASSWORD + "\n") == 0
        add = ("user", "add", SPECIALIST, "--role", "specialist", "--password-stdin")
        assert await bbs(url, *add, "--company", "Lotus", stdin=PASSWORD + "\n") == 0
        kind = ("--family", "desktop", "--kind", "limited", "--credits", "3", "--number", CONTRACT)
        assert await bbs(url, "contract", "add", "--company", "Dupont SA", *kind) == 0
        assert await bbs(url, "contract", "contact", "add", CONTRACT, SUBSCRIBER) == 0
        yield running


async def signed_in(
    node: Node, name: str, addr: str | None = None, ttype: str = "vt100"
) -> TelnetClient:
    client = await node.client(Script(ttypes=[ttype], rows=60), addr)
    await client.wait_for(b"Appuyez sur Entr")
    client.type("\r")
    await client.wait_for(b"Votre nom :")
    client.type(f"{name}\r")
    await client.wait_for(b"Mot de passe :")
    client.type(f"{PASSWORD}\r")
    await client.wait_for(b"Votre choix (", 20)
    return client


async def guest(node: Node, ttype: str = "vt100") -> TelnetClient:
    client = await node.client(Script(ttypes=[ttype], rows=60))
    await client.wait_for(b"Appuyez sur Entr")
    client.type("\r")
    await client.wait_for(b"Votre nom :")
    client.type("INVITE\r")
    await client.wait_for(b"Votre choix (")
    return client


async def step(client: TelnetClient, typed: str, until: bytes, timeout: float = 10.0) -> str:
    """Type a line; what came back up to `until`, as plain text."""
    since = len(client.data)
    client.type(typed + "\r")
    await wait_after(client, until, since, timeout)
    return plain(bytes(client.data[since:]), "latin-1")


# ------------------------------------------------------------------ sign-in


async def attempt(line: TelnetClient, password: str) -> str:
    """Sign in as the victim at a name prompt; the board's answer, once it asks again."""
    since = len(line.data)
    line.type(f"{VICTIM}\r")
    await wait_after(line, b"Mot de passe :", since)
    line.type(f"{password}\r")
    await wait_after(line, b"Votre nom :", since, 20)
    return plain(bytes(line.data[since:]), "latin-1")


async def test_twenty_wrong_passwords_from_twenty_addresses(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One account, 20 wrong passwords, each from its own address: locked after the
    throttle's 10 failures, every failure logged with its address, and the real user
    back in once the lock is over."""
    now = [datetime(2026, 11, 26, 12, 0, tzinfo=UTC)]
    monkeypatch.setattr(auth, "clock", lambda: now[0])
    addrs = [f"127.0.2.{n}" for n in range(1, 21)]
    async with node.watch(min_seconds=1.0) as seen:
        lines = await asyncio.gather(*(connect(node.port, a) for a in addrs))
        node.attackers.extend(lines)
        for line in lines:
            await line.wait_for(b"Appuyez sur Entr")
            line.type("\r")
            await line.wait_for(b"Votre nom :")
        answers = []
        for line in lines:
            now[0] += timedelta(seconds=61)  # past every wait between attempts
            answers.append(await attempt(line, "not-the-password"))
        assert sum("bloque" in a.lower() for a in answers[10:]) == 10, answers[-1][-300:]
        log = node.records.lines(seen.log_from)
        for addr in addrs:
            assert any(f"{addr}:" in x and "claire" in x.lower() for x in log), (
                f"no log line for the failure from {addr}"
            )
        # Locked: even the right password is refused now.
        line = await connect(node.port, "127.0.2.200")
        node.attackers.append(line)
        await line.wait_for(b"Appuyez sur Entr")
        line.type("\r")
        await line.wait_for(b"Votre nom :")
        assert "bloque" in (await attempt(line, PASSWORD)).lower()
        assert b"Votre choix" not in line.data, "the locked account signed in"
        # Sixteen minutes later the lock is over.
        now[0] += timedelta(minutes=16)
        back = await signed_in(node, VICTIM, "127.0.2.201")
        assert b"Votre choix" in back.data


# ------------------------------------------------------------------ terminal commands


async def test_escape_sequences_in_a_post_never_reach_a_reader(node: Node) -> None:
    """A post carrying OSC 52, a title report, DCS, CSI 2J and C1 controls: the reader's
    screen gets the words, never the commands."""
    async with node.watch(min_seconds=1.0, allow={"forum_post"}):
        writer = await signed_in(node, WRITER, ttype="dumb")
        await step(writer, "GO LOTFRA", b"Section (numero")
        await step(writer, "5", b"Sujet (numero")
        await step(writer, "1", b"R repondre")
        await step(writer, "R", b"Tapez votre texte")
        body = "DEBUT " + " ".join(f"{k}:{v}" for k, v in HOSTILE.items()) + " FIN"
        writer.send(body.encode("utf-8") + b"\r.\r")
        await writer.wait_for(b"Message publie")
        for ttype in ("vt100", "xterm", "ansi"):
            reader = await guest(node, ttype)
            await step(reader, "GO LOTFRA", b"Section (num")
            await step(reader, "5", b"Sujet (num")
            since = len(reader.data)
            reader.type("1\r")
            await wait_after(reader, b"FIN", since)
            shown = bytes(reader.data[reader.data.find(b"DEBUT", since) :])
            shown = shown[: shown.find(b"FIN")]
            for bad in [*FORBIDDEN, b"\x1b[2J", b"\x1b"]:
                assert bad not in shown, f"{ttype}: {bad!r} reached the reader: {shown!r}"


@pytest.mark.parametrize("what", list(HOSTILE))
async def test_escape_sequences_in_a_name(node: Node, what: str) -> None:
    """Registering with a name that carries terminal commands: refused with a clear message,
    or kept without them; WHO never shows them to anyone."""
    async with node.watch(allow={"account"}):
        line = await node.client(Script(ttypes=["vt100"], rows=60))
        await line.wait_for(b"Appuyez sur Entr")
        line.type("\r")
        await line.wait_for(b"Votre nom :")
        await step(line, "NOUVEAU", b"Nom choisi")
        since = len(line.data)
        line.send(f"Mal{HOSTILE[what]}Veillant".encode() + b"\r")
        await asyncio.sleep(1.0)
        answer = bytes(line.data[since:])
        for bad in FORBIDDEN:
            assert bad not in answer
        # A clear answer: the name asked again (with the reason) or the next question.
        assert b"Nom choisi" in answer or b"Mot de passe" in answer, answer[-300:]
        watcher = await guest(node)
        who = await step(watcher, "WHO", b"Votre choix (")
        assert "\x1b" not in who.replace("\x1b[0m", "")
        assert not any(bad in watcher.data for bad in FORBIDDEN)


# ------------------------------------------------------------------ search boxes

QUERIES = [
    "%",
    "_",
    "%%%",
    "'",
    '"',
    "';",
    "--",
    "\\",
    "a%b_c",
    "' OR '1'='1",
    "x'; DROP TABLE account; --",
    '"unbalanced',
    "NEAR",
    "NEAR(lotus notes, 2)",
    "*",
    "lotus*",
    "(",
    ")",
    "a OR b",
    "NOT lotus",
    "lotus AND",
    "title:lotus",
    "^lotus",
    "{lotus}",
    "\\%\\_",
]


async def _search_box(node: Node, box: str) -> tuple[TelnetClient, bytes]:
    """A caller at the prompt of one search box, and that prompt."""
    # A dumb terminal: no line redraws, so a prompt in the transcript is a new prompt.
    if box == "directory":
        client = await guest(node, "dumb")
        await step(client, "GO ANNUAIRE", b"Recherche :")
        return client, b"Recherche :"
    if box == "library":
        client = await guest(node, "dumb")
        await step(client, "GO BIBLIO", b"Votre choix (")
        await step(client, "4", b"Chercher :")
        return client, b"Chercher :"
    client = await signed_in(node, SUBSCRIBER, ttype="dumb")
    await step(client, "K", b"Votre choix (")
    await step(client, "C", b"Chercher dans la base")
    return client, b"Chercher dans la base"


@pytest.mark.parametrize("box", ["directory", "library", "knowledge"])
async def test_metacharacters_in_search_boxes(node: Node, box: str) -> None:
    """SQL, LIKE and full-text metacharacters: a clear answer each time, no error, nothing
    changed (the watch checks the tables)."""
    async with node.watch(min_seconds=1.0) as seen:
        client, prompt = await _search_box(node, box)
        for query in QUERIES:
            shown = await step(client, query, prompt if box == "directory" else b" :")
            if "Document a lire" in shown:
                back = await step(client, "", b" :")
                if "Votre choix (" in back:
                    back = await step(client, "4" if box == "library" else "C", prompt)
                shown += back
            answer = shown.split("\n", 1)[-1].strip()
            assert answer and answer != prompt.decode(), f"{box}: no answer to {query!r}: {shown!r}"
            lowered = shown.lower()
            assert "incident technique" not in lowered and "erreur" not in lowered, (
                f"{box}: {query!r} gave {shown!r}"
            )
        errors = [x for x in node.records.lines(seen.log_from) if "error" in x.lower()]
        assert not errors, errors


# ------------------------------------------------------------------ numbers


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def incident(node: Node) -> int:
    """An incident of the subscriber's, opened through the store."""
    from bbs.store.db import make_engine
    from bbs.support import incidents as inc
    from bbs.support.entitlements import incident_rights

    engine = make_engine(node.config.db)
    try:
        async with engine.connect() as conn:
            account = await auth.store.find_account(conn, auth.key_of(SUBSCRIBER))
        assert account is not None
        owner = await auth.caller_for(engine, account, None, auth.clock())
        async with engine.connect() as conn:
            rights = await incident_rights(conn, account.id, auth.clock().date())
        assert rights, "the subscriber has no right to open an incident"
        product = inc.covered_products(rights[0])[0]
        form = inc.NewIncident(rights[0], product, "5.0", "Windows", "Secret", "Secret text")
        return await inc.open_incident(engine, owner, form)
    finally:
        await engine.dispose()


async def test_guessed_incident_numbers(node: Node, incident: int) -> None:
    """A caller with no incident asks for numbers that exist (someone else's) and do not:
    the same refusal for both, and each logged."""
    number = incident
    async with node.watch(allow={"incident", "incident_event"}) as seen:
        client = await signed_in(node, WRITER)
        await step(client, "GO INCIDENTS", b"Votre choix (")
        for guess in (str(number), "99999", "-1", "0x1", "1 OR 1=1"):
            await step(client, "C", b" :")
            shown = await step(client, guess, b"Appuyez sur Entr")
            assert "Secret" not in shown
            client.type("\r")
            await asyncio.sleep(0.2)
        lines = node.records.lines(seen.log_from)
        assert any(f"refused incident {number}" in x for x in lines), lines[-5:]
        assert any("99999" in x for x in lines), lines[-5:]


async def test_guessed_article_numbers(node: Node) -> None:
    """A guest asking the Knowledge base for articles by number: refused, and logged."""
    async with node.watch() as seen:
        client = await guest(node)
        await step(client, "K", b"Votre choix (")
        for guess in ("L", "C"):
            shown = await step(client, guess, b"Appuyez sur Entr")
            assert "abonn" in shown.lower(), shown
            client.type("\r")
            await asyncio.sleep(0.2)
        lines = node.records.lines(seen.log_from)
        assert sum("refused to a non-subscriber" in x for x in lines) >= 1


async def test_escape_sequences_in_a_file_description(
    node: Node, incident: int, tmp_path: Path
) -> None:
    """The one-line description of a file sent with an incident carries terminal commands:
    the specialist who reads the incident sees the words, never the commands."""
    (tmp_path / "BUDGET.WK4").write_bytes(bytes(range(256)) * 8)
    async with node.watch(
        min_seconds=1.0, allow={"incident_event", "incident_attachment"}, allow_files=True
    ):
        contact = await signed_in(node, SUBSCRIBER, ttype="dumb")
        await step(contact, "GO INCIDENTS", b"Votre choix (")
        await step(contact, "C", b" :")
        await step(contact, str(incident), b"Action (lettre")
        await step(contact, "A", b"Protocole d'envoi")
        contact.type("Z\r")
        code = await relay_to(contact, b"annuler.\r\n", "sz", "BUDGET.WK4", cwd=tmp_path)
        assert code == 0
        await contact.wait_for(b"Description de ce fichier", 15)
        # Every command at once, within the 60 characters a description may have.
        text = "DEBUT" + "".join(HOSTILE.values()).replace("cm0gLXJmIH4=", "QQ") + "FIN"
        assert len(text) <= 60
        contact.send(text.encode("utf-8") + b"\r")
        await contact.wait_for(b"joint(s)", 15)
        specialist = await signed_in(node, SPECIALIST)
        await step(specialist, "GO INCIDENTS", b"Votre choix (")
        await step(specialist, "C", b" :")
        since = len(specialist.data)
        specialist.type(f"{incident}\r")
        await wait_after(specialist, b"Action (lettre", since, 15)
        screen = bytes(specialist.data[since:])
        assert b"DEBUT" in screen, "the description is not on the specialist's screen"
        shown = screen[screen.find(b"DEBUT") :]
        shown = shown[: shown.find(b"\r\n")]
        assert b"FIN" in shown, shown
        for bad in [*FORBIDDEN, b"\x1b[2J", b"\x1b"]:
            assert bad not in shown, f"{bad!r} reached the specialist: {shown!r}"
