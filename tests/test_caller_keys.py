"""What a caller's keys do, as issue 10 lists them: notices that stay until a key, a line
typed at a one-key prompt, GO commands with hotkeys on, ^C at a question, a line longer
than its field. A guest on a fake line (no database), 80x24 unless said otherwise."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from bbs.board import Board
from bbs.session.link import Negotiated
from tests.fakes import FakeLink
from tests.test_engine import Caller as _Caller
from tests.test_engine import board_config  # noqa: F401  (a fixture)


class Caller(_Caller):
    async def expect_any(self, *texts: str, timeout: float = 5.0) -> str:
        """What came up to the first of `texts` to show."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            chunk = self.link.take().decode("ascii", "replace")
            self.seen += chunk
            self.transcript += chunk
            hits = [(self.seen.find(t), t) for t in texts if t in self.seen]
            if hits:
                at, text = min(hits)
                found, self.seen = self.seen[: at + len(text)], self.seen[at + len(text) :]
                return found
            if loop.time() > deadline:
                raise AssertionError(f"{texts!r} never came; last:\n{self.transcript[-2500:]}")
            await asyncio.sleep(0.01)


@pytest.fixture
async def guest(board_config: tuple[object, object]) -> AsyncIterator[Caller]:  # noqa: F811
    config, directory = board_config
    board = Board.build(replace(config, probe_timeout=0.1), directory)  # type: ignore[call-overload]
    link = FakeLink(
        Negotiated(
            terminal_types=("vt100",), cols=80, rows=24, telnet=True, binary_out=True, echo=True
        )
    )
    task = asyncio.create_task(board.handle(link))
    who = Caller(link)
    await who.expect("Appuyez sur Entree")
    who.type("\r")
    await through_pages(who, "Votre choix")
    try:
        yield who
    finally:
        link.close()
        await asyncio.wait_for(task, 5)


async def through_pages(who: Caller, text: str) -> str:
    """What came up to `text`, pressing Enter at every "-- Suite" on the way."""
    seen = ""
    while True:
        chunk = await who.expect_any(text, "-- Suite")
        seen += chunk
        if chunk.endswith(text):
            return seen
        who.type("\r")


CLEAR = "\x1b[2J"


async def test_a_listing_stays_until_a_key_before_the_menu_is_drawn_again(guest: Caller) -> None:
    """Symptom 1: rubrique 4 then N printed the numbers, then cleared the screen at once."""
    guest.type("4\r")
    await through_pages(guest, "Votre choix")
    guest.type("N\r")
    shown = await through_pages(guest, "Appuyez sur Entree")
    assert CLEAR not in shown, "the screen was cleared before the caller read the numbers"
    assert "+" in shown or "0" in shown  # phone numbers were on the screen
    guest.type("\r")
    redrawn = await through_pages(guest, "Votre choix")
    assert CLEAR in redrawn


async def test_unknown_choice_is_not_wiped(guest: Caller) -> None:
    guest.type("n'importe quoi\r")
    answer = await guest.expect("Votre choix")
    assert "n'importe quoi" in answer and CLEAR not in answer


async def test_a_line_typed_at_the_pager_is_the_next_search(guest: Caller) -> None:
    """Symptom 2: at Belgique's "-- Suite", `suisse fax` searched "fax" for the whole world."""
    guest.type("GO ANNUAIRE\r")
    await guest.expect("Recherche :")
    guest.type("belgique\r")
    await guest.expect("-- Suite")
    guest.type("suisse fax\r")
    answer = await guest.expect("Suisse")
    answer += await through_pages(guest, "Recherche :")
    assert "Allemagne" not in answer and "Islande" not in answer


async def test_q_and_its_enter_at_the_pager_stay_in_the_directory(guest: Caller) -> None:
    """Symptom 2: `Q⏎` left the directory, its Enter taken as an empty search."""
    guest.type("GO ANNUAIRE\r")
    await guest.expect("Recherche :")
    guest.type("belgique\r")
    await guest.expect("-- Suite")
    guest.type("Q\r")
    await guest.expect("Recherche :")
    guest.type("suisse\r")
    await guest.expect("Suisse")


