"""Who is online, pages, the sysop chat and a forum post between sessions of one board, over
fake lines: delivery to the right node, refusals, rate limits, /Q, and no terminal
command from one caller reaching another's screen."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path

import pytest

from bbs.accounts.model import GUEST, Caller, Role
from bbs.board import Board
from bbs.config import Config
from bbs.directory.datafiles import read_data_dir
from bbs.directory.model import Directory
from bbs.menus.engine import Engine
from bbs.services import forums as forum_screens
from bbs.session.keys import Key
from bbs.session.session import Hangup, Session
from bbs.store.db import make_engine
from bbs.terminal.caps import Caps
from tests.fakes import FakeLink
from tests.test_engine import Caller as Reader
from tests.test_forums_store import account

ROOT = Path(__file__).resolve().parents[1]

HOSTILE = (
    "\x1b]52;c;ZXZpbA==\x07 \x1b[21t \x1bP1$qm\x1b\\ \x1b[2J \x9b31m \x9d0;pwn\x9c \x1b[6n bonjour"
)
"""OSC 52 clipboard write, title report, DCS query, clear screen, C1 CSI and OSC, a
cursor report request, then a word that must get through."""
FORBIDDEN = (b"\x1b", b"\x9b", b"\x9d", b"\x90", b"52;c", b"[21t", b"$qm", b"[2J", b"[6n", b"pwn")


def assert_harmless(output: bytes) -> None:
    for piece in FORBIDDEN:
        assert piece not in output, (piece, output[-400:])


@pytest.fixture(scope="module")
def directory() -> Directory:
    return read_data_dir(ROOT / "data")


def make_board(directory: Directory, db_url: str | None = None) -> Board:
    config = replace(Config(), menus_dir=str(ROOT / "menus"), data_dir=str(ROOT / "data"))
    return Board.build(config, directory, make_engine(db_url) if db_url else None)


class Line:
    """One caller's session on the board, run by the menu engine over a fake link."""

    def __init__(self, board: Board, node: int, caller: Caller) -> None:
        self.board = board
        self.link = FakeLink()
        self.session = Session(
            self.link, board.strings, board.settings(), caps=Caps(rows=200), node=node
        )
        self.session.caller = caller
        self.reader = Reader(self.link)
        board.sessions.add(self.session)
        self.session.start()
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        try:
            await Engine(self.session, self.board).run()
        except Hangup:
            pass
        finally:
            self.board.sessions.discard(self.session)

    def type(self, text: str) -> None:
        self.reader.type(text)

    def inject(self, text: str) -> None:
        """Text arriving as typed characters, controls and all, past the key parser (as
        from a client that sends them bare), then Enter."""
        for ch in text:
            self.session._events.put_nowait(ch)
        self.session._events.put_nowait(Key.ENTER)

    async def expect(self, text: str) -> str:
        return await self.reader.expect(text)

    def raw(self) -> bytes:
        """Everything this line received so far (also kept in the reader's transcript)."""
        data = self.link.take()
        self.reader.seen += data.decode("ascii", "replace")
        self.reader.transcript += data.decode("ascii", "replace")
        return data

    async def close(self) -> None:
        self.link.close()
        await asyncio.wait_for(self.task, 5)


def caller(n: int, name: str, role: Role = Role.CALLER) -> Caller:
    return Caller(account_id=n, name=name, role=role)


@pytest.fixture
async def lines(directory: Directory) -> AsyncIterator[Callable[[int, Caller], Line]]:
    board = make_board(directory)
    made: list[Line] = []

    def open_line(node: int, who: Caller) -> Line:
        line = Line(board, node, who)
        made.append(line)
        return line

    try:
        yield open_line
    finally:
        for line in made:
            await line.close()


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0.01)


async def test_who_lists_both_sessions_with_where_they_are(lines: Callable[..., Line]) -> None:
    alice = lines(1, caller(1, "Alice\x1b[2J"))
    guest = lines(2, GUEST)
    await alice.expect("Votre choix")
    await guest.expect("Votre choix")
    guest.type("GO FAX\r")
    await guest.expect("Votre choix")
    alice.raw()
    alice.type("QUI\r")
    screen = await alice.expect("Votre choix")
    assert "Qui est en ligne" in screen
    node1 = next(line for line in screen.splitlines() if line.strip().startswith("1 "))
    node2 = next(line for line in screen.splitlines() if line.strip().startswith("2 "))
    assert "Alice" in node1 and "Index d'aide" in node1 and "min" in node1
    assert "invite" in node2 and "Fax sur demande" in node2
    assert "[2J" not in screen


async def test_index_q_is_who_is_online(lines: Callable[..., Line]) -> None:
    alice = lines(1, caller(1, "Alice"))
    await alice.expect("Votre choix")
    alice.type("Q\r")
    # The list stays until a key: the menu is drawn after it.
    assert "Qui est en ligne" in await alice.expect("Appuyez sur Entr")
    alice.type("\r")
    await alice.expect("Votre choix")


