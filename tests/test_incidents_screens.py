"""Incident tracking as callers and specialists use it, over fake lines, on SQLite and
PostgreSQL: the whole story (open, take, reply, "1 réponse" at sign-in, answer, resolve),
the spent credit, refused numbers, conflicts, and hostile text that never reaches a screen."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from bbs.accounts.model import GUEST, Caller
from bbs.board import Board
from bbs.config import Config
from bbs.directory.datafiles import read_data_dir
from bbs.directory.model import Directory
from bbs.menus.engine import Engine
from bbs.services.signin import after_sign_in
from bbs.session.link import Negotiated
from bbs.session.session import Hangup, Session
from bbs.store.db import make_engine
from bbs.support import incidents as inc
from bbs.support.incidents import Action, State
from bbs.terminal.caps import Caps, Encoding, Tier
from tests.fakes import FakeLink
from tests.test_incidents_store import World, build_world, form, open_as, rights_of

ROOT = Path(__file__).resolve().parents[1]


class Screen:
    """A caller's terminal on a fake line: what was typed, what the board printed."""

    def __init__(self, link: FakeLink) -> None:
        self.link = link
        self.raw = bytearray()
        self.seen = ""
        self.transcript = ""

    def type(self, text: str) -> None:
        self.link.type(text.encode("latin-1"))

    async def expect(self, text: str, timeout: float = 10.0) -> str:
        """Everything printed up to and including `text` (which must come in time)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            chunk = self.link.take()
            self.raw += chunk
            decoded = chunk.decode("utf-8", "replace")
            self.seen += decoded
            self.transcript += decoded
            if text in self.seen:
                found, _, self.seen = self.seen.partition(text)
                return found + text
            if loop.time() > deadline:
                raise AssertionError(
                    f"{text!r} never came; last output:\n{self.transcript[-3000:]}"
                )
            await asyncio.sleep(0.01)


@pytest.fixture(scope="module")
def directory() -> Directory:
    return read_data_dir(ROOT / "data")


@pytest.fixture
async def board(store_url: str, directory: Directory, tmp_path: Path) -> AsyncIterator[Board]:
    config = replace(
        Config(),
        menus_dir=str(ROOT / "menus"),
        data_dir=str(ROOT / "data"),
        upload_dir=str(tmp_path / "uploads"),
        upload_max_bytes=1 << 20,
        upload_min_free_bytes=0,
    )
    engine = make_engine(store_url)
    try:
        yield Board.build(config, directory, engine)
    finally:
        await engine.dispose()


@pytest.fixture
async def world(store_url: str) -> World:
    return await asyncio.wait_for(build_world(store_url), 30)


@asynccontextmanager
async def signed_in(board: Board, who: Caller, *, ansi: bool = False) -> AsyncIterator[Screen]:
    """A session signed in as `who`, past the sign-in hooks, at the index."""
    link = FakeLink(Negotiated(terminal_types=("dumb",), rows=200, telnet=True, echo=True))
    session = Session(
        link, board.strings, board.settings(), lang="fr", node=len(board.sessions) + 1
    )
    if ansi:
        session.set_caps(Caps(tier=Tier.ANSI, encoding=Encoding.UTF8, cols=80, rows=200))
    else:
        session.set_caps(Caps(rows=200))
    session.caller = who
    session.start()

    async def run() -> None:
        await after_sign_in(session, board)
        await Engine(session, board).run()

    task = asyncio.create_task(run())
    try:
        yield Screen(link)
    finally:
        task.cancel()
        with pytest.raises((asyncio.CancelledError, Hangup)):
            await asyncio.wait_for(task, 5)
        await session.close()


async def to_incidents(screen: Screen) -> str:
    screen.type("GO INCIDENTS\r")
    return await screen.expect("Votre choix")


async def test_the_whole_story(board: Board, world: World) -> None:
    assert board.db is not None
    # A named contact opens an incident.
    async with signed_in(board, world.alice) as alice:
        await alice.expect("Votre choix")
        menu = await to_incidents(alice)
        assert "Ouvrir un incident" in menu and "File d'attente" not in menu
        alice.type("O\r")
        assert "contrat PP-1" in await alice.expect("Produit concerne")
        await alice.expect("Votre choix (numero")
        alice.type("2\r")  # 1-2-3 pour Windows, the second desktop product
        await alice.expect("Version du produit")
        alice.type("5.0\r")
        await alice.expect("Votre choix (numero")
        alice.type("3\r")
        await alice.expect("Resume du probleme")
        alice.type("Le recalcul bloque\r")
        await alice.expect("Tapez votre texte")
        alice.type("Le recalcul ne finit jamais.\rAvec BUDGET.WK4.\r.\r")
        # Credits left once this one is spent (it said 5, before spending it).
        assert "il vous en restera 4" in await alice.expect("Envoyer cet incident")
        alice.type("O\r")
        await alice.expect("Incident no 1 ouvert")
        await alice.expect("Joindre des exemples")
        alice.type("N\r")
        await alice.expect("Appuyez sur Entree")
        alice.type("\r")
        await alice.expect("Votre choix")
    # A specialist sees it in the queue, takes it and replies.
    async with signed_in(board, world.spec) as spec:
        assert "1 incident(s) attendent" in await spec.expect("Votre choix")
        menu = await to_incidents(spec)
        assert "File d'attente des specialistes" in menu and "Ouvrir un incident" not in menu
        spec.type("F\r")
        await spec.expect("Votre choix (numero")
        spec.type("\r")
        queue = await spec.expect("Incident a consulter")
        assert "Le recalcul bloque" in queue and "Nouveau" in queue and "Acme" in queue
        spec.type("1\r")
        screen = await spec.expect("Action (lettre")
        assert "Le recalcul ne finit jamais." in screen and "Alice (Acme)" in screen
        assert "Prendre en charge" in screen and "Repondre" not in screen
        spec.type("P\r")
        await spec.expect("Incident no 1 pris en charge")
        spec.type("\r")
        screen = await spec.expect("Action (lettre")
        assert "En cours" in screen and "Sam (specialiste) a pris l'incident en charge" in screen
        spec.type("R\r")
        await spec.expect("Tapez votre texte")
        spec.type("Desactivez le recalcul automatique.\r.\r")
        await spec.expect("Reponse envoyee")
        spec.type("\r")
        await spec.expect("Action (lettre")
        spec.type("\r")
        await spec.expect("Incident a consulter")
        spec.type("\r")
        await spec.expect("Votre choix")
    # The caller is told at sign-in, reads the reply and answers.
    async with signed_in(board, world.alice) as alice:
        assert "Vous avez 1 reponse" in await alice.expect("Votre choix")
        await to_incidents(alice)
        alice.type("M\r")
        listing = await alice.expect("Incident a consulter")
        assert "(1 reponse)" in listing and "En cours" in listing
        alice.type("1\r")
        screen = await alice.expect("Action (lettre")
        assert "Desactivez le recalcul automatique." in screen
        alice.type("R\r")
        await alice.expect("Tapez votre texte")
        alice.type("Merci, cela marche mieux.\r.\r")
        await alice.expect("Reponse envoyee aux specialistes")
        alice.type("\r")
        await alice.expect("Action (lettre")
        alice.type("\r")
        listing = await alice.expect("Incident a consulter")
        assert "reponse)" not in listing
        alice.type("\r")
        await alice.expect("Votre choix")
    assert world.alice.account_id is not None
    assert await inc.unread_replies(board.db, world.alice.account_id) == 0
    # The specialist resolves it.
    async with signed_in(board, world.spec) as spec:
        await spec.expect("Votre choix")
        await to_incidents(spec)
        spec.type("C\r")
        await spec.expect("Incident a consulter")
        spec.type("1\r")
        screen = await spec.expect("Action (lettre")
        assert "Merci, cela marche mieux." in screen and "Resoudre" in screen
        spec.type("S\r")
        await spec.expect("Tapez votre texte")
        spec.type("Recalcul manuel (F9).\r.\r")
        await spec.expect("Incident no 1 resolu")
        spec.type("\r")
        await spec.expect("Action (lettre")
        spec.type("\r")
        await spec.expect("Votre choix")
    file = await inc.read_incident(board.db, world.alice, 1)
    assert file is not None and file.incident.state is State.RESOLU
    assert [e.kind for e in file.events] == ["opened", "take", "reply", "answer", "resolve"]
    assert world.alice.account_id is not None
    assert await inc.unread_replies(board.db, world.alice.account_id) == 1


async def test_the_spent_credit_is_said_and_nothing_written(store_url: str, board: Board) -> None:
    assert board.db is not None
    world = await build_world(store_url, credits=1)
    async with signed_in(board, world.alice) as alice:
        await alice.expect("Votre choix")
        await to_incidents(alice)
        alice.type("O\r")
        await alice.expect("Votre choix (numero")
        alice.type("2\r")
        await alice.expect("Version du produit")
        alice.type("5.0\r")
        await alice.expect("Votre choix (numero")
        alice.type("1\r")
        await alice.expect("Resume du probleme")
        alice.type("Trop tard\r")
        await alice.expect("Tapez votre texte")
        alice.type("Texte.\r.\r")
        await alice.expect("Envoyer cet incident")
        # Meanwhile Bob spends the last credit.
        await open_as(board.db, world.bob)
        alice.type("O\r")
        await alice.expect("Credit d'incidents epuise")
        alice.type("\r")
        await alice.expect("Votre choix")
        # Now she has no right at all: the same message before any question.
        alice.type("O\r")
        await alice.expect("Credit d'incidents epuise")
    assert [x.incident.summary for x in await inc.caller_incidents(board.db, world.alice)] == [
        "1-2-3 plante"
    ]


async def test_guests_see_nothing_and_cannot_open(board: Board, world: World) -> None:
    async with signed_in(board, GUEST) as guest:
        await guest.expect("Votre choix")
        menu = await to_incidents(guest)
        assert "Ouvrir un incident" not in menu and "Mes incidents" not in menu
        assert "Consulter un incident" not in menu
        guest.type("O\r")
        assert "inconnu" in (await guest.expect("Votre choix")).lower()


async def test_a_number_one_may_not_see_is_unknown_and_logged(
    board: Board, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    assert board.db is not None
    number = await open_as(board.db, world.alice)
    caplog.set_level(logging.WARNING, logger="bbs.services.incidents")
    answers = []
    async with signed_in(board, world.dave) as dave:
        await dave.expect("Votre choix")
        await to_incidents(dave)
        for asked in (number, 999):
            dave.type("C\r")
            await dave.expect("Incident a consulter")
            dave.type(f"{asked}\r")
            answers.append(await dave.expect("Appuyez sur Entree"))
            dave.type("\r")
            await dave.expect("Votre choix")
    hidden, missing = answers
    assert "Incident inconnu : 1." in hidden and "Incident inconnu : 999." in missing
    assert "recalcul" not in hidden.lower() and "plante" not in hidden
    assert hidden.replace(str(number), "N") == missing.replace("999", "N")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(
        "fake:1" in m and f"account {world.dave.account_id}" in m and f"incident {number}" in m
        for m in warnings
    )
    assert any("incident 999" in m for m in warnings)


async def test_a_conflict_says_what_changed(board: Board, world: World) -> None:
    assert board.db is not None
    number = await open_as(board.db, world.alice)
    async with signed_in(board, world.spec) as spec:
        await spec.expect("Votre choix")
        await to_incidents(spec)
        spec.type("C\r")
        await spec.expect("Incident a consulter")
        spec.type(f"{number}\r")
        await spec.expect("Action (lettre")
        # Tess takes it while Sam looks at it.
        await inc.act(board.db, world.spec2, number, Action.TAKE, read_version=0)
        spec.type("P\r")
        told = await spec.expect("Envoyer quand meme")
        assert "a change pendant que vous ecriviez" in told
        assert "Nouveau -> En cours" in told and "Tess (specialiste) a pris" in told
        spec.type("N\r")
        await spec.expect("Action (lettre")
    file = await inc.read_incident(board.db, world.spec, number)
    assert file is not None and file.incident.specialist == "Tess"
    assert [e.kind for e in file.events] == ["opened", "take"]


HOSTILE = {
    "csi": ("AAA\x1b[2JBBB", "AAABBB"),
    "osc52": ("EEE\x1b]52;c;SGVsbG8gd29ybGQ=\x07FFF", "EEEFFF"),
    "dcs": ("HHH\x1bP1$r0m\x1b\\JJJ", "HHHJJJ"),
    "c1": ("KKK\x9b2JLLL", "KKKLLL"),
}


@pytest.mark.parametrize("ansi", [False, True], ids=["dumb", "ansi"])
async def test_hostile_text_never_reaches_another_screen(
    board: Board, world: World, ansi: bool
) -> None:
    assert board.db is not None
    (right,) = await rights_of(board.db, world.alice)
    summary = HOSTILE["csi"][0] + HOSTILE["c1"][0]
    text = "\n".join(raw for raw, _ in HOSTILE.values())
    number = await inc.open_incident(board.db, world.alice, form(right, summary=summary, text=text))
    stored = await inc.read_incident(board.db, world.spec, number)
    assert stored is not None and stored.events[0].body == text  # kept as written
    async with signed_in(board, world.spec, ansi=ansi) as spec:
        spec.link.take()
        await spec.expect("Votre choix")
        await to_incidents(spec)
        spec.type("F\r")
        await spec.expect("Votre choix (num")
        spec.type("\r")
        await spec.expect("consulter (num")
        spec.type(f"{number}\r")
        await spec.expect("Action (lettre")
        spec.type("\r")
        await spec.expect("consulter (num")
    raw = bytes(spec.raw)
    for attack, kept in HOSTILE.values():
        assert kept.encode() in raw
        assert attack.encode("utf-8") not in raw and attack.encode("latin-1") not in raw
    for marker in (b"\x1b]", b"\x1bP", b"SGVsbG8", b"\xc2\x9b", b"AAA\x1b", b"KKK\x9b"):
        assert marker not in raw
    if not ansi:
        assert b"\x1b" not in raw and b"\x9b" not in raw


class LinkPeer:
    """The caller's transfer program at the other end of a fake line (a transfer Channel)."""

    def __init__(self, link: FakeLink) -> None:
        self.link = link
        self.buffer = bytearray()

    async def read(self, n: int, timeout: float) -> bytes:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.buffer:
            self.buffer += self.link.take()
            if not self.buffer:
                if loop.time() > deadline:
                    raise TimeoutError
                await asyncio.sleep(0.005)
        data = bytes(self.buffer[:n])
        del self.buffer[:n]
        return data

    def write(self, data: bytes) -> None:
        self.link.type(data)

    async def drain(self) -> None:
        await asyncio.sleep(0)


