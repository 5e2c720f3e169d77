"""The catalogue (data/catalogue.toml): what it holds, and its refusals at their line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bbs.catalogue import catalogue, default_data_dir, use_catalogue
from bbs.catalogue.datafile import CATALOGUE_FILE, read_catalogue
from bbs.cli import main
from bbs.directory.datafiles import DataError

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"


def test_the_bundled_catalogue_keeps_every_code_in_menu_order() -> None:
    found = read_catalogue(DATA)
    assert [f.code for f in found.families] == ["desktop", "ccmail", "notes", "devtools", "wt"]
    assert [f.code for f in found.families if f.covers_all] == ["wt"]
    assert [p.code for p in found.library_products] == [
        *("123-dos", "123-win", "123-os2", "notes", "ccmail", "amipro"),
        *("freelance", "approach", "organizer", "smartsuite"),
    ]
    assert [p.code for p in found.products if not p.library] == ["notes-vip", "notes-api", "hitest"]
    assert {p.family for p in found.products if not p.library} == {"devtools"}
    assert found.product("123-win").family == "desktop"
    assert found.product("123-dos").names.de == "1-2-3 für DOS"
    assert found.family("devtools").names.fr == "Produits Lotus Developer Tools"
    assert [k.code for k in found.kinds] == ["script", "mise_a_jour", "reponse", "modele"]
    assert found.kind("reponse").names.en == "Questions and answers"
    assert found == catalogue()
    assert (default_data_dir() / CATALOGUE_FILE).is_file()


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    text = (DATA / CATALOGUE_FILE).read_text(encoding="utf-8")
    assert old in text
    (tmp_path / CATALOGUE_FILE).write_text(text.replace(old, new, 1), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("old", "new", "needle", "message"),
    [
        ('code = "123-os2"', 'code = "123-win"', 'code = "123-win"\nfamily', "duplicate product"),
        ('family = "notes"', 'family = "lotus"', 'family = "lotus"', "not a product family"),
        ('family = "ccmail"', 'family = "wt"', 'family = "wt"', "not a product family"),
        ('de = "Vorlagen" }', 'dee = "Vorlagen" }', "dee", "unknown language"),
        ("needs_file = true", "needs_file = 1", "needs_file = 1", "must be true or false"),
        ('code = "faq"', 'code = "faq"\ncolour = "red"', "colour", "unknown key 'colour'"),
        ('code = "modele"', 'code = "Modèle"', "Modèle", "lower-case"),
    ],
)
def test_a_mistake_is_refused_at_its_line(
    tmp_path: Path, old: str, new: str, needle: str, message: str
) -> None:
    folder = _broken(tmp_path, old, new)
    with pytest.raises(DataError, match=message) as caught:
        read_catalogue(folder)
    first = needle.split("\n")[0]
    lines = [
        i
        for i, line in enumerate((folder / CATALOGUE_FILE).read_text().splitlines(), start=1)
        if first in line
    ]
    assert str(caught.value).startswith(f"{folder / CATALOGUE_FILE}:")
    assert int(str(caught.value).split(":")[1]) in lines


def test_a_missing_catalogue_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=rf"{CATALOGUE_FILE}:0: missing data file"):
        read_catalogue(tmp_path)


def test_a_refused_catalogue_leaves_the_installed_one(tmp_path: Path) -> None:
    before = catalogue()
    folder = _broken(tmp_path, "[[kind]]", "[[kind]]\n[[kind]]")
    with pytest.raises(DataError, match="missing 'code'"):
        use_catalogue(folder)
    assert catalogue() is before


def test_the_command_line_reads_the_data_folders_catalogue(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "data"
    shutil.copytree(DATA, folder)
    text = (folder / CATALOGUE_FILE).read_text(encoding="utf-8")
    (folder / CATALOGUE_FILE).write_text(text.replace("[[kind]]", "[[kinde]]", 1), "utf-8")
    db = f"sqlite:///{tmp_path / 'bbs.db'}"
    try:
        assert main(["load", str(folder), "--db", db]) == 2
    finally:
        use_catalogue(DATA)
    err = capsys.readouterr().err
    assert err.startswith(f"bbs: {folder / CATALOGUE_FILE}:")
    assert "unknown key 'kinde'" in err
    assert not (tmp_path / "bbs.db").exists()
