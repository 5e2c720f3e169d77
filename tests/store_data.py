"""Hand-built directories for the store tests, using every field of every record.

Shaped after the seed (fax-on-demand, boards, free support; France, Luxembourg,
the USA, Canada, a made-up region), with its quirks: numbers with notes, ND
entries, an erratum, a time-zone override, hours with spans, hours printed without
spans, and listings without hours.
"""

from __future__ import annotations

import dataclasses
from datetime import time
from typing import Any

from bbs.directory.model import (
    Centre,
    Country,
    Directory,
    Hours,
    Listing,
    Names,
    Number,
    Service,
    Span,
)

WEEKDAYS = frozenset(range(5))


def sample_directory() -> Directory:
    """A small directory covering every field."""
    services = (
        Service(
            code="fax",
            names=Names("Fax sur demande", "Fax on demand", "Fax auf Abruf"),
            keywords=("fax", "télécopie", "faxback"),
            menu="automatises",
            order=1,
        ),
        Service(
            code="bbs",
            names=Names("Services télématiques", "Bulletin boards", "Mailboxen"),
            keywords=("bbs", "télématique", "modem"),
            menu="telematique",
            order=2,
        ),
        Service(
            code="free",
            names=Names("Assistance clients gratuite", "Free support", "Kostenlose Hilfe"),
            keywords=(),
            menu="gratuite",
            order=3,
        ),
    )
    countries = (
        Country(
            code="FR",
            iso="FR",
            names=Names("France", "France", "Frankreich"),
            tz="Europe/Paris",
            aliases=("france metropolitaine",),
        ),
        Country(
            code="LU",
            iso="LU",
            names=Names("Luxembourg", "Luxembourg", "Luxemburg"),
            tz="Europe/Luxembourg",
        ),
        Country(
            code="US",
            iso="US",
            names=Names("USA", "USA", "USA"),
            tz="America/New_York",
            aliases=("etats-unis", "usa", "amérique"),
        ),
        Country(
            code="CA",
            iso="CA",
            names=Names("Canada", "Canada", "Kanada"),
            tz="America/Toronto",
        ),
        Country(
            code="latam-sud",
            iso=None,
            names=Names(
                "Chili et pays du sud de l'Amérique latine",
                "Chile and southern Latin America",
                "Chile und das südliche Lateinamerika",
            ),
            tz="America/Santiago",
            aliases=("chili",),
        ),
    )
    listings = (
        Listing(
            service="fax",
            country="FR",
            seq=1,
            printed="France",
            numbers=(Number("+33 130 12 55 45"),),
            hours=Hours("7 jours sur 7, 24 h sur 24", always=True),
            source="Fax sur demande",
        ),
        Listing(
            service="fax",
            country="LU",
            seq=1,
            printed="Luxembourg",
            numbers=(
                Number("+31 20 690 4140", notes=("hollandais & anglais",)),
                Number("+33 1 30 12 55 45", notes=("français & anglais", "après juillet 1994")),
            ),
            languages=("hollandais", "anglais", "français"),
            source="Fax sur demande",
        ),
        Listing(
            service="bbs",
            country="US",
            seq=1,
            printed="USA,",
            numbers=(
                Number("1-617-693-7001", label="9600 bauds"),
                Number("ND", label="14400 bauds", nd=True),
                Number("1-617-693-7000", kind="fax", label="Bureau OS/2"),
            ),
            hours=Hours(
                "Lundi-Vendredi 08:30-20:00, Samedi 09:00-13:00",
                spans=(
                    Span(WEEKDAYS, time(8, 30), time(20, 0)),
                    Span(frozenset({5}), time(9, 0), time(13, 0)),
                ),
            ),
            remark="Sélections du menu disponibles en anglais et en français.",
            erratum="the seed prints 1-617-693-7001 twice",
            tz="America/Los_Angeles",
            source="Services télématiques",
        ),
        Listing(
            service="bbs",
            country="US",
            seq=2,
            printed="USA (Californie)",
            numbers=(Number("ftp.lotus.com", kind="ftp"),),
            languages=("anglais",),
        ),
        Listing(
            service="free",
            country="CA",
            seq=1,
            printed="Canada (uniquement Toronto) **",
            numbers=(
                Number("1-905-479-4800", label="Toronto", notes=("Représentant N°226",)),
                Number("http://www.lotus.com/support", kind="url"),
            ),
            hours=Hours("08:30-20:00 Heure sur la côte est", spans=()),
            languages=("anglais", "français canadien"),
            source="Assistance clients au Canada",
        ),
        Listing(
            service="free",
            country="latam-sud",
            seq=1,
            printed="Chili et pays du sud de l'Amérique latine",
            numbers=(Number("ND", nd=True),),
            hours=Hours(""),
            source="Assistance clients en Amérique latine",
        ),
    )
    centres = (
        Centre(
            code="paris",
            city="Paris",
            address=(
                "Bat. Neptune 5",
                "Boulevard des Chenes",
                "78051 Saint-Quentin en Yvelines",
                "CEDEX, France",
            ),
            phone="331 301 25800",
            hours=Hours(
                "09:00-17:00 Heure de l'Europe centrale, Lundi-Vendredi",
                spans=(Span(WEEKDAYS, time(9), time(17)),),
            ),
            tz="Europe/Paris",
            countries=("FR", "LU"),
            served=("France", "Belgique", "Pays-bas", "Luxembourg", "Les îles Caïmans"),
            languages=("français", "hollandais", "espagnol", "italien", "anglais"),
        ),
        Centre(
            code="toronto",
            city="Toronto",
            address=("Lotus Dev. Canada Ltd.", "10 Bay St. 17th Floor", "Toronto, Ontario"),
            phone="416-364-8000",
            hours=Hours(
                "08:30-20:00 Heure sur la côte est, Lundi-Vendredi",
                spans=(
                    Span(frozenset({0, 1, 2}), time(8, 30), time(20)),
                    Span(frozenset({3, 4}), time(8, 30), time(18, 45, 30)),
                ),
            ),
            tz="America/Toronto",
            countries=("CA",),
            served=("Canada",),
            languages=("anglais", "français canadien"),
            remark="Customer Service: 1-800-GO-LOTUS",
        ),
    )
    return Directory(services=services, countries=countries, listings=listings, centres=centres)


def replace_listing(directory: Directory, index: int, **changes: Any) -> Directory:
    """The directory with one listing's fields changed."""
    listings = list(directory.listings)
    listings[index] = dataclasses.replace(listings[index], **changes)
    return dataclasses.replace(directory, listings=tuple(listings), _by_code={})


def without(directory: Directory, **drop: str) -> Directory:
    """The directory without the centre or country with the given code (and, for a
    country, its listings): ``without(d, centre="toronto")``."""
    d = directory
    if code := drop.get("centre"):
        d = dataclasses.replace(d, centres=tuple(c for c in d.centres if c.code != code))
    if code := drop.get("country"):
        d = dataclasses.replace(
            d,
            countries=tuple(c for c in d.countries if c.code != code),
            listings=tuple(x for x in d.listings if x.country != code),
        )
    return dataclasses.replace(d, _by_code={})
