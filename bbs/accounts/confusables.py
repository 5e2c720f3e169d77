"""Unicode confusable skeletons (UTS #39): how a name looks, whatever script draws it."""

from __future__ import annotations

import functools
import unicodedata
from importlib import resources


@functools.cache
def _table() -> dict[int, str]:
    """Source code point -> prototype string, from the bundled confusables mapping."""
    mapping: dict[int, str] = {}
    text = resources.files("bbs.accounts").joinpath("confusables.tsv").read_text("ascii")
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        source, target = line.split("\t")
        mapping[int(source, 16)] = "".join(chr(int(cp, 16)) for cp in target.split())
    return mapping


def skeleton(text: str) -> str:
    """UTS #39's skeleton: NFD, each character replaced by its prototype, NFD again.

    Two strings with the same skeleton are confusable: "ꓢysop" (Lisu), "Ꮪysop"
    (Cherokee) and "Տysop" (Armenian) all have the skeleton of "Sysop".
    """
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFD", decomposed.translate(_table()))