async def test_go_fax_with_hotkeys_on_does_not_hang_up(guest: Caller) -> None:
    """Symptom 3: with hotkeys, `G` asked "Mettre fin ?" and "O FAX" answered yes."""
    guest.type("GO TERMINAL\r")
    await guest.expect("Votre choix")
    guest.type("6\r")
    await through_pages(guest, "Votre choix")
    guest.type("Q\r")
    await through_pages(guest, "Votre choix (")
    guest.type("GO FAX\r")
    answer = await through_pages(guest, "Votre choix")
    assert "Mettre fin" not in answer
    assert "fax" in answer.lower()


async def test_a_lone_g_with_hotkeys_still_asks_and_ignores_type_ahead(guest: Caller) -> None:
    guest.type("GO TERMINAL\r")
    await guest.expect("Votre choix")
    guest.type("6\r")
    await through_pages(guest, "Votre choix")
    guest.type("Q\r")
    await through_pages(guest, "Votre choix (")
    guest.type("G")
    await guest.expect("Mettre fin")
    guest.type("N\r")
    await guest.expect("Votre choix")


async def test_control_c_at_the_protocol_question_cancels_the_upload(guest: Caller) -> None:
    """Symptom 4: ^C at "Protocole d'envoi" started a ZMODEM receive."""
    guest.type("GO SERVICES\r")
    await through_pages(guest, "Votre choix")
    guest.type("E\r")
    await guest.expect("Protocole")
    guest.type("\x03")
    answer = await guest.expect("Appuyez sur Entree")
    assert "annul" in answer.lower()
    assert "**\x18B" not in answer, "a ZMODEM receive started"
    guest.type("\r")
    await through_pages(guest, "Votre choix")


async def test_a_command_longer_than_a_field_is_run_not_cut(guest: Caller) -> None:
    """Symptom 6: `PAGE 4 Bonjour Marie, une question urgente` at a 40-character prompt
    arrived as "...urgen"; now a command runs whole, and other text over the field's size
    is refused with its size, never cut."""
    guest.type("GO TERMINAL\r")
    await guest.expect("Votre choix")
    guest.type("3\r")
    await guest.expect("Colonnes x lignes")
    guest.type("8" * 20 + "\r")
    answer = await guest.expect("16 caracteres au plus")
    assert "8" * 20 in answer  # the line was never cut while typed
    guest.type("\x15" + "132x50\r")  # ^U clears the refused line
    await guest.expect("132 x 50")


async def test_backspaces_across_a_wrapped_line_at_the_menu_prompt(guest: Caller) -> None:
    """Symptom 7: 60 B then 40 backspaces left 38 B on screen; 20 were received."""
    guest.type("B" * 60 + "\x7f" * 40 + "\r")
    await guest.expect("Commande inconnue : ")
    received = await guest.expect(".")
    assert received == "B" * 20 + "."


async def screens(who: Caller, text: str) -> list[str]:
    """What was printed between two keys, up to `text`, pressing Enter at each pause."""
    out: list[str] = []
    while True:
        chunk = await who.expect_any(text, "-- Suite", "Appuyez sur Entree")
        out.append(chunk)
        if chunk.endswith(text):
            return out
        who.type("\r")


@pytest.mark.parametrize("typed", ["2", "4", "5", "GO FAX"])
async def test_nothing_scrolls_away_before_a_pause(guest: Caller, typed: str) -> None:
    """Symptom 5: the pager ignored the menu drawn after a rubrique's text, so on 80x24
    the title and whole countries scrolled away unread."""
    guest.type(typed + "\r")
    for screen in await screens(guest, "Votre choix ("):
        shown = screen.rpartition(CLEAR)[2]
        assert shown.count("\n") <= 23, f"{shown.count(chr(10))} lines between two keys"


async def test_the_help_screen_lists_every_verb_from_the_table(guest: Caller) -> None:
    """AIDE is made from the verb table: a verb the screens register shows up in it."""
    guest.type("?\r")
    shown = await through_pages(guest, "Appuyez sur Entree")
    for usage in (
        "GO mot",
        "LANG fr|en|de",
        "DL n",
        "UL [Z",
        "TAG n",
        "CAP n",
        "WHO",
        "PAGE n",
        "CHAT",
    ):
        assert usage in shown, usage
