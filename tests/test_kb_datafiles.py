"""The Knowledge base's data files: the real ones, and every way a bad one is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bbs.kb.datafiles import MAX_COLUMNS, KbError, read_article, read_kb
from bbs.kb.model import kinds, parse_reference
from bbs.support.products import support_products

ROOT = Path(__file__).resolve().parents[1]

GOOD = """Article: KB-1234
Langue: fr
Produit: notes
Type: script
Titre: Un titre
Date: 1994-05-06
Mots-cles: un, deux mots

Le texte.
"""


def write(tmp_path: Path, text: str, name: str = "KB-1234.txt") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_real_base_has_at_least_forty_articles_of_every_kind() -> None:
    base = read_kb(ROOT / "data")
    assert len(base.articles) >= 40
    assert {a.kind for a in base.articles} == {k.code for k in kinds()}
    assert {a.lang for a in base.articles} == {"fr", "en"}
    assert all(1993 <= a.date.year <= 1995 for a in base.articles)
    assert all(a.product in support_products() for a in base.articles)
    assert len({a.number for a in base.articles}) == len(base.articles)
    # Original material: no phone number of our own making in any article.
    assert not any("+33" in a.body or "1-800" in a.body for a in base.articles)


def test_a_good_file_reads(tmp_path: Path) -> None:
    article = read_article(write(tmp_path, GOOD))
    assert article.reference == "KB-1234"
    assert article.keywords == ("un", "deux mots")
    assert article.body == "Le texte."


@pytest.mark.parametrize(
    ("change", "line", "message"),
    [
        (("Langue: fr", "Langue: de"), 2, "Langue"),
        (("Produit: notes", "Produit: word"), 3, "Produit"),
        (("Type: script", "Type: faq"), 4, "Type"),
        (("Date: 1994-05-06", "Date: 1996-05-06"), 6, "Date"),
        (("Date: 1994-05-06", "Date: 1994-02-30"), 6, "Date"),
        (("Article: KB-1234", "Article: KB-9999"), 1, "file name"),
        (("Mots-cles: un, deux mots", "Mots-cles: un,, deux"), 7, "empty keyword"),
        (("Titre: Un titre", "Titre: Un titre\nTitre: encore"), 6, "repeated"),
        (("Titre: Un titre", "Title: Un titre"), 5, "unknown key"),
        (("Le texte.", "x" * (MAX_COLUMNS + 1)), 9, "columns"),
        (("Le texte.", "avec\tune tabulation"), 9, "U+0009"),
    ],
)
def test_bad_files_are_refused_with_file_and_line(
    tmp_path: Path, change: tuple[str, str], line: int, message: str
) -> None:
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(KbError) as refused:
        read_article(path)
    assert str(refused.value).startswith(f"{path}:{line}:")
    assert message in str(refused.value)


def test_a_missing_key_and_a_bad_name_are_refused(tmp_path: Path) -> None:
    with pytest.raises(KbError, match="lacks Type"):
        read_article(write(tmp_path, GOOD.replace("Type: script\n", "")))
    with pytest.raises(KbError, match=":0: an article file is named"):
        read_article(write(tmp_path, GOOD, "kb1234.txt"))
    with pytest.raises(KbError, match="no body"):
        read_article(write(tmp_path, GOOD.replace("Le texte.\n", "")))


@pytest.mark.parametrize("typed", ["KB-1042", "kb-1042", "kb1042", "1042", " KB 1042 "])
def test_article_references_as_callers_type_them(typed: str) -> None:
    assert parse_reference(typed) == 1042


@given(st.text(max_size=20))
def test_a_reference_is_four_digits_or_nothing(typed: str) -> None:
    number = parse_reference(typed)
    assert number is None or (0 <= number <= 9999 and f"{number:04d}" in typed)
