"""The closed set of commands menus may run (`cmd:NAME[:ARG]`), each an async function."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from bbs.terminal.markup import escape

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bbs.config import Config
    from bbs.directory.model import Directory
    from bbs.directory.query import Index
    from bbs.menus.model import Menu, MenuSet
    from bbs.menus.strings import Strings
    from bbs.session.link import Link
    from bbs.session.session import Session


class Presence(Protocol):
    """A board of several nodes, as screens see it: told when a caller has signed in."""

    async def signed_in(self, session: Session) -> None: ...


class Node(Protocol):
    """What screens and front ends see of the board they run on; `bbs.board.Board`
    provides it, and only `board.py` assembles a board."""

    config: Config
    strings: Strings
    menus: MenuSet
    commands: dict[str, Command]
    verbs: dict[str, Verb]
    directory: Directory
    index: Index
    db: AsyncEngine | None
    sessions: set[Session]

    @property
    def cluster(self) -> Presence | None:
        """The other nodes, when there are (PostgreSQL), else None."""
        ...

    @property
    def files_dir(self) -> Path:
        """Where the library's downloadable files are."""
        ...

    async def show_art(self, session: Session, name: str) -> int:
        """Draw a piece of art; the lines it took."""
        ...

    async def handle(self, link: Link) -> None:
        """Serve one caller on `link`, from detection to goodbye."""
        ...


class EngineView(Protocol):
    """What a command sees of the menu engine running it."""

    @property
    def current(self) -> Menu:
        """The menu the caller is on."""
        ...

    async def global_command(self, text: str) -> bool | None:
        """Run `text` if it is a command valid at any prompt; None if it is none."""
        ...


Validator = Callable[[str | None], str | None]
"""Checks a command's argument at start-up: an error message, or None when it is fine."""


@dataclass(frozen=True, slots=True)
class Context:
    """What a command works with: the caller's session, the board, the menu engine."""

    session: Session
    board: Node
    engine: EngineView

    async def choose(self, key: str, max_len: int = 40) -> str | None:
        """Ask with the prompt string `key`; the stripped answer, or None when the caller
        typed nothing or a command valid at any prompt (GO, DL, ...) that has been run."""
        prompt = "{h}" + escape(self.session.text(key)) + "{/} "
        while True:
            # The whole line is read: a command (PAGE 4 ...) may be longer than the field.
            answer = (await self.session.read_line(prompt)).strip()
            if not answer or await self.engine.global_command(answer) is not None:
                return None
            if len(answer) <= max_len:
                return answer
            await self.session.send(
                "{warn}" + escape(self.session.text("board.field_too_long", max=max_len)) + "{/}\n",
                remember=False,
            )


Runner = Callable[[Context, str | None], Awaitable[None]]
VerbRunner = Callable[[Context, str], Awaitable[bool | None]]
"""Runs a verb with what follows it; True when the screen must be drawn again."""


@dataclass(frozen=True, slots=True)
class Verb:
    """A command valid at any prompt (DL, WHO, PAGE ...), registered by the module that
    carries it out; `help_key` names its line of the help screen in `menus/strings`."""

    words: tuple[str, ...]
    """Its spellings, in capitals without accents ("WHO", "QUI", "WER")."""
    run: VerbRunner
    help_key: str
    takes_argument: bool = True
    """False: typed with anything after it, the words are not this command."""


@dataclass(frozen=True, slots=True)
class Command:
    """A named action a menu may run (`cmd:NAME[:ARG]`); the loader checks its argument."""

    name: str
    run: Runner
    takes_arg: bool = False
    validate: Validator | None = None
    showable: bool = False
    """Whether a menu may display it under its text (`show =`): it only prints, never asks."""


async def unavailable(session: Session, error: BaseException | None = None) -> None:
    """Tell the caller the database cannot serve them now: a full disk says so, anything
    else is "service momentanément indisponible"."""
    from bbs.store.db import disk_full

    key = "faults.disk_full" if error is not None and disk_full(error) else "board.db_unavailable"
    await session.send("{err}" + escape(session.text(key)) + "{/}\n")
