"""Typed, immutable menus as loaded from menus/*.toml: actions, items, menus and the set."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from bbs.directory.text import fold

ROLES = ("guest", "caller", "contact", "specialist", "sysop")
"""Caller roles an item may be restricted to (`roles = [...]`), least trusted first."""

ROOT = "index"
"""The menu every session starts on; every other menu must be reachable from it."""

Localized = Mapping[str, str]
"""A text in each board language, keyed "fr", "en", "de" (read-only)."""

Validator = Callable[[str | None], str | None]
"""Checks a command argument at load time: an error message, or None when it is fine."""


class MenuError(ValueError):
    """Menu files the board cannot run; each problem reads `path:line: what is wrong`."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        super().__init__("\n".join(self.problems))


class ActionKind(StrEnum):
    """What choosing an item does."""

    MENU = "menu"
    BACK = "back"
    CMD = "cmd"
    LOGOFF = "logoff"


@dataclass(frozen=True, slots=True)
class Action:
    """A parsed action: `menu:NAME`, `back`, `cmd:NAME`, `cmd:NAME:ARG` or `logoff`.

    `target` is the menu or command name ("" for back and logoff); `arg` is the command's
    argument, None when there is none.
    """

    kind: ActionKind
    target: str = ""
    arg: str | None = None

    def __str__(self) -> str:
        if self.kind in (ActionKind.BACK, ActionKind.LOGOFF):
            return self.kind.value
        text = f"{self.kind.value}:{self.target}"
        return text if self.arg is None else f"{text}:{self.arg}"


_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")


def parse_action(text: str) -> Action:
    """The action written as `text`; ValueError saying why when it is not one."""
    kind, sep, rest = text.strip().partition(":")
    if kind in (ActionKind.BACK, ActionKind.LOGOFF):
        if sep:
            raise ValueError(f"action {text!r}: {kind!r} takes nothing after it")
        return Action(ActionKind(kind))
    if kind == ActionKind.MENU:
        if not _NAME.match(rest):
            raise ValueError(f"action {text!r}: a menu name is lower-case letters, digits, _")
        return Action(ActionKind.MENU, rest)
    if kind == ActionKind.CMD:
        name, sep, arg = rest.partition(":")
        if not _NAME.match(name):
            raise ValueError(f"action {text!r}: a command name is lower-case letters, digits, _")
        if sep and not arg:
            raise ValueError(f"action {text!r}: empty argument after the command name")
        return Action(ActionKind.CMD, name, arg if sep else None)
    kinds = ", ".join(f"{k.value}" for k in ActionKind)
    raise ValueError(f"unknown action {text!r} (kinds: {kinds})")


def normalize_word(word: str) -> str:
    """A GO word as compared: upper case, accents dropped ("télématique" -> "TELEMATIQUE")."""
    return fold(word).upper()


class CommandSpec(Protocol):
    """What the loader must know of a command to check the actions that name it.

    With `takes_arg` false, an argument is refused; with it true, an argument is required
    and `validate` (when set) judges it. `showable` commands only print, so a menu may
    run them under its text (`show =`).
    """

    @property
    def takes_arg(self) -> bool: ...

    @property
    def validate(self) -> Validator | None: ...

    @property
    def showable(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class StaticCommand:
    """A plain CommandSpec, for checking menus without the board's real commands."""

    takes_arg: bool = False
    validate: Validator | None = None
    showable: bool = False


def one_of(codes: Iterable[str]) -> Validator:
    """A validator that accepts exactly the given codes."""
    allowed = frozenset(codes)

    def validate(arg: str | None) -> str | None:
        if arg in allowed:
            return None
        return f"unknown code {arg!r} (known: {', '.join(sorted(allowed))})"

    return validate


@dataclass(frozen=True, slots=True)
class Item:
    """One choice of a menu: a hotkey, what it does, and its label in each language."""

    key: str
    action: Action
    label: Localized
    line: int = 0
    roles: frozenset[str] | None = None
    """The caller roles that see and may choose this item; None for everyone."""

    def offered_to(self, role: str) -> bool:
        """Whether a caller of `role` sees this item."""
        return self.roles is None or role in self.roles


@dataclass(frozen=True, slots=True)
class Menu:
    """One rubrique: title and text in each language, the choices, and how to reach it.

    `show` is a command whose output is displayed right under the text (a rubrique's
    table); `after` is text displayed after that output, before the items (footnotes,
    remarks that follow the table in the seed). `art` names art in menus/art/ shown
    above the menu. `path` and `line` say where the menu was read.
    """

    name: str
    title: Localized
    text: Localized
    items: tuple[Item, ...]
    go: tuple[str, ...] = ()
    art: str = ""
    show: Action | None = None
    after: Localized | None = None
    path: Path = Path()
    line: int = 1

    def item(self, key: str) -> Item | None:
        """The item whose hotkey is `key` (any case), or None."""
        folded = key.casefold()
        return next((i for i in self.items if i.key.casefold() == folded), None)

    @property
    def keys(self) -> tuple[str, ...]:
        """The hotkeys, in menu order."""
        return tuple(item.key for item in self.items)

    def offered(self, role: str) -> tuple[Item, ...]:
        """The items a caller of `role` sees."""
        return tuple(item for item in self.items if item.offered_to(role))

    def key_hint(self, role: str | None = None) -> str:
        """The hotkeys in short, for a prompt: runs of digits folded ("1-4, N, I, R, G")."""
        keys = self.keys if role is None else tuple(i.key for i in self.offered(role))
        parts: list[str] = []
        run: list[str] = []

        def flush() -> None:
            if len(run) > 2:
                parts.append(f"{run[0]}-{run[-1]}")
            else:
                parts.extend(run)
            run.clear()

        for key in keys:
            if key.isdigit() and run and int(key) == int(run[-1]) + 1:
                run.append(key)
                continue
            flush()
            if key.isdigit():
                run.append(key)
            else:
                parts.append(key)
        flush()
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class MenuSet:
    """Every menu by name, and what each GO word leads to."""

    menus: Mapping[str, Menu]
    words: Mapping[str, Action]
    root: str = ROOT

    def __getitem__(self, name: str) -> Menu:
        return self.menus[name]

    def __contains__(self, name: object) -> bool:
        return name in self.menus

    def __iter__(self) -> Iterator[Menu]:
        return iter(self.menus.values())

    def __len__(self) -> int:
        return len(self.menus)

    def get(self, name: str) -> Menu:
        """The menu called `name`; KeyError when there is none."""
        return self.menus[name]

    @property
    def index(self) -> Menu:
        """The root menu."""
        return self.menus[self.root]

    def go_action(self, word: str) -> Action | None:
        """Where `GO word` leads (any case, accents ignored), or None for an unknown word."""
        return self.words.get(normalize_word(word))

    def go_words(self) -> tuple[str, ...]:
        """Every GO word, sorted."""
        return tuple(sorted(self.words))
