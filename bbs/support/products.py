"""Product families of the support contracts, and which family each product belongs to.

The seed sells a separate Premium Support contract for the desktop products, for
cc:Mail, for Notes and for the Developer Tools, and "Working Together" for callers
who need several: a family with `covers_all` covers every family. Families and
products are the catalogue's (`data/catalogue.toml`, `bbs.catalogue`).
"""

from __future__ import annotations

from collections.abc import Mapping

from bbs.catalogue import catalogue


def family_codes() -> tuple[str, ...]:
    """Contract families, in the order menus and listings show them."""
    return tuple(f.code for f in catalogue().families)


def product_family_codes() -> tuple[str, ...]:
    """The families a product (and a licence) belongs to: every one but the one that
    covers them all."""
    return tuple(f.code for f in catalogue().families if not f.covers_all)


def covering_all() -> str:
    """The multi-product family (Working Together): a contract of it covers every family."""
    return next(f.code for f in catalogue().families if f.covers_all)


def support_products() -> Mapping[str, str]:
    """Product code -> family, for every product the desk supports, in menu order
    (the library's products, then the Developer Tools)."""
    return {p.code: p.family for p in catalogue().products}


def family_of(product: str) -> str:
    """The family of a product code; KeyError for a product the desk does not support."""
    return catalogue().product(product).family


def covers(contract_family: str, product_family: str) -> bool:
    """Whether a contract of `contract_family` covers a product of `product_family`."""
    families = family_codes()
    if contract_family not in families or product_family not in families:
        return False
    return contract_family in (covering_all(), product_family)


def product_name(product: str, lang: str) -> str:
    """A product's name in `lang`; the code itself for an unknown product."""
    try:
        return catalogue().product(product).names.get(lang)
    except KeyError:
        return product


def family_name(family: str, lang: str) -> str:
    """A family's name in `lang`; the code itself for an unknown family."""
    try:
        return catalogue().family(family).names.get(lang)
    except KeyError:
        return family
