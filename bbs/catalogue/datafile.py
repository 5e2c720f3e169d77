"""`data/catalogue.toml` read into a `Catalogue`, strictly: errors start with "path:line:"."""

from __future__ import annotations

import re
from pathlib import Path

from bbs.catalogue.model import Catalogue, Category, Family, Kind, Product
from bbs.directory.datafiles import DataError, DataFile, data_entries, entry_label, top_level

CATALOGUE_FILE = "catalogue.toml"
"""The catalogue's file, in the data folder."""

_CODE = re.compile(r"[a-z0-9][a-z0-9_-]*")


def _codes(file: DataFile, table: str) -> None:
    seen: set[str] = set()
    for entry in data_entries(file, table, entry_label(table, "code")):
        code = entry.text("code")
        if not _CODE.fullmatch(code):
            raise entry.fail("code must be lower-case letters, digits, '-' and '_'", "code")
        if code in seen:
            raise entry.fail(f"duplicate {table} code", "code")
        seen.add(code)
    if not seen:
        raise file.error(f"no [[{table}]] at all")


def read_catalogue(data_dir: Path) -> Catalogue:
    """The catalogue of the data folder `data_dir`; DataError when it cannot be used."""
    file = DataFile.read(data_dir / CATALOGUE_FILE)
    top_level(file, ["family", "product", "category", "kind"], "catalogue")
    for table in ("family", "product", "category", "kind"):
        _codes(file, table)
    families: list[Family] = []
    for entry in data_entries(file, "family", entry_label("family", "code")):
        entry.only(["code", "names", "covers_all"])
        covers_all = entry.data.get("covers_all", False)
        if not isinstance(covers_all, bool):
            raise entry.fail("'covers_all' must be true or false", "covers_all")
        families.append(Family(entry.text("code"), entry.names("names"), covers_all))
    if sum(f.covers_all for f in families) > 1:
        raise file.error("more than one family has covers_all = true", "family", 0, "covers_all")
    products: list[Product] = []
    for entry in data_entries(file, "product", entry_label("product", "code")):
        entry.only(["code", "names", "family", "library"])
        family = entry.text("family")
        if family not in {f.code for f in families if not f.covers_all}:
            known = ", ".join(f.code for f in families if not f.covers_all)
            raise entry.fail(f"family {family!r} is not a product family ({known})", "family")
        library = entry.data.get("library", True)
        if not isinstance(library, bool):
            raise entry.fail("'library' must be true or false", "library")
        products.append(Product(entry.text("code"), entry.names("names"), family, library))
    categories: list[Category] = []
    for entry in data_entries(file, "category", entry_label("category", "code")):
        entry.only(["code", "names", "needs_file"])
        needs_file = entry.data.get("needs_file", False)
        if not isinstance(needs_file, bool):
            raise entry.fail("'needs_file' must be true or false", "needs_file")
        categories.append(Category(entry.text("code"), entry.names("names"), needs_file))
    kinds: list[Kind] = []
    for entry in data_entries(file, "kind", entry_label("kind", "code")):
        entry.only(["code", "names"])
        kinds.append(Kind(entry.text("code"), entry.names("names")))
    return Catalogue(tuple(families), tuple(products), tuple(categories), tuple(kinds))


__all__ = ["CATALOGUE_FILE", "DataError", "read_catalogue"]
