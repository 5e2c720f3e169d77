""" "New since your last visit": what a load added or changed after a caller's visit."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime
from pathlib import Path

from bbs.library.search import notes_changed_since
from tests.test_library_datafiles import sample_library
from tests.test_library_screens import library_db  # noqa: F401 (fixture)
from tests.test_library_store import WAIT, load


async def test_only_notes_loaded_or_changed_after_the_visit_are_new(
    store_url: str, tmp_path: Path
) -> None:
    library = sample_library(tmp_path)
    await load(store_url, library)
    await asyncio.sleep(0.01)
    visit = datetime.now(UTC)
    assert await asyncio.wait_for(notes_changed_since(store_url, visit), WAIT) == []

    await asyncio.sleep(0.01)
    index = next(i for i, n in enumerate(library.notes) if n.key == (20001, "fr"))
    note = library.notes[index]
    edited = dataclasses.replace(note, title=note.title + " (révisé)")
    notes = (*library.notes[:index], edited, *library.notes[index + 1 :])
    await load(store_url, dataclasses.replace(library, notes=notes))

    new = await asyncio.wait_for(notes_changed_since(store_url, visit), WAIT)
    assert [(n.number, n.lang) for n in new] == [(20001, "fr")]
    # An identical load is no news.
    later = datetime.now(UTC)
    await load(store_url, dataclasses.replace(library, notes=notes))
    assert await asyncio.wait_for(notes_changed_since(store_url, later), WAIT) == []
    # Everything is new to a caller whose last visit was before the first load.
    everything = await asyncio.wait_for(
        notes_changed_since(store_url, datetime(2000, 1, 1, tzinfo=UTC)), WAIT
    )
    assert len(everything) == len(library.notes)
    public = await asyncio.wait_for(
        notes_changed_since(store_url, datetime(2000, 1, 1, tzinfo=UTC), public=True), WAIT
    )
    assert len(public) == sum(n.public for n in library.notes)


async def test_a_signed_in_caller_sees_what_is_new_since_their_visit(
    library_db: str,  # noqa: F811 (the fixture imported above)
) -> None:
    from dataclasses import replace

    from bbs.accounts.model import Caller, Role
    from bbs.board import Board
    from bbs.config import Config
    from bbs.directory.datafiles import read_data_dir
    from bbs.menus.engine import Engine
    from bbs.session.link import Negotiated
    from bbs.session.session import Session
    from bbs.store.db import make_engine
    from bbs.terminal.caps import Caps
    from tests.fakes import FakeLink
    from tests.test_engine import Caller as Screen

    root = Path(__file__).resolve().parents[1]
    config = replace(Config(), menus_dir=str(root / "menus"), data_dir=str(root / "data"))
    engine = make_engine(library_db)
    board = Board.build(config, read_data_dir(root / "data"), engine)
    before_load = datetime(2001, 1, 1, tzinfo=UTC).isoformat()
    after_load = datetime.now(UTC).isoformat()
    try:
        for last_visit, expected in (
            (before_load, "depuis votre derniere visite (01/01/2001"),
            (after_load, "Rien de nouveau"),
        ):
            link = FakeLink(Negotiated(terminal_types=("dumb",), rows=200, telnet=True, echo=True))
            session = Session(
                link, board.strings, board.settings(), caps=Caps(rows=200), lang="fr", node=1
            )
            session.caller = Caller(
                account_id=7, name="Jeanne", role=Role.CALLER, last_visit=last_visit
            )
            session.start()
            task = asyncio.create_task(Engine(session, board).run())
            screen = Screen(link)
            await screen.expect("Votre choix")
            screen.type("GO BIBLIO\r")
            await screen.expect("Votre choix")
            screen.type("3\r")
            # Nothing new is a notice (it waits for a key); a list asks which to read.
            listing = await screen.expect(
                "Document a lire" if last_visit == before_load else "Rien de nouveau"
            )
            assert expected in listing
            assert "10112" in listing or "Rien de nouveau" in listing
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await session.close()
    finally:
        await engine.dispose()
