"""Reading menus/*.toml and menus/go.toml into a MenuSet, refusing what the board cannot run.

Every problem is reported as `path:line: what is wrong`, all of them at once, so a
broken menu stops the board at start-up (and `bbs menus check`) rather than a caller
at run time.
"""

from __future__ import annotations

import re
import tomllib
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from bbs.menus.model import (
    ROLES,
    ROOT,
    Action,
    ActionKind,
    CommandSpec,
    Item,
    Localized,
    Menu,
    MenuError,
    MenuSet,
    parse_action,
)
from bbs.menus.strings import LANGS
from bbs.terminal.markup import MarkupError, parse

GO_FILE = "go.toml"
DEFAULTS_FILE = "defaults.toml"
"""Items every menu but the root gets after its own (the I, R and G of the rubriques)."""
"""Extra GO words (`WORD = "action"`); not a menu."""
ART_DIR = "art"
ART_SUFFIXES = (".ans", ".txt")
"""An art piece is needed in both forms: ANSI for colour terminals, markup for the rest."""

_MENU_KEYS = frozenset({"title", "text", "items", "go", "art", "show", "after"})
_ITEM_KEYS = frozenset({"key", "action", "label", "roles"})
_MENU_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")
_ART_NAME = re.compile(r"[a-z0-9_]+\Z")
_GO_WORD = re.compile(r"[A-Z0-9][A-Z0-9_-]*\Z")
_ITEMS_HEADER = re.compile(r"\s*\[\[\s*items\s*\]\]")
_TOML_WHERE = re.compile(r"\s*\(at line (\d+), column \d+\)|\s*\(at end of document\)")


def markup_problem(text: str) -> str | None:
    """What the renderer would refuse in markup `text` (see bbs.terminal.markup), or None."""
    try:
        parse(text)
    except MarkupError as exc:
        return f"markup {exc}"
    return None


class _Source:
    """One file's raw lines, to find the line a problem is on."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.items = [n for n, line in enumerate(self.lines, 1) if _ITEMS_HEADER.match(line)]

    def at(self, line: int, message: str) -> str:
        return f"{self.path}:{line}: {message}"

    def top(self, key: str) -> int:
        """Line where top-level `key` is set (`key = `, `key.x = ` or `[key]`); 1 if nowhere."""
        table = re.compile(rf"\[\s*{re.escape(key)}\s*\]")
        assignment = re.compile(rf"{re.escape(key)}\s*[=.]")
        in_root = True
        for number, raw in enumerate(self.lines, 1):
            line = raw.strip()
            if table.match(line):
                return number
            if line.startswith("["):
                in_root = False
            elif in_root and assignment.match(line):
                return number
        return 1

    def item(self, index: int, key: str | None = None) -> int:
        """Line of the `index`th `[[items]]` header, or of `key` inside that item."""
        if index >= len(self.items):
            # Items written inline (`items = [...]`) have no headers to count.
            return self.top("items")
        start = self.items[index]
        if key is None:
            return start
        end = self.items[index + 1] if index + 1 < len(self.items) else len(self.lines) + 1
        assignment = re.compile(rf"{re.escape(key)}\s*[=.]")
        table = re.compile(rf"\[\s*items\s*\.\s*{re.escape(key)}\s*\]")
        for number in range(start + 1, end):
            line = self.lines[number - 1].strip()
            if assignment.match(line) or table.match(line):
                return number
        return start

    def key_line(self, key: str) -> int:
        """Line of a `KEY = ` entry of a flat table (go.toml); 1 if nowhere."""
        pattern = re.compile(rf"(?:{re.escape(key)}|\"{re.escape(key)}\")\s*=")
        for number, line in enumerate(self.lines, 1):
            if pattern.match(line.strip()):
                return number
        return 1


def _toml(path: Path, problems: list[str]) -> tuple[_Source, dict[str, Any]] | None:
    """A file's text and parsed data; None (with the problem noted) when it is not TOML."""
    text = path.read_text(encoding="utf-8")
    source = _Source(path, text)
    try:
        return source, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        where = _TOML_WHERE.search(message)
        line = len(source.lines) or 1
        if where is not None and where.group(1):
            line = int(where.group(1))
        if where is not None:
            message = message[: where.start()] + message[where.end() :]
        problems.append(source.at(line, f"TOML syntax error: {message}"))
        return None