async def test_a_page_reaches_the_right_node_at_once_and_harmless(
    lines: Callable[..., Line],
) -> None:
    alice = lines(1, caller(1, "Alice"))
    bob = lines(2, caller(2, "Bob"))
    carol = lines(3, caller(3, "Carol"))
    for line in (alice, bob, carol):
        await line.expect("Votre choix")
    bob.raw()
    carol.raw()
    alice.inject(f"PAGE 2 {HOSTILE}")
    assert "Message transmis au noeud 2" in await alice.expect("Votre choix")
    # Bob waits at an empty prompt: the page shows without him typing anything.
    await bob.expect("bonjour")
    await bob.expect("Votre choix")
    received = bob.reader.transcript
    assert "Message du noeud 1" in received and "Alice" in received
    assert_harmless(received.encode("ascii", "replace"))
    assert b"\x1b" not in bytes(bob.link.output)
    await settle()
    assert b"bonjour" not in carol.raw()


async def test_a_page_waits_for_the_line_being_typed(lines: Callable[..., Line]) -> None:
    alice = lines(1, caller(1, "Alice"))
    bob = lines(2, caller(2, "Bob"))
    await alice.expect("Votre choix")
    await bob.expect("Votre choix")
    bob.type("GO F")
    await bob.expect("GO F")
    alice.type("PAGE 2 coucou\r")
    await alice.expect("Message transmis")
    await settle()
    assert b"coucou" not in bob.raw()
    bob.type("AX\r")
    screen = await bob.expect("coucou")
    assert "Fax sur demande" in screen


async def test_pages_refused_by_the_target_or_from_guests(lines: Callable[..., Line]) -> None:
    alice = lines(1, caller(1, "Alice"))
    bob = lines(2, caller(2, "Bob"))
    guest = lines(3, GUEST)
    for line in (alice, bob, guest):
        await line.expect("Votre choix")
    bob.type("PAGE OFF\r")
    await bob.expect("refusez")
    alice.type("PAGE 2 tu es la ?\r")
    assert "refuse les messages" in await alice.expect("Votre choix")
    guest.type("PAGE 1 salut\r")
    assert "invites ne peuvent pas" in await guest.expect("Votre choix")
    alice.type("PAGE 9 personne\r")
    assert "Personne n'est connecte sur le noeud 9" in await alice.expect("Votre choix")
    await settle()
    assert b"tu es la" not in bob.raw() and b"salut" not in alice.raw()
    bob.type("PAGE ON\r")
    await bob.expect("acceptez")
    alice.type("PAGE 2 et maintenant\r")
    await alice.expect("Message transmis")
    await bob.expect("et maintenant")


async def test_pages_are_rate_limited(lines: Callable[..., Line]) -> None:
    alice = lines(1, caller(1, "Alice"))
    bob = lines(2, caller(2, "Bob"))
    await alice.expect("Votre choix")
    await bob.expect("Votre choix")
    for n in range(3):
        alice.type(f"PAGE 2 message {n}\r")
        assert "Message transmis" in await alice.expect("Votre choix")
    alice.type("PAGE 2 message 3\r")
    assert "Trop de messages" in await alice.expect("Votre choix")
    await bob.expect("message 2")
    await settle()
    assert "message 3" not in bob.reader.transcript + bob.raw().decode("ascii", "replace")


async def test_sysop_chat_both_ways_then_q(lines: Callable[..., Line]) -> None:
    sysop = lines(1, caller(1, "Sysop\x1b[2J", Role.SYSOP))
    carla = lines(2, caller(2, "Carla\x1b]0;pwn\x07"))
    await sysop.expect("Votre choix")
    await carla.expect("Votre choix")
    carla.raw()
    sysop.type("CHAT 2\r")
    await sysop.expect("Dialogue avec le noeud 2")
    await carla.expect("Dialogue avec le noeud 1")
    sysop.raw()
    sysop.inject(HOSTILE)
    assert "Sysop" in await carla.expect("bonjour")
    carla.inject(f"salut {HOSTILE}")
    assert "Carla" in await sysop.expect("salut")
    await sysop.expect("bonjour")
    # What each side got from the other (not the echo of its own typing): no controls.
    from_sysop = carla.reader.transcript.split("Dialogue avec")[-1].partition("salut")[0]
    from_carla = sysop.reader.transcript.rpartition("Carla")[2]
    assert "bonjour" in from_sysop and "bonjour" in from_carla
    assert_harmless(from_sysop.encode("ascii", "replace"))
    assert_harmless(from_carla.encode("ascii", "replace"))
    carla.type("/Q\r")
    await carla.expect("Dialogue termine")
    await carla.expect("Votre choix")
    await sysop.expect("Carla a termine le dialogue")
    await sysop.expect("Votre choix")
    # Both are back at their menus: commands work again.
    carla.type("GO FAX\r")
    assert "Fax sur demande" in await carla.expect("Votre choix")
    sysop.type("QUI\r")
    assert "Qui est en ligne" in await sysop.expect("Votre choix")


