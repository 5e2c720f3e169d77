"""Product families of the support contracts, and which family each product belongs to.

The seed sells a separate Premium Support contract for the desktop products, for
cc:Mail, for Notes and for the Developer Tools, and "Working Together" for callers
who need several: `wt` covers every family.
"""

from __future__ import annotations

from types import MappingProxyType

from bbs.directory.model import Names
from bbs.library.model import PRODUCTS

FAMILY_CODES: tuple[str, ...] = ("desktop", "ccmail", "notes", "devtools", "wt")
"""Contract families, in the order menus and listings show them."""

PRODUCT_FAMILY_CODES: tuple[str, ...] = ("desktop", "ccmail", "notes", "devtools")
"""The families a product (and a licence) belongs to: every one but `wt`."""

WORKING_TOGETHER = "wt"
"""The multi-product family: a contract of it covers every product family."""

FAMILIES: MappingProxyType[str, Names] = MappingProxyType(
    {
        "desktop": Names(
            "Produits de bureau Lotus", "Lotus desktop products", "Lotus Desktop-Produkte"
        ),
        "ccmail": Names("Lotus cc:Mail", "Lotus cc:Mail", "Lotus cc:Mail"),
        "notes": Names("Lotus Notes", "Lotus Notes", "Lotus Notes"),
        "devtools": Names(
            "Produits Lotus Developer Tools",
            "Lotus Developer Tools products",
            "Lotus Developer Tools Produkte",
        ),
        "wt": Names("Working Together", "Working Together", "Working Together"),
    }
)
"""Family code -> its name in each board language."""

DEVTOOLS_PRODUCTS: MappingProxyType[str, Names] = MappingProxyType(
    {
        "notes-vip": Names("Lotus Notes ViP", "Lotus Notes ViP", "Lotus Notes ViP"),
        "notes-api": Names("API Lotus Notes", "Lotus Notes API", "Lotus Notes API"),
        "hitest": Names(
            "Lotus Notes HiTest Tools", "Lotus Notes HiTest Tools", "Lotus Notes HiTest Tools"
        ),
    }
)
"""Developer Tools products the support desk knows (the library has no notes on them)."""

_LIBRARY_FAMILY = {"notes": "notes", "ccmail": "ccmail"}
"""Library products outside the desktop family; every other one is a desktop product."""

SUPPORT_PRODUCTS: MappingProxyType[str, str] = MappingProxyType(
    {
        **{p.code: _LIBRARY_FAMILY.get(p.code, "desktop") for p in PRODUCTS},
        **{code: "devtools" for code in DEVTOOLS_PRODUCTS},
    }
)
"""Product code -> family: the library's products, then the Developer Tools."""


def family_of(product: str) -> str:
    """The family of a product code; KeyError for a product the desk does not support."""
    return SUPPORT_PRODUCTS[product]


def covers(contract_family: str, product_family: str) -> bool:
    """Whether a contract of `contract_family` covers a product of `product_family`."""
    if contract_family not in FAMILIES or product_family not in FAMILIES:
        return False
    return contract_family in (WORKING_TOGETHER, product_family)


def product_name(product: str, lang: str) -> str:
    """A product's name in `lang`; the code itself for an unknown product."""
    for p in PRODUCTS:
        if p.code == product:
            return p.names.get(lang)
    names = DEVTOOLS_PRODUCTS.get(product)
    return names.get(lang) if names is not None else product


def family_name(family: str, lang: str) -> str:
    """A family's name in `lang`; the code itself for an unknown family."""
    names = FAMILIES.get(family)
    return names.get(lang) if names is not None else family
