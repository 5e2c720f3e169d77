"""The relational schema: the support directory, plus a key/value `meta` table.

Each directory record gets a surrogate integer id for foreign keys and a unique
natural key (a service's code, a listing's service+country+seq, a number's
listing+position) that the loader diffs on. Ordered tuples of the records become
child rows with a `position`; top-level records keep theirs too, so that reading
the directory back gives the tuples in the order they were loaded.

Scalar fields of a record are stored in columns of the same name (see
`bbs.store.mapping`), so a field added to the model later needs only a column of
that name in a new migration. Later features add their own tables by migrations.
"""

from __future__ import annotations

from datetime import date, time
from typing import Any, ClassVar

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    MetaData,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Constraint names Alembic can refer to later (SQLite batch mode needs names)."""


class Base(DeclarativeBase):
    """Declarative base of every table of the board."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        str: Text,
        int: Integer,
        bool: Boolean,
        time: Time,
    }


def _parent(table: str) -> Mapped[int]:
    # Child rows belong to their parent: deleting the parent deletes them. No index of
    # its own: each child table's unique key starts with this column.
    return mapped_column(ForeignKey(f"{table}.id", ondelete="CASCADE"))


class MetaRow(Base):
    """Facts about the stored data (data checksum, when it was loaded)."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(primary_key=True)
    value: Mapped[str]


class ServiceRow(Base):
    """A support service (`bbs.directory.model.Service`)."""

    __tablename__ = "service"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(unique=True)
    position: Mapped[int]
    menu: Mapped[str]
    sort_order: Mapped[int]


class ServiceNameRow(Base):
    """A service's name in one board language."""

    __tablename__ = "service_name"
    __table_args__ = (UniqueConstraint("service_id", "lang"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = _parent("service")
    lang: Mapped[str]
    name: Mapped[str]


class ServiceKeywordRow(Base):
    """A word a caller may type to mean a service."""

    __tablename__ = "service_keyword"
    __table_args__ = (UniqueConstraint("service_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = _parent("service")
    position: Mapped[int]
    keyword: Mapped[str]


class CountryRow(Base):
    """A country or region (`bbs.directory.model.Country`)."""

    __tablename__ = "country"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(unique=True)
    position: Mapped[int]
    iso: Mapped[str | None]
    tz: Mapped[str]


class CountryNameRow(Base):
    """A country's name in one board language."""

    __tablename__ = "country_name"
    __table_args__ = (UniqueConstraint("country_id", "lang"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    country_id: Mapped[int] = _parent("country")
    lang: Mapped[str]
    name: Mapped[str]


class CountryAliasRow(Base):
    """Another spelling of a country a caller may type."""

    __tablename__ = "country_alias"
    __table_args__ = (UniqueConstraint("country_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    country_id: Mapped[int] = _parent("country")
    position: Mapped[int]
    alias: Mapped[str]


class ListingRow(Base):
    """One service in one country (`bbs.directory.model.Listing`).

    `hours_text` is NULL when the listing has no hours at all, which differs from
    hours printed as an empty text; the spans are `hour_span` rows.
    """

    __tablename__ = "listing"
    __table_args__ = (UniqueConstraint("service_id", "country_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # A listing is not deleted with its service or country: the loader removes it first.
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    country_id: Mapped[int] = mapped_column(ForeignKey("country.id"), index=True)
    seq: Mapped[int]
    position: Mapped[int]
    printed: Mapped[str]
    hours_text: Mapped[str | None]
    hours_always: Mapped[bool]
    remark: Mapped[str]
    erratum: Mapped[str]
    tz: Mapped[str]
    source: Mapped[str]


class ListingLanguageRow(Base):
    """A language a listing's service is given in."""

    __tablename__ = "listing_language"
    __table_args__ = (UniqueConstraint("listing_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = _parent("listing")
    position: Mapped[int]
    language: Mapped[str]


class NumberRow(Base):
    """A number or address of a listing, as printed (`bbs.directory.model.Number`)."""

    __tablename__ = "listing_number"
    __table_args__ = (UniqueConstraint("listing_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = _parent("listing")
    position: Mapped[int]
    text: Mapped[str]
    kind: Mapped[str]
    label: Mapped[str]
    nd: Mapped[bool]


class NumberNoteRow(Base):
    """A remark printed next to a number."""

    __tablename__ = "number_note"
    __table_args__ = (UniqueConstraint("number_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number_id: Mapped[int] = _parent("listing_number")
    position: Mapped[int]
    note: Mapped[str]


class CentreRow(Base):
    """An international support centre (`bbs.directory.model.Centre`)."""

    __tablename__ = "centre"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(unique=True)
    position: Mapped[int]
    city: Mapped[str]
    phone: Mapped[str]
    hours_text: Mapped[str]
    hours_always: Mapped[bool]
    tz: Mapped[str]
    remark: Mapped[str]


class CentreAddressRow(Base):
    """One line of a centre's postal address."""

    __tablename__ = "centre_address"
    __table_args__ = (UniqueConstraint("centre_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = _parent("centre")
    position: Mapped[int]
    line: Mapped[str]


class CentreCountryRow(Base):
    """A directory country code a centre serves.

    Not a foreign key: the seed's centres serve places the directory has no
    listings (and so perhaps no country record) for.
    """

    __tablename__ = "centre_country"
    __table_args__ = (UniqueConstraint("centre_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = _parent("centre")
    position: Mapped[int]
    country: Mapped[str]


class CentreServedRow(Base):
    """A country or region a centre serves, as the seed prints it."""

    __tablename__ = "centre_served"
    __table_args__ = (UniqueConstraint("centre_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = _parent("centre")
    position: Mapped[int]
    name: Mapped[str]


class CentreLanguageRow(Base):
    """A language a centre answers in."""

    __tablename__ = "centre_language"
    __table_args__ = (UniqueConstraint("centre_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = _parent("centre")
    position: Mapped[int]
    language: Mapped[str]


class HourSpanRow(Base):
    """One opening span of a listing or of a centre.

    `days` is the weekday set as a bit mask, bit 0 = Monday ... bit 6 = Sunday, so
    "open on Tuesday" is `days & 2 != 0` in SQL; `opens`/`closes` are local times
    in the owner's time zone.
    """

    __tablename__ = "hour_span"
    __table_args__ = (
        UniqueConstraint("listing_id", "position"),
        UniqueConstraint("centre_id", "position"),
        CheckConstraint("(listing_id IS NULL) <> (centre_id IS NULL)", name="one_owner"),
        CheckConstraint("days >= 0 AND days < 128", name="weekdays"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int | None] = mapped_column(ForeignKey("listing.id", ondelete="CASCADE"))
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("centre.id", ondelete="CASCADE"))
    position: Mapped[int]
    days: Mapped[int]
    opens: Mapped[time]
    closes: Mapped[time]


# --- the technical-notes library (bbs.library) -----------------------------------


class LibraryFileRow(Base):
    """A downloadable file of `data/files/` (`bbs.library.model.LibraryFile`)."""

    __tablename__ = "library_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(unique=True)
    size: Mapped[int]
    sha256: Mapped[str]


class LibraryNoteRow(Base):
    """A technical note in one language (`bbs.library.model.Note`).

    `keywords` holds the keywords joined with ", " (a keyword has no comma). The
    `search_*` columns are the title, keywords and body folded for search (lower
    case, no accents, words separated by single spaces: `bbs.library.search.
    search_text`); the loader fills them. Full-text indexes over them live outside
    the models, made by migration 0002: on SQLite the FTS5 table `library_fts`
    (external content, kept in sync by triggers on this table), on PostgreSQL the
    GIN index `ix_library_note_search` over their weighted tsvector.
    """

    __tablename__ = "library_note"
    __table_args__ = (UniqueConstraint("number", "lang"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int]
    lang: Mapped[str]
    product: Mapped[str]
    category: Mapped[str]
    title: Mapped[str]
    date: Mapped[date] = mapped_column(Date)
    keywords: Mapped[str]
    file: Mapped[str | None] = mapped_column(ForeignKey("library_file.name"))
    public: Mapped[bool]
    body: Mapped[str]
    search_title: Mapped[str]
    search_keywords: Mapped[str]
    search_body: Mapped[str]


SEARCH_INDEX_TABLE = "library_fts"
"""SQLite: the FTS5 table over `library_note` (its shadow tables share the prefix)."""

SEARCH_INDEX = "ix_library_note_search"
"""PostgreSQL: the GIN index over `library_note`'s weighted tsvector."""


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Alembic's `include_object` hook: leave out the full-text indexes, which the
    migrations make by hand (FTS5 virtual and shadow tables, an expression index),
    so that comparing the database with the models does not want them dropped."""
    if type_ == "table" and name is not None and name.startswith(SEARCH_INDEX_TABLE):
        return False
    return not (type_ == "index" and name == SEARCH_INDEX)
