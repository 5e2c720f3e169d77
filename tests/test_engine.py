"""The menus as a caller drives them, over a fake link: navigation, GO, LANG, hotkeys, settings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bbs.board import Board
from bbs.config import Config
from bbs.directory.datafiles import read_data_dir
from bbs.session.link import Negotiated
from tests.fakes import FakeLink

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def board_config() -> tuple[Config, object]:
    config = replace(Config(), menus_dir=str(ROOT / "menus"), data_dir=str(ROOT / "data"))
    return config, read_data_dir(ROOT / "data")


class Caller:
    """A dumb-terminal caller on a fake line, reading what the board prints."""

    def __init__(self, link: FakeLink) -> None:
        self.link = link
        self.seen = ""
        self.transcript = ""

    def type(self, text: str) -> None:
        self.link.type(text.encode("latin-1"))

    async def expect(self, text: str, timeout: float = 5.0) -> str:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            chunk = self.link.take().decode("ascii", "replace")
            self.seen += chunk
            self.transcript += chunk
            if text in self.seen:
                found, _, self.seen = self.seen.partition(text)
                return found + text
            if loop.time() > deadline:
                raise AssertionError(
                    f"{text!r} never came; last output:\n{self.transcript[-2500:]}"
                )
            await asyncio.sleep(0.01)


@pytest.fixture
async def caller(board_config: tuple[Config, object]) -> AsyncIterator[Caller]:
    config, directory = board_config
    board = Board.build(replace(config, probe_timeout=0.1), directory)  # type: ignore[arg-type]
    link = FakeLink(
        Negotiated(terminal_types=("dumb",), rows=200, telnet=True, binary_out=True, echo=True)
    )
    task = asyncio.create_task(board.handle(link))
    who = Caller(link)
    await who.expect("Appuyez sur Entree")
    who.type("\r")
    await who.expect("Votre choix")
    try:
        yield who
    finally:
        link.close()
        await asyncio.wait_for(task, 5)


async def test_a_hotkey_opens_a_rubrique_with_its_table_and_back_returns(caller: Caller) -> None:
    caller.type("2\r")
    screen = await caller.expect("Votre choix")
    assert "Services telematiques" in screen
    assert "+33 (1) 30 48 94 50" in screen
    assert "Parite = Sans, Bits = 8, Bit de stop = 1" in screen
    caller.type("R\r")
    assert "Index d'aide" in await caller.expect("Votre choix")


async def test_go_jumps_and_unknown_words_are_listed(caller: Caller) -> None:
    caller.type("GO FAX\r")
    assert "Fax sur demande" in await caller.expect("Votre choix")
    caller.type("GO NULLEPART\r")
    answer = await caller.expect("Votre choix")
    assert "NULLEPART" in answer and "ANNUAIRE" in answer and "TELEMATIQUE" in answer


async def test_go_annuaire_then_belgique(caller: Caller) -> None:
    caller.type("GO ANNUAIRE\r")
    await caller.expect("Recherche")
    caller.type("belgique\r")
    card = await caller.expect("Recherche")
    for number in ("+ 31 20 600 4666", "+ 33 1 3048 9450", "+32 2 714 31 29", "+32 2 714 31 34"):
        assert number in card
    assert "ouvert" in card or "ferme" in card
    caller.type("\r")
    await caller.expect("Votre choix")


async def test_lang_switches_the_whole_board(caller: Caller) -> None:
    caller.type("LANG en\r")
    assert "Help index" in await caller.expect("Your choice")
    caller.type("LANG de\r")
    assert "Ihre Wahl" in await caller.expect("Ihre Wahl")
    caller.type("LANG xx\r")
    await caller.expect("LANG")


async def test_unknown_input_changes_nothing(caller: Caller) -> None:
    caller.type("n'importe quoi\r")
    answer = await caller.expect("Votre choix")
    assert "n'importe quoi" in answer
    caller.type("Z\r")
    await caller.expect("Votre choix")


async def test_help_lists_the_global_commands(caller: Caller) -> None:
    caller.type("AIDE\r")
    screen = await caller.expect("Appuyez sur Entree")
    assert "GO" in screen and "LANG" in screen and "BYE" in screen
    caller.type("\r")


async def test_hotkeys_act_on_one_key(caller: Caller) -> None:
    caller.type("GO TERMINAL\r")
    assert "Touches directes" in await caller.expect("Votre choix")
    caller.type("6\r")
    settings = await caller.expect("Votre choix")
    assert next(line for line in settings.splitlines() if "Touches directes" in line).endswith(
        "oui"
    )
    caller.type("Q\r")
    await caller.expect("Votre choix")
    caller.type("2")
    assert "Services telematiques" in await caller.expect("Votre choix")
    caller.type("/GO FAX\r")
    assert "Fax sur demande" in await caller.expect("Votre choix")


async def test_terminal_settings_change_and_refuse(caller: Caller) -> None:
    caller.type("T\r")
    screen = await caller.expect("Votre choix")
    assert "Parametres du terminal" in screen and "80 x 200" in screen
    caller.type("5\r")
    await caller.expect(":")
    caller.type("2400\r")
    screen = await caller.expect("Votre choix")
    assert "2400 bauds" in screen
    caller.type("3\r")
    await caller.expect(":")
    caller.type("5000x3\r")
    await caller.expect("Appuyez sur Entree")
    caller.type("\r")
    screen = await caller.expect("Votre choix")
    assert "80 x 200" in screen


async def test_logoff_asks_first(caller: Caller) -> None:
    caller.type("G\r")
    await caller.expect("(O/N)")
    caller.type("N\r")
    await caller.expect("Votre choix")
    caller.type("G\r")
    await caller.expect("(O/N)")
    caller.type("O\r")
    await caller.expect("revoir")


async def test_bye_says_goodbye_and_hangs_up(caller: Caller) -> None:
    caller.type("AU REVOIR\r")
    await caller.expect("revoir")


async def test_a_menu_seen_before_is_drawn_short_until_enter(caller: Caller) -> None:
    caller.type("2\r")
    await caller.expect("Votre choix")
    caller.type("R\r")
    brief = await caller.expect("Votre choix")
    assert "Index d'aide" in brief and "Entree seule" in brief
    assert "Soucieuse de vous offrir" not in brief
    caller.type("\r")
    assert "Soucieuse de vous offrir" in await caller.expect("Votre choix")