async def test_examples_are_attached_through_the_upload_area(
    board: Board, world: World, tmp_path: Path
) -> None:
    from bbs.transfer.channel import OutFile
    from bbs.transfer.ymodem import ymodem_send

    assert board.db is not None
    example = tmp_path / "BUDGET.WK4"
    example.write_bytes(bytes(range(256)) * 9)
    async with signed_in(board, world.carol) as carol:
        await carol.expect("Votre choix")
        await to_incidents(carol)
        carol.type("O\r")
        assert "Assistance gratuite - 1-2-3 pour Windows" in await carol.expect("Version du")
        carol.type("4.0\r")
        await carol.expect("Votre choix (numero")
        carol.type("8\r")  # autre
        await carol.expect("Quel systeme")
        carol.type("DR-DOS 7\r")
        await carol.expect("Resume du probleme")
        carol.type("Fichier illisible\r")
        await carol.expect("Tapez votre texte")
        carol.type("Le fichier joint ne s'ouvre plus.\r.\r")
        assert "aucun credit decompte" in await carol.expect("Envoyer cet incident")
        carol.type("O\r")
        await carol.expect("Joindre des exemples")
        carol.type("O\r")
        await carol.expect("Protocole d'envoi")
        carol.type("Y\r")
        await carol.expect("annuler.")
        peer = LinkPeer(carol.link)
        sent = await asyncio.wait_for(ymodem_send(peer, [OutFile("BUDGET.WK4", example)]), 30)
        assert sent == example.stat().st_size
        # The board asks for a description as soon as the last ACK is out; a sender still
        # reading may take that question for line noise, as a terminal program can: the
        # caller types the description all the same (the board waits for it).
        carol.type("Budget 1995, version du 3 mars\r")
        await carol.expect("1 fichier(s) joint(s) a l'incident no 1")
    file = await inc.read_incident(board.db, world.spec, 1)
    assert file is not None
    assert file.incident.os == "DR-DOS 7" and file.incident.basis == "free"
    (attachment,) = file.attachments
    assert attachment.sender_name == "BUDGET.WK4" and attachment.size == example.stat().st_size
    assert attachment.description == "Budget 1995, version du 3 mars"
    stored = Path(board.config.upload_dir) / attachment.stored_name
    assert stored.read_bytes() == example.read_bytes()
    assert [e.kind for e in file.events] == ["opened", "attach"]
