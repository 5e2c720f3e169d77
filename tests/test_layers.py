"""The package's floors: each module imports only from its own floor or the ones below,
imports inside functions and under TYPE_CHECKING included, and no import cycle exists.

The floors, bottom up (README, "Layout"):

0. foundations: errors, configuration, numbers, the terminal (capabilities, markup,
   rendering, encodings), text folding, localised strings;
1. domain: records and pure rules (directory, catalogue, documents' query and text,
   account names and passwords, entitlements, transfer protocols, fax pages, menu files);
2. store: the schema, sync and migrations, one repository per area, the loader on top;
3. the session (one caller's terminal), who is on line (forums/presence), and telnet/
   (which needs only the session's Link);
4. application: `Context`, `Command`, `Verb`, the narrow `Node`, and the menu engine;
5. screens and front ends: bbs/services, the web site, FTP, SSH, the Minitel, the cluster;
6. `board.py`, assembling everything, and the command line.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "bbs"

FLOORS: list[tuple[str, ...]] = [
    (
        "bbs.errors",
        "bbs.config",
        "bbs.numbers",
        "bbs.terminal",
        "bbs.directory.text",
        "bbs.menus.strings",
        "bbs.menus",
    ),
    (
        "bbs.directory",
        "bbs.catalogue",
        "bbs.documents.query",
        "bbs.documents.text",
        "bbs.library.model",
        "bbs.library.datafiles",
        "bbs.library.text",
        "bbs.kb.model",
        "bbs.kb.datafiles",
        "bbs.accounts.names",
        "bbs.accounts.confusables",
        "bbs.accounts.passwords",
        "bbs.accounts.model",
        "bbs.support.products",
        "bbs.transfer",
        "bbs.fax.numbers",
        "bbs.fax.tone",
        "bbs.fax.render",
        "bbs.fax.tiff",
        "bbs.menus.model",
        "bbs.menus.loader",
    ),
    (
        "bbs.store",
        "bbs.documents",
        "bbs.library",
        "bbs.kb",
        "bbs.accounts",
        "bbs.support",
        "bbs.forums",
        "bbs.fax",
    ),
    ("bbs.session", "bbs.telnet", "bbs.forums.presence"),
    ("bbs.services.registry", "bbs.menus.engine"),
    (
        "bbs.services",
        "bbs.web",
        "bbs.ftp",
        "bbs.cluster",
        "bbs.fax.service",
        "bbs.fax.phone",
        "bbs.ssh",
        "bbs.minitel",
    ),
    (
        "bbs.board",
        "bbs.cli",
        "bbs.__main__",
        "bbs.accounts.cli",
        "bbs.support.cli",
        "bbs.fax.cli",
    ),
]
"""Module prefixes by floor; a module belongs to the floor of its longest prefix."""


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(ROOT.rglob("*.py")) if "migrations" not in p.parts}


def imports(path: Path, module: str) -> Iterator[tuple[int, str]]:
    """(line, module) of every import of a bbs module in `path`, wherever it stands."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                # `from bbs.services import forums` imports the module bbs.services.forums.
                yield node.lineno, f"{base}.{alias.name}"


def resolve(name: str, known: dict[str, Path]) -> str | None:
    """The bbs module an imported name lives in (a name may be a module or its member)."""
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def floor_of(module: str) -> int:
    best, floor = -1, -1
    for n, prefixes in enumerate(FLOORS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, floor = len(prefix), n
    return floor


def graph() -> dict[str, set[tuple[int, str]]]:
    known = modules()
    found: dict[str, set[tuple[int, str]]] = {}
    for module, path in known.items():
        targets = found.setdefault(module, set())
        for line, name in imports(path, module):
            target = resolve(name, known)
            if target is not None and target != module:
                targets.add((line, target))
    return found


def test_every_module_has_a_floor() -> None:
    assert [m for m in modules() if m != "bbs" and floor_of(m) < 0] == []


def upward(edges: dict[str, set[tuple[int, str]]]) -> list[str]:
    """Every import from a floor up to a higher one, described."""
    found = []
    for module, targets in edges.items():
        for line, target in sorted(targets):
            if target == "bbs" or module == "bbs":
                continue
            if floor_of(target) > floor_of(module):
                found.append(
                    f"{module} (floor {floor_of(module)}) line {line} imports {target} "
                    f"(floor {floor_of(target)})"
                )
    return found


def test_imports_go_down_never_up() -> None:
    assert upward(graph()) == []


def test_an_upward_import_is_caught() -> None:
    """The check itself: the renderer importing the board would be refused."""
    edges = graph()
    edges["bbs.terminal.render"] = {*edges["bbs.terminal.render"], (1, "bbs.board")}
    assert upward(edges) == ["bbs.terminal.render (floor 0) line 1 imports bbs.board (floor 6)"]


def test_no_import_cycle() -> None:
    edges = {m: {t for _, t in ts} for m, ts in graph().items()}
    seen: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> list[str] | None:
        seen[module] = 1
        stack.append(module)
        for target in sorted(edges.get(module, ())):
            if seen.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in seen and (cycle := visit(target)):
                return cycle
        stack.pop()
        seen[module] = 2
        return None

    for module in sorted(edges):
        if module not in seen and (cycle := visit(module)):
            pytest.fail("import cycle: " + " -> ".join(cycle))


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        ("bbs.menus.engine", "bbs.services."),
        ("bbs.telnet", "bbs.session."),
    ],
)
def test_narrow_seams(module: str, forbidden: str) -> None:
    """The engine runs no screen by name (only `bbs.services.registry`), and telnet/ sees
    only the session's `Link`."""
    allowed = {"bbs.services.registry", "bbs.session.link"}
    for name, targets in graph().items():
        if name == module or name.startswith(module + "."):
            bad = {t for _, t in targets if t.startswith(forbidden) and t not in allowed}
            assert not bad, f"{name} imports {sorted(bad)}"


def test_only_the_board_module_and_the_command_line_know_board() -> None:
    users = {m for m, ts in graph().items() if any(t == "bbs.board" for _, t in ts)}
    assert users <= {"bbs.cli"}, sorted(users)
