"""Typed, immutable records of the support directory (services, countries, listings, centres)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from enum import StrEnum

"""Board languages, French first (the seed's language)."""


class Lang(StrEnum):
    """A language the board speaks."""

    FR = "fr"
    EN = "en"
    DE = "de"


@dataclass(frozen=True, slots=True)
class Names:
    """A name in each board language."""

    fr: str
    en: str
    de: str

    def get(self, lang: str) -> str:
        """The name in `lang`, French when the language is unknown."""
        return {"fr": self.fr, "en": self.en, "de": self.de}.get(lang, self.fr)


@dataclass(frozen=True, slots=True)
class Span:
    """One opening span: the same hours on a set of weekdays (0 = Monday ... 6 = Sunday)."""

    days: frozenset[int]
    opens: time
    closes: time


@dataclass(frozen=True, slots=True)
class Hours:
    """Opening hours as the seed prints them, and as spans the board can compute with.

    `always` is true for "7 jours sur 7, 24 h sur 24"; `spans` is empty when the seed
    gives no hours (the board then says "horaires non communiqués").
    """

    text: str
    spans: tuple[Span, ...] = ()
    always: bool = False


@dataclass(frozen=True, slots=True)
class Service:
    """A support service the seed lists (telematic board, fax on demand, free support, ...).

    `keywords` are the words a caller may type to mean this service, in any language
    ("fax", "bbs", "télématique", "gratuite", "free"); `menu` is the menu that describes it.
    """

    code: str
    names: Names
    keywords: tuple[str, ...]
    menu: str
    order: int


@dataclass(frozen=True, slots=True)
class Country:
    """A country or region the seed names.

    `code` is the directory's key: the ISO 3166-1 alpha-2 code when there is one (`iso`
    is then equal), otherwise a made-up key for regions such as "Chili et pays du sud de
    l'Amérique latine". `aliases` are other spellings a caller may type.
    """

    code: str
    iso: str | None
    names: Names
    tz: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Number:
    """One number (or address) exactly as the seed prints it, typos included.

    `kind` is "phone", "fax", "url" or "ftp"; `label` is the product line or audience
    the number is for ("cc:Mail", "Bureau OS/2", "Toronto"); `notes` are the seed's
    remarks ("hollandais & anglais", "après juillet 1994", "Représentant N°226").
    `nd` is true for the seed's "ND" (not available) entries, whose `text` is "ND".
    """

    text: str
    kind: str = "phone"
    label: str = ""
    notes: tuple[str, ...] = ()
    nd: bool = False


@dataclass(frozen=True, slots=True)
class Listing:
    """What one service offers in one country: its numbers, hours and languages.

    `printed` is the country as the seed's table prints it ("Pays-bas", "USA,");
    `erratum` marks a value known to be wrong in the source, kept as printed; `tz`
    overrides the country's time zone (a US number in California); `source` names the
    seed table the listing comes from ("Assistance clients au Canada").
    """

    service: str
    country: str
    seq: int
    printed: str
    numbers: tuple[Number, ...]
    hours: Hours | None = None
    languages: tuple[str, ...] = ()
    remark: str = ""
    erratum: str = ""
    tz: str = ""
    source: str = ""


@dataclass(frozen=True, slots=True)
class Centre:
    """An international support centre: where it is, whom it serves, in which languages."""

    code: str
    city: str
    address: tuple[str, ...]
    phone: str
    hours: Hours
    tz: str
    countries: tuple[str, ...]
    served: tuple[str, ...]
    languages: tuple[str, ...]
    remark: str = ""


@dataclass(frozen=True, slots=True)
class Directory:
    """The whole directory, as loaded from data/ or read back from the database."""

    services: tuple[Service, ...]
    countries: tuple[Country, ...]
    listings: tuple[Listing, ...]
    centres: tuple[Centre, ...]
    _by_code: dict[str, Country] = field(default_factory=dict, compare=False, repr=False)

    def country(self, code: str) -> Country | None:
        """The country with this directory code, if any."""
        if not self._by_code:
            for c in self.countries:
                self._by_code[c.code] = c
        return self._by_code.get(code)

    def service(self, code: str) -> Service | None:
        """The service with this code, if any."""
        return next((s for s in self.services if s.code == code), None)
