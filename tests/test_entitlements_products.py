"""Product families: every product has one, Working Together covers them all."""

from __future__ import annotations

import pytest

from bbs.catalogue import catalogue
from bbs.library.model import products
from bbs.support.products import (
    covers,
    family_codes,
    family_name,
    family_of,
    product_family_codes,
    product_name,
    support_products,
)

FAMILY_CODES = family_codes()
PRODUCT_FAMILY_CODES = product_family_codes()
SUPPORT_PRODUCTS = support_products()
PRODUCT_CODES = {p.code for p in products()}


def test_families_are_the_seeds_four_and_working_together() -> None:
    assert FAMILY_CODES == ("desktop", "ccmail", "notes", "devtools", "wt")
    for names in (f.names for f in catalogue().families):
        assert names.fr and names.en and names.de


def test_every_library_product_has_a_family() -> None:
    assert set(SUPPORT_PRODUCTS) >= PRODUCT_CODES
    assert set(SUPPORT_PRODUCTS.values()) == set(PRODUCT_FAMILY_CODES)
    assert family_of("123-win") == "desktop"
    assert family_of("amipro") == "desktop"
    assert family_of("notes") == "notes"
    assert family_of("ccmail") == "ccmail"
    assert family_of("notes-vip") == "devtools"


def test_unknown_product_has_no_family() -> None:
    with pytest.raises(KeyError):
        family_of("wordperfect")


@pytest.mark.parametrize("family", PRODUCT_FAMILY_CODES)
def test_a_family_contract_covers_its_own_family_only(family: str) -> None:
    assert covers(family, family)
    assert covers("wt", family)
    for other in PRODUCT_FAMILY_CODES:
        if other != family:
            assert not covers(family, other)


def test_unknown_families_cover_nothing() -> None:
    assert not covers("gold", "desktop")
    assert not covers("desktop", "gold")


def test_names_in_each_language() -> None:
    assert family_name("desktop", "fr") == "Produits de bureau Lotus"
    assert family_name("desktop", "de") == "Lotus Desktop-Produkte"
    assert family_name("nope", "fr") == "nope"
    assert product_name("123-win", "en") == "1-2-3 for Windows"
    assert product_name("notes-api", "en") == "Lotus Notes API"
    assert product_name("nope", "en") == "nope"


def test_every_close_reason_has_a_label_in_three_languages() -> None:
    from pathlib import Path

    from bbs.menus.strings import load_strings
    from bbs.support.entitlements import CLOSE_REASON_KEYS

    strings = load_strings(Path(__file__).resolve().parent.parent / "menus" / "strings")
    for key in CLOSE_REASON_KEYS.values():
        assert key in strings
        assert strings.get(key, "de") != strings.get(key, "fr")
    assert "développement" in strings.get(CLOSE_REASON_KEYS["hors_garantie_developpement"], "fr")
