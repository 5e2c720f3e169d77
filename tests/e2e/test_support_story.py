"""The support story of issue 4 end to end, over real sockets, on SQLite and PostgreSQL.

A guest, a caller who registers and becomes the named contact of a limited contract, a
specialist and the sysop each call a real board node: the guest sees the free services
only; the contact opens an incident and sends an example with the real `sz` (ZMODEM),
spends the contract's only credit and is refused the next one; the specialist takes the
incident and replies; the contact is told and reads the reply, and writes in a forum;
the sysop sees who is online and hides that post. The sysop's side of the contract and
the accounts list go through the real `bbs` command line.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bbs.config import Config
from tests.e2e.harness import Caller, loaded_database, node_settings, running_board
from tests.e2e.story import Line, bbs
from tests.e2e.test_download import relay_to
from tests.telnet_client import Script, TelnetClient

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

PASSWORD = "Tr0ub4dor&3-lotus"
CONTACT = "Jean Dupont"
SPECIALIST = "Sam Martin"
SYSOP = "Sysop"
CONTRACT = "PP-95-00001"
EXAMPLE = bytes(range(256)) * 40 + b"BUDGET.WK4 end"


@dataclass
class Story:
    """A running board and what the story needs around it."""

    config: Config
    url: str
    work: Path


@pytest.fixture
async def story(db_url: str, tmp_path: Path) -> AsyncIterator[Story]:
    await loaded_database(db_url)
    for name, role in ((SPECIALIST, "specialist"), (SYSOP, "sysop")):
        add = ("user", "add", name, "--role", role, "--password-stdin", "--company", "Lotus")
        assert await bbs(db_url, *add, stdin=PASSWORD + "\n") == 0
    config = node_settings(
        db_url, tmp_path, upload_max_bytes=2 * 1024 * 1024, upload_min_free_bytes=1024
    )
    work = tmp_path / "work"
    work.mkdir()
    async with running_board(config) as running:
        yield Story(running, db_url, work)


# ----------------------------------------------------------------- callers


async def telnet(story: Story, term: str = "vt100") -> Line:
    """The real `telnet` program on a tall screen, past the welcome screen."""
    line = Line(Caller(story.config.port, term, "ascii", cols=80, rows=60))
    await line.expect("Appuyez sur Entree")
    line.type("\r")
    await line.expect("Votre nom :")
    return line


async def dumb(story: Story) -> Line:
    """The scripted telnet client on a dumb terminal with a binary line (for lrzsz)."""
    client = await TelnetClient.connect(story.config.port, Script(ttypes=["dumb"], rows=60))
    line = Line(client)
    await line.expect("Appuyez sur Entree")
    line.type("\r")
    await line.expect("Votre nom :")
    return line


async def sign_in(line: Line, name: str) -> str:
    """Sign in as `name`; what the board said up to the index prompt."""
    line.type(f"{name}\r")
    await line.expect("Mot de passe :")
    line.type(f"{PASSWORD}\r")
    return await line.expect("Votre choix", timeout=20)


async def choose(line: Line, answer: str, until: str = "Votre choix") -> str:
    """Type `answer`; what came up to `until`, wrapped lines joined into one."""
    line.type(f"{answer}\r")
    return " ".join((await line.expect(until)).split())


async def profile(line: Line) -> str:
    """Mon compte, then Mon profil, from the index; back at the index after."""
    await choose(line, "P")
    shown = await choose(line, "P", "Entree : retour")
    await choose(line, "")
    await choose(line, "GO INDEX")
    return shown


# ----------------------------------------------------------------- the story


async def guest_visit(story: Story) -> None:
    line = await telnet(story)
    try:
        line.type("INVITE\r")
        assert "invite" in await line.expect("Votre choix")
        support = await choose(line, "M")
        assert "identifiez-vous ou inscrivez-vous" in support
        assert "Contrat" not in support and "Credit d'incidents :" not in support
        menu = await choose(line, "GO INCIDENTS")
        assert "Suivi des incidents" in menu
        assert "Ouvrir un incident" not in menu and "Mes incidents" not in menu
        assert "inconnu" in (await choose(line, "O")).lower()
        await choose(line, "GO INDEX")
        kb = await choose(line, "K")
        assert "la formule la plus avancee d'assistance technique automatisee" in kb
        kb = await choose(line, "C", "Appuyez sur Entree")
        assert "reservee a ses abonnes" in kb and "Support Passport Premium" in kb
        assert "Chercher dans la base :" not in kb
        assert "KB-1001" not in kb and "Memoire insuffisante" not in kb
        await choose(line, "")
        sections = await choose(line, "GO LOTFRA", "Section (numero")
        assert "Forum Lotus France" in sections and "inscrivez-vous pour y ecrire" in sections
        threads = await choose(line, "5", "Sujet (numero")
        assert "Bienvenue sur le forum Lotus France" in threads
        thread = await choose(line, "1", "R repondre")
        assert "Ce forum est le votre" in thread
        refused = await choose(line, "R", "Appuyez sur Entree")
        assert "Les invites peuvent lire les forums mais pas y ecrire" in refused
        assert "Tapez votre texte" not in refused
    finally:
        line.close()


async def register(story: Story) -> None:
    line = await telnet(story)
    try:
        line.type("NOUVEAU\r")
        await line.expect("Nom choisi")
        await choose(line, CONTACT, "Mot de passe (8")
        await choose(line, PASSWORD, "Retapez")
        await choose(line, PASSWORD, "Societe :")
        await choose(line, "Dupont SA", "Pays")
        await choose(line, "France", "Langue")
        await choose(line, "fr", "licence de produit maintenant")
        welcome = await choose(line, "N")
        assert CONTACT in welcome
        shown = await profile(line)
        assert "Role : utilisateur" in shown and "Societe : Dupont SA" in shown
        assert "Pays : FR" in shown and "Langue : fr" in shown
        assert PASSWORD not in line.transcript()
    finally:
        line.close()


async def the_sysop_sells_a_contract(story: Story, capsys: pytest.CaptureFixture[str]) -> None:
    add = ("contract", "add", "--company", "Dupont SA", "--family", "desktop")
    assert (
        await bbs(story.url, *add, "--kind", "limited", "--credits", "1", "--number", CONTRACT) == 0
    )
    assert await bbs(story.url, "contract", "contact", "add", CONTRACT, CONTACT) == 0
    out = capsys.readouterr().out
    assert f"{CONTACT} is now a named contact of {CONTRACT}" in out
    assert "1 incident(s) left" in out


async def contact_opens_an_incident(story: Story, capsys: pytest.CaptureFixture[str]) -> None:
    (story.work / "BUDGET.WK4").write_bytes(EXAMPLE)
    line = await dumb(story)
    try:
        await sign_in(line, CONTACT)
        assert "Role : Contact nominatif" in await profile(line)
        support = await choose(line, "M")
        assert f"Contrat {CONTRACT} - Dupont SA" in support
        assert "option limitee" in support and "Credit d'incidents : 1 restant(s)" in support
        menu = await choose(line, "GO INCIDENTS")
        assert "Ouvrir un incident" in menu
        line.type("O\r")
        assert f"contrat {CONTRACT}" in await line.expect("Produit concerne")
        await line.expect("Votre choix (numero")
        await choose(line, "2", "Version du produit")  # 1-2-3 pour Windows
        await choose(line, "5.0", "Votre choix (numero")
        await choose(line, "3", "Resume du probleme")
        await choose(line, "Le recalcul bloque", "Tapez votre texte")
        line.type("Le recalcul de BUDGET.WK4 ne finit jamais.\r")
        line.type("Le fichier est joint.\r.\r")
        assert "il vous en restera 0" in await line.expect("Envoyer cet incident")
        await choose(line, "O", "Incident no 1 ouvert")
        await line.expect("Joindre des exemples")
        await choose(line, "O", "Protocole d'envoi")
        line.type("Z\r")
        assert isinstance(line.peer, TelnetClient)
        code = await relay_to(line.peer, b"annuler.\r\n", "sz", "BUDGET.WK4", cwd=story.work)
        assert code == 0
        line.consumed = 0  # the relay cleared the client's record of the line
        await line.expect("Description de ce fichier")
        line.type("Le classeur qui bloque\r")
        await line.expect("1 fichier(s) joint(s) a l'incident no 1")
        await choose(line, "", "Votre choix")
        refused = await choose(line, "O", "Appuyez sur Entree")
        assert "Credit d'incidents epuise" in refused and "Rien n'a ete enregistre" in refused
        assert "Produit concerne" not in refused
        await choose(line, "")
        await choose(line, "GO INDEX")
        await choose(line, "M")
        support = await choose(line, "")  # a rubrique seen before: Enter shows it whole
        assert f"Contrat {CONTRACT}" in support and "Credit d'incidents epuise" in support
    finally:
        line.close()
    capsys.readouterr()
    assert await bbs(story.url, "contract", "show", CONTRACT) == 0
    shown = capsys.readouterr().out
    assert "Credits: 0 incident(s) left" in shown and CONTACT in shown
    kept = [p for p in Path(story.config.upload_dir).iterdir() if p.is_file()]
    assert any(p.read_bytes() == EXAMPLE for p in kept)


async def specialist_replies(story: Story) -> None:
    line = await telnet(story)
    try:
        assert "1 incident(s) attendent" in await sign_in(line, SPECIALIST)
        menu = await choose(line, "GO INCIDENTS")
        assert "File d'attente des specialistes" in menu
        await choose(line, "F", "Votre choix (numero")
        queue = await choose(line, "", "Incident a consulter")
        assert "Le recalcul bloque" in queue and "Dupont SA" in queue
        screen = await choose(line, "1", "Action (lettre")
        assert "Le recalcul de BUDGET.WK4 ne finit jamais." in screen
        attachments = screen.split("Fichiers joints")[1]
        assert "BUDGET.WK4" in attachments and "Le classeur qui bloque" in attachments
        await choose(line, "P", "Incident no 1 pris en charge")
        await choose(line, "", "Action (lettre")
        line.type("R\r")
        await line.expect("^Z")  # the full-screen editor, on a VT-100
        line.type("Desactivez le recalcul automatique.")
        line.type("\x1a")
        await line.expect("Reponse envoyee")
        # The caller's screen shows it as rendered, not only the stream.
        assert "Reponse envoyee" in line.screen()
    finally:
        line.close()


async def contact_reads_the_reply(story: Story) -> Line:
    """The contact reads the reply and writes in the forum; the line stays open."""
    line = await dumb(story)
    try:
        assert "Vous avez 1 reponse" in await sign_in(line, CONTACT)
        await choose(line, "GO INCIDENTS")
        listing = await choose(line, "M", "Incident a consulter")
        assert "(1 reponse)" in listing and "En cours" in listing
        screen = await choose(line, "1", "Action (lettre")
        assert "Desactivez le recalcul automatique." in screen
        await choose(line, "", "Incident a consulter")
        await choose(line, "")
        await choose(line, "GO LOTFRA", "Section (numero")
        await choose(line, "5", "Sujet (numero")
        await choose(line, "1", "R repondre")
        await choose(line, "R", "Tapez votre texte")
        line.type("Bonjour de la part de Dupont SA.\r.\r")
        await line.expect("Message publie")
        # The confirmation stays until a key; the thread is drawn again after it.
        await line.expect("Appuyez sur Entree")
        line.type("\r")
        thread = await line.expect("R repondre")
        assert "Bonjour de la part de Dupont SA." in thread
    except BaseException:
        line.close()
        raise
    return line


async def sysop_moderates(story: Story, contact: Line, capsys: pytest.CaptureFixture[str]) -> None:
    line = await telnet(story)
    try:
        await sign_in(line, SYSOP)
        line.type("WHO\r")
        who = await line.expect("Votre choix")
        row = next(r for r in who.splitlines() if CONTACT in r)
        assert row.split()[0].isdigit()
        assert "GO LOTFRA" in row
        screen = line.screen()
        assert CONTACT in screen and SYSOP in screen
        await choose(line, "GO LOTFRA", "Section (numero")
        await choose(line, "5", "Sujet (numero")
        thread = await choose(line, "1", "masquer")
        assert "#2" in thread and "Bonjour de la part de Dupont SA." in thread
        await choose(line, "M 2", "Message masque")
        await line.expect("Appuyez sur Entree")
        line.type("\r")
        thread = await line.expect("masquer")
        assert "[masque]" in thread
    finally:
        line.close()
    # The contact, still at the thread, reads it again: the post is gone for them.
    contact.type("\r")
    await contact.expect("Sujet (numero")
    thread = await choose(contact, "1", "R repondre")
    assert "Ce forum est le votre" in thread
    assert "Bonjour de la part de Dupont SA." not in thread
    capsys.readouterr()
    assert await bbs(story.url, "user", "list") == 0
    listing = capsys.readouterr().out
    for name in (CONTACT, SPECIALIST, SYSOP):
        assert name in listing


async def test_the_support_story(story: Story, capsys: pytest.CaptureFixture[str]) -> None:
    await guest_visit(story)
    await register(story)
    await the_sysop_sells_a_contract(story, capsys)
    await contact_opens_an_incident(story, capsys)
    await specialist_replies(story)
    contact = await contact_reads_the_reply(story)
    try:
        await sysop_moderates(story, contact, capsys)
    finally:
        contact.close()
