"""The touch-tone ordering dialogue as a pure state machine, shared by every front end.

A key is one of ``0``-``9``, ``#`` (confirm) and ``*`` (back). Each key gives what to
say (string keys of `menus/strings/fax.toml`) and, once the caller confirms, the order;
the front end speaks, stores and sends, the machine never does any I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum

from bbs.fax.numbers import parse_fax_number

KEYS = frozenset("0123456789*#")
"""The keys of a touch-tone telephone the dialogue uses (A-D are ignored)."""

MAX_DOCUMENTS = 5
"""Documents one call may order."""

MAX_ENTRY = 20
"""Digits kept for one entry; more are refused one by one."""


def parse_keys(data: str | bytes) -> list[str]:
    """The touch-tone keys in `data`, in order; anything else is dropped."""
    text = data.decode("latin-1") if isinstance(data, bytes) else data
    return [c for c in text if c in KEYS]


class Step(Enum):
    """Where the caller is in the dialogue."""

    MENU = "menu"
    DOCUMENTS = "documents"
    NUMBER = "number"
    CONFIRM = "confirm"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class Say:
    """A message for the caller: a string key and its values."""

    key: str
    values: tuple[tuple[str, str], ...] = ()

    def kwargs(self) -> dict[str, str]:
        """The values as keyword arguments for `Strings.get`."""
        return dict(self.values)


@dataclass(frozen=True, slots=True)
class Order:
    """What the caller confirmed: the catalogue, or documents, to send to `number`."""

    catalogue: bool
    documents: tuple[int, ...]
    number: str


Output = Say | Order


def _say(key: str, **values: object) -> Say:
    return Say(key, tuple((k, str(v)) for k, v in values.items()))


def document_list(numbers: Sequence[int]) -> str:
    """Documents as said back to the caller: `10112, 1001`."""
    return ", ".join(str(n) for n in numbers)


@dataclass
class ToneMachine:
    """One call's dialogue. `known` holds the document numbers the catalogue lists."""

    known: frozenset[int]
    max_documents: int = MAX_DOCUMENTS
    step: Step = Step.MENU
    catalogue: bool = False
    documents: list[int] = field(default_factory=list)
    entry: str = ""
    number: str = ""

    @property
    def done(self) -> bool:
        """Whether the order is placed and the call may end."""
        return self.step is Step.DONE

    def start(self) -> list[Output]:
        """The greeting and the main menu."""
        return [_say("fax.tone.welcome"), _say("fax.tone.menu")]

    def feed(self, keys: Iterable[str]) -> list[Output]:
        """Every output of a run of keys, in order."""
        return [out for key in keys for out in self.press(key)]

    def press(self, key: str) -> list[Output]:
        """What one key press does; anything but a touch-tone key does nothing."""
        if key not in KEYS or self.step is Step.DONE:
            return []
        if self.step is Step.MENU:
            return self._menu(key)
        if self.step is Step.DOCUMENTS:
            return self._documents(key)
        if self.step is Step.NUMBER:
            return self._number(key)
        return self._confirm(key)

    # ------------------------------------------------------------------ steps

    def _menu(self, key: str) -> list[Output]:
        if key == "1":
            self.catalogue, self.documents = True, []
            return self._ask_number()
        if key == "2":
            self.catalogue = False
            self.step = Step.DOCUMENTS
            return [_say("fax.tone.ask_document", max=self.max_documents)]
        if key in "*#":
            return [_say("fax.tone.menu")]
        return [_say("fax.tone.bad_choice"), _say("fax.tone.menu")]

    def _digit(self, key: str) -> list[Output]:
        if len(self.entry) >= MAX_ENTRY:
            return [_say("fax.tone.too_long")]
        self.entry += key
        return []

    def _documents(self, key: str) -> list[Output]:
        if key.isdigit():
            return self._digit(key)
        if key == "*":
            if self.entry:
                self.entry = ""
                return [_say("fax.tone.cleared")]
            if self.documents:
                removed = self.documents.pop()
                return [_say("fax.tone.document_removed", number=removed)]
            self.step = Step.MENU
            return [_say("fax.tone.menu")]
        entry, self.entry = self.entry, ""
        if not entry:
            if not self.documents:
                return [_say("fax.tone.none_yet", max=self.max_documents)]
            return self._ask_number()
        number = int(entry)
        if number not in self.known:
            return [_say("fax.tone.unknown_document", number=entry)]
        if number in self.documents:
            return [_say("fax.tone.already", number=number)]
        self.documents.append(number)
        said = _say(
            "fax.tone.document_added",
            number=number,
            count=len(self.documents),
            max=self.max_documents,
        )
        if len(self.documents) >= self.max_documents:
            return [said, _say("fax.tone.full"), *self._ask_number()]
        return [said]

    def _ask_number(self) -> list[Output]:
        self.step, self.entry = Step.NUMBER, ""
        return [_say("fax.tone.ask_number")]

    def _number(self, key: str) -> list[Output]:
        if key.isdigit():
            return self._digit(key)
        if key == "*":
            if self.entry:
                self.entry = ""
                return [_say("fax.tone.cleared")]
            if self.catalogue:
                self.step = Step.MENU
                return [_say("fax.tone.menu")]
            self.step = Step.DOCUMENTS
            return [_say("fax.tone.ask_document", max=self.max_documents)]
        entry, self.entry = self.entry, ""
        number = parse_fax_number(entry)
        if number is None:
            return [_say("fax.tone.bad_number")]
        self.number, self.step = number, Step.CONFIRM
        if self.catalogue:
            return [_say("fax.tone.confirm_catalogue", number=number)]
        return [
            _say(
                "fax.tone.confirm_documents",
                documents=document_list(self.documents),
                number=number,
            )
        ]

    def _confirm(self, key: str) -> list[Output]:
        if key == "#":
            self.step = Step.DONE
            return [Order(self.catalogue, tuple(self.documents), self.number)]
        if key == "*":
            self.number = ""
            return self._ask_number()
        return [_say("fax.tone.confirm_keys")]