class _Loader:
    """Collects menus and problems across the files of one menus folder."""

    def __init__(self, folder: Path, commands: Mapping[str, CommandSpec]) -> None:
        self.folder = folder
        self.commands = commands
        self.problems: list[str] = []
        self.menus: dict[str, Menu] = {}
        self.sources: dict[str, _Source] = {}
        self.words: dict[str, Action] = {}
        self.word_where: dict[str, str] = {}
        self.menu_refs: list[tuple[_Source, int, str]] = []
        self.defaults: tuple[Item, ...] = ()

    def run(self) -> MenuSet:
        special = {GO_FILE, DEFAULTS_FILE}
        files = sorted(p for p in self.folder.glob("*.toml") if p.name not in special)
        defaults = self.folder / DEFAULTS_FILE
        if defaults.exists():
            self.read_defaults(defaults)
        for path in files:
            self.read_menu(path)
        go_file = self.folder / GO_FILE
        if go_file.exists():
            self.read_go(go_file)
        if not files:
            self.problems.append(f"{self.folder}: no menu files (*.toml)")
        elif ROOT not in self.menus and not any(p.stem == ROOT for p in files):
            self.problems.append(f"{self.folder}: no {ROOT}.toml, the menu every caller starts on")
        for source, line, target in self.menu_refs:
            if target not in self.sources:
                self.problems.append(source.at(line, f"menu:{target}: no menu {target!r}"))
        if not self.problems:
            # With broken menus, their links are unknown: every menu behind them would
            # be reported as well, hiding the real problem.
            self.check_reachable()
        if self.problems:
            raise MenuError(self.problems)
        return MenuSet(MappingProxyType(self.menus), MappingProxyType(self.words))

    # ------------------------------------------------------------------ menus

    def read_menu(self, path: Path) -> None:
        name = path.stem
        parsed = _toml(path, self.problems)
        if parsed is None:
            # Still counts as present, so links to it are not reported twice.
            self.sources[name] = _Source(path, "")
            return
        source, data = parsed
        self.sources[name] = source
        problems_before = len(self.problems)
        if not _MENU_NAME.match(name):
            self.problems.append(
                source.at(1, f"menu name {name!r}: use lower-case letters, digits and _")
            )
        for key in sorted(set(data) - _MENU_KEYS):
            self.problems.append(source.at(source.top(key), f"unknown key {key!r}"))

        title = self.localized(source, data.get("title"), "title", source.top("title"))
        text = self.localized(
            source, data.get("text"), "text", source.top("text"), allow_empty=True, markup=True
        )
        items = self.read_items(source, data.get("items"), root=name == ROOT)
        if items is not None and name != ROOT:
            own = {item.key.casefold() for item in items}
            items += tuple(d for d in self.defaults if d.key.casefold() not in own)
        go = self.read_go_words(source, data.get("go"), ActionKind.MENU, name)
        art = self.read_art(source, data.get("art"))
        show = self.read_show(source, data.get("show"))
        after = None
        if "after" in data:
            line = source.top("after")
            after = self.localized(source, data["after"], "after", line, markup=True)
            if "show" not in data:
                self.problems.append(source.at(line, "'after' is shown after 'show': set show"))

        if len(self.problems) > problems_before:
            return
        assert title is not None and text is not None and items is not None
        self.menus[name] = Menu(
            name=name,
            title=title,
            text=text,
            items=items,
            go=go,
            art=art,
            show=show,
            after=after,
            path=path,
            line=1,
        )

    def read_defaults(self, path: Path) -> None:
        """The items every menu but the root gets after its own."""
        parsed = _toml(path, self.problems)
        if parsed is None:
            return
        source, data = parsed
        for key in sorted(set(data) - {"items"}):
            self.problems.append(source.at(source.top(key), f"unknown key {key!r}"))
        items = self.read_items(source, data.get("items"), root=False)
        self.defaults = items or ()

    def localized(
        self,
        source: _Source,
        value: object,
        what: str,
        line: int,
        *,
        allow_empty: bool = False,
        markup: bool = False,
    ) -> Localized | None:
        """A text in every language, or None with the problem noted.

        Texts are markup; titles and labels are plain text (the engine escapes them),
        so a brace there would show as typed: refused.
        """
        if not isinstance(value, dict):
            state = "missing" if value is None else "not a table"
            self.problems.append(source.at(line, f"{what} {state}: give fr, en and de"))
            return None
        ok = True
        unknown = sorted(set(value) - set(LANGS))
        if unknown:
            self.problems.append(source.at(line, f"{what}: unknown language {', '.join(unknown)}"))
            ok = False
        missing = [lang for lang in LANGS if not isinstance(value.get(lang), str)]
        if missing:
            self.problems.append(
                source.at(line, f"{what} lacks a translation: {', '.join(missing)}")
            )
            return None
        for lang in LANGS:
            text: str = value[lang]
            if not allow_empty and not text.strip():
                self.problems.append(source.at(line, f"{what} ({lang}) is empty"))
                ok = False
            if markup:
                problem = markup_problem(text)
            elif "{" in text or "}" in text:
                problem = "plain text, no markup or braces"
            else:
                problem = None
            if problem is not None:
                self.problems.append(source.at(line, f"{what} ({lang}): {problem}"))
                ok = False
        if not ok:
            return None
        return MappingProxyType({lang: value[lang] for lang in LANGS})

    def read_items(self, source: _Source, value: object, *, root: bool) -> tuple[Item, ...] | None:
        if value is None or value == []:
            self.problems.append(source.at(1, "a menu needs at least one item"))
            return None
        if not isinstance(value, list):
            self.problems.append(source.at(source.top("items"), "items must be [[items]] tables"))
            return None
        items: list[Item] = []
        seen: dict[str, int] = {}
        ok = True
        for index, raw in enumerate(value):
            header = source.item(index)
            if not isinstance(raw, dict):
                self.problems.append(source.at(header, "an item must be a table"))
                ok = False
                continue
            for key in sorted(set(raw) - _ITEM_KEYS):
                self.problems.append(
                    source.at(source.item(index, key), f"item: unknown key {key!r}")
                )
                ok = False
            key = raw.get("key")
            key_line = source.item(index, "key")
            if not isinstance(key, str) or len(key) != 1 or key.isspace() or not key.isprintable():
                self.problems.append(
                    source.at(key_line, f"hotkey {key!r}: one printable, non-blank character")
                )
                ok = False
            elif key.casefold() in seen:
                first = seen[key.casefold()]
                self.problems.append(
                    source.at(key_line, f"hotkey {key!r} already used on line {first}")
                )
                ok = False
            else:
                seen[key.casefold()] = key_line
            action_line = source.item(index, "action")
            action = self.read_action(source, raw.get("action"), action_line, "item")
            if action is not None and action.kind is ActionKind.BACK and root:
                self.problems.append(
                    source.at(action_line, f"'back' on {ROOT!r}: there is nothing to go back to")
                )
                action = None
            label = self.localized(source, raw.get("label"), "label", source.item(index, "label"))
            known = len(self.problems)
            roles = self.read_roles(source, raw.get("roles"), source.item(index, "roles"))
            if action is None or label is None or not isinstance(key, str):
                ok = False
                continue
            if len(self.problems) > known:
                ok = False
                continue
            items.append(Item(key=key, action=action, label=label, line=header, roles=roles))
        return tuple(items) if ok else None

    def read_roles(self, source: _Source, value: object, line: int) -> frozenset[str] | None:
        """An item's `roles`: None when absent or (after reporting it) invalid."""
        if value is None:
            return None
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(r, str) and r in ROLES for r in value)
        ):
            self.problems.append(
                source.at(line, f"roles {value!r}: a non-empty list of {', '.join(ROLES)}")
            )
            return None
        return frozenset(value)

    def read_action(self, source: _Source, value: object, line: int, what: str) -> Action | None:
        """A checked action: its kind known, its menu existing, its command and argument valid."""
        if not isinstance(value, str):
            self.problems.append(source.at(line, f"{what}: action missing or not a string"))
            return None
        try:
            action = parse_action(value)
        except ValueError as exc:
            self.problems.append(source.at(line, str(exc)))
            return None
        if action.kind is ActionKind.MENU:
            self.menu_refs.append((source, line, action.target))
        elif action.kind is ActionKind.CMD:
            problem = self.command_problem(action)
            if problem is not None:
                self.problems.append(source.at(line, f"{value}: {problem}"))
                return None
        return action

    def command_problem(self, action: Action) -> str | None:
        spec = self.commands.get(action.target)
        if spec is None:
            known = ", ".join(sorted(self.commands)) or "none"
            return f"unknown command {action.target!r} (commands: {known})"
        if not spec.takes_arg:
            return "takes no argument" if action.arg is not None else None
        if action.arg is None:
            return "needs an argument (cmd:NAME:ARG)"
        return spec.validate(action.arg) if spec.validate is not None else None

    def read_show(self, source: _Source, value: object) -> Action | None:
        if value is None:
            return None
        line = source.top("show")
        action = self.read_action(source, value, line, "show")
        if action is None:
            return None
        if action.kind is not ActionKind.CMD:
            self.problems.append(source.at(line, f"show = {value!r}: show must be a cmd: action"))
            return None
        if not self.commands[action.target].showable:
            self.problems.append(
                source.at(line, f"show = {value!r}: this command asks questions; make it an item")
            )
            return None
        return action

    def read_art(self, source: _Source, value: object) -> str:
        if value is None or value == "":
            return ""
        line = source.top("art")
        if not isinstance(value, str) or not _ART_NAME.match(value):
            self.problems.append(source.at(line, f"art {value!r}: a base name such as 'index'"))
            return ""
        folder = self.folder / ART_DIR
        missing = [f"{value}{s}" for s in ART_SUFFIXES if not (folder / f"{value}{s}").is_file()]
        if missing:
            self.problems.append(
                source.at(line, f"art {value!r}: missing {', '.join(missing)} in {folder}")
            )
            return value
        problem = markup_problem((folder / f"{value}.txt").read_text(encoding="utf-8"))
        if problem is not None:
            self.problems.append(source.at(line, f"art {value!r}: {value}.txt: {problem}"))
        return value

    # --------------------------------------------------------------- GO words

    def read_go_words(
        self, source: _Source, value: object, kind: ActionKind, menu: str
    ) -> tuple[str, ...]:
        if value is None:
            return ()
        line = source.top("go")
        if not isinstance(value, list) or not all(isinstance(w, str) for w in value):
            self.problems.append(source.at(line, "go must be a list of words"))
            return ()
        words: list[str] = []
        for word in value:
            if self.add_word(source, line, word, Action(kind, menu)):
                words.append(word)
        return tuple(words)

    def add_word(self, source: _Source, line: int, word: str, action: Action) -> bool:
        if not _GO_WORD.match(word):
            self.problems.append(
                source.at(line, f"GO word {word!r}: capitals A-Z, digits, - and _ only")
            )
            return False
        if word in self.words:
            self.problems.append(
                source.at(line, f"GO word {word!r} already used at {self.word_where[word]}")
            )
            return False
        self.words[word] = action
        self.word_where[word] = f"{source.path}:{line}"
        return True

    def read_go(self, path: Path) -> None:
        parsed = _toml(path, self.problems)
        if parsed is None:
            return
        source, data = parsed
        for word, value in data.items():
            line = source.key_line(word)
            action = self.read_action(source, value, line, f"GO {word}")
            if action is None:
                continue
            if action.kind is ActionKind.BACK:
                self.problems.append(source.at(line, f"GO {word}: 'back' is not a place to go"))
                continue
            self.add_word(source, line, word, action)

    # ----------------------------------------------------------- reachability

    def check_reachable(self) -> None:
        if ROOT not in self.menus:
            return
        reached = {ROOT}
        queue = deque([ROOT])
        while queue:
            for item in self.menus[queue.popleft()].items:
                target = item.action.target
                if item.action.kind is ActionKind.MENU and target not in reached:
                    reached.add(target)
                    if target in self.menus:
                        queue.append(target)
        for name, menu in self.menus.items():
            if name not in reached:
                self.problems.append(
                    f"{menu.path}:{menu.line}: menu {name!r} cannot be reached from {ROOT!r}"
                )


def load_menus(folder: Path, commands: Mapping[str, CommandSpec]) -> MenuSet:
    """Every menu in `folder` and its GO words, checked against `commands`.

    Raises MenuError listing every problem found (`path:line: ...`), the first one first.
    """
    return _Loader(folder, commands).run()