async def test_the_sysop_ends_the_chat(lines: Callable[..., Line]) -> None:
    sysop = lines(1, caller(1, "Sysop", Role.SYSOP))
    carla = lines(2, caller(2, "Carla"))
    await sysop.expect("Votre choix")
    await carla.expect("Votre choix")
    sysop.type("CHAT 2\r")
    await carla.expect("Dialogue avec le noeud 1")
    carla.type("bonjour sysop\r")
    await sysop.expect("bonjour sysop")
    sysop.type("/q\r")
    await sysop.expect("Votre choix")
    await carla.expect("Sysop a termine le dialogue")
    await carla.expect("Votre choix")


async def test_chat_is_for_the_sysop_and_chat_alone_calls_him(
    lines: Callable[..., Line],
) -> None:
    carla = lines(2, caller(2, "Carla"))
    await carla.expect("Votre choix")
    carla.type("CHAT 3\r")
    assert "reserve au sysop" in await carla.expect("Votre choix")
    carla.type("CHAT\r")
    assert "sysop n'est pas en ligne" in await carla.expect("Votre choix")
    sysop = lines(1, caller(1, "Sysop", Role.SYSOP))
    await sysop.expect("Votre choix")
    carla.type("CHAT\r")
    assert "Le sysop est prevenu" in await carla.expect("Votre choix")
    screen = await sysop.expect("Votre choix")
    assert "tapez CHAT 2" in screen and "Carla" in screen


# ----------------------------------------------------------------- a forum post between sessions


@pytest.fixture
async def forum_board(directory: Directory, store_url: str) -> AsyncIterator[Board]:
    board = make_board(directory, store_url)
    try:
        yield board
    finally:
        assert board.db is not None
        await board.db.dispose()


async def raw_editor(session: Session, title: str) -> str | None:
    """Lines as typed until a "." alone."""
    await session.send("EDITEUR\n")
    lines: list[str] = []
    while (line := await session.read_line(": ", max_len=200)).strip() != ".":
        lines.append(line)
    return "\n".join(lines)


async def test_a_hostile_post_reaches_the_sysop_harmless(
    forum_board: Board, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The board's editor cleans what is typed; this one stores lines as they come, so
    # the test proves the filter on the way out, for text that reached the store raw.
    monkeypatch.setattr(forum_screens, "edit_text", raw_editor)
    assert forum_board.db is not None
    alice = await account(forum_board.db, "Alice")
    sysop_caller = await account(forum_board.db, "Sysop", Role.SYSOP)
    writer = Line(forum_board, 1, alice)
    sysop = Line(forum_board, 2, sysop_caller)
    guest = Line(forum_board, 3, GUEST)
    try:
        for line in (writer, sysop, guest):
            await line.expect("Votre choix")
        guest.type("GO LOTFRA\r")
        await guest.expect("Section (numero")
        guest.type("5\r")
        await guest.expect("Sujet (numero)")
        guest.type("N\r")
        assert "invites peuvent lire" in await guest.expect("Appuyez sur Entree")
        writer.type("GO LOTFRA\r")
        await writer.expect("Section (numero")
        writer.type("5\r")
        await writer.expect("Sujet (numero)")
        writer.type("N\r")
        await writer.expect("Sujet (Entree pour abandonner)")
        writer.inject(f"Titre {HOSTILE}")
        await writer.expect("EDITEUR")
        writer.inject(f"ligne un {HOSTILE}")
        writer.type("ligne deux\r.\r")
        await writer.expect("Message publie")
        # The confirmation stays until a key; the listing is drawn after it.
        await writer.expect("Appuyez sur Entree")
        writer.type("\r")
        listing = await writer.expect("Sujet (numero)")
        assert "Titre" in listing
        sysop.raw()
        sysop.type("GO LOTFRA\r")
        sections = await sysop.expect("Section (numero")
        assert "nouveau(x) message(s)" in sections
        sysop.type("5\r")
        await sysop.expect("Sujet (numero)")
        sysop.type("1\r")
        thread = await sysop.expect("Entree pour revenir")
        assert "ligne un" in thread and "bonjour" in thread and "ligne deux" in thread
        assert "Alice" in thread
        assert_harmless(sysop.reader.transcript.encode("ascii", "replace"))
        # The sysop hides it: the thread is gone for the guest.
        sysop.type("M 1\r")
        await sysop.expect("Message masque")
        await sysop.expect("Appuyez sur Entree")
        sysop.type("\r")
        await sysop.expect("[masque]")
        guest.type("\r")
        guest.type("\r")
        guest.type("\r")
        await guest.expect("Votre choix")
        guest.raw()
        guest.type("GO LOTFRA\r")
        await guest.expect("Section (numero")
        guest.type("5\r")
        listing = await guest.expect("Sujet (numero)")
        assert "Titre" not in listing and "Bienvenue" in listing
    finally:
        for line in (writer, sysop, guest):
            await line.close()
