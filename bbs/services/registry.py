"""The closed set of commands menus may run (`cmd:NAME[:ARG]`), each an async function."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bbs.terminal.markup import escape

if TYPE_CHECKING:
    from bbs.board import Board
    from bbs.menus.engine import Engine
    from bbs.session.session import Session

Validator = Callable[[str | None], str | None]
"""Checks a command's argument at start-up: an error message, or None when it is fine."""


@dataclass(frozen=True, slots=True)
class Context:
    """What a command works with: the caller's session, the board, the menu engine."""

    session: Session
    board: Board
    engine: Engine

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
VerbRunner = Callable[[Context, str], Awaitable[None]]


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
    """A named action; its docstring-like `summary` is its help line."""

    name: str
    run: Runner
    summary: str
    takes_arg: bool = False
    validate: Validator | None = None
    showable: bool = False
    """Whether a menu may display it under its text (`show =`): it only prints, never asks."""

    def check(self, arg: str | None) -> str | None:
        """An error message when `arg` does not suit this command, else None."""
        if self.takes_arg and not arg:
            return f"command {self.name!r} needs an argument"
        if not self.takes_arg and arg:
            return f"command {self.name!r} takes no argument"
        return self.validate(arg) if self.validate else None


async def unavailable(session: Session, error: BaseException | None = None) -> None:
    """Tell the caller the database cannot serve them now: a full disk says so, anything
    else is "service momentanément indisponible"."""
    from bbs.store.db import disk_full

    key = "faults.disk_full" if error is not None and disk_full(error) else "board.db_unavailable"
    await session.send("{err}" + escape(session.text(key)) + "{/}\n")
