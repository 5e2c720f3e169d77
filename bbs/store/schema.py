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

from datetime import UTC, date, datetime, time
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Integer,
    MetaData,
    Text,
    Time,
    TypeDecorator,
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


class UtcDateTime(TypeDecorator[datetime]):
    """A point in time, stored in UTC and always read back timezone-aware (SQLite keeps
    no zone, so a naive value read from it is UTC by this rule)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


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
    case, no accents, words separated by single spaces: `bbs.documents.text.
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
    changed_at: Mapped[datetime | None] = mapped_column(
        UtcDateTime, default=lambda: datetime.now(UTC), onupdate=lambda: datetime.now(UTC)
    )
    """When a load last added or changed the note on this board (None: before 0009), for
    "new since your last visit"."""


# --- accounts, contracts and incidents (bbs.accounts, bbs.support) -----------------
# Times are UTC (`UtcDateTime`); dates (purchase, contract terms) are calendar dates.


class CompanyRow(Base):
    """A customer company: contracts belong to it, its contacts see its incidents."""

    __tablename__ = "company"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    name_key: Mapped[str] = mapped_column(unique=True)
    """The name as compared (`bbs.directory.text.fold`), so one company is not made twice."""


class AccountRow(Base):
    """A registered caller (guests have none).

    `name` is kept as the caller chose it (already cleaned); `name_key` is its
    normalised form (NFKC, case-folded, look-alike letters mapped), unique, so that
    "Sysop", "SYSOP" and "Ѕуsор" are one name. `role` holds caller, specialist or
    sysop; being a named contact follows from `contract_contact`.
    """

    __tablename__ = "account"
    __table_args__ = (CheckConstraint("role IN ('caller', 'specialist', 'sysop')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    name_key: Mapped[str] = mapped_column(unique=True)
    password_hash: Mapped[str]
    role: Mapped[str]
    company_id: Mapped[int | None] = mapped_column(ForeignKey("company.id"), index=True)
    """The company the account belongs to: granted by the sysop or a named contact of its
    contract, never by what the caller typed (entitlements follow from it)."""
    company_name: Mapped[str] = mapped_column(server_default="")
    """The company the caller typed at registration: free text, shown, never trusted."""
    country: Mapped[str]
    lang: Mapped[str]
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    disabled: Mapped[bool] = mapped_column(default=False)
    """Locked by the sysop (`bbs user lock`): no sign-in until unlocked."""


class AccountPrefRow(Base):
    """What a caller chose for their terminal, restored at each sign-in (migration 0013).

    One row per account, made the first time they change something; a None column is
    "as detected" on each call. The language is `account.lang`.
    """

    __tablename__ = "account_pref"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), primary_key=True
    )
    hotkeys: Mapped[bool | None]
    protocol: Mapped[str | None]
    tier: Mapped[str | None]
    """ansi, vt100 or dumb."""
    encoding: Mapped[str | None]
    eight_bit: Mapped[bool | None]
    cols: Mapped[int | None]
    rows: Mapped[int | None]
    """The screen length: lines before the pager stops."""
    baud: Mapped[int | None]
    """Modem speed emulated (0: as fast as the line goes)."""


class LoginThrottleRow(Base):
    """Failed sign-ins per name key, known account or not (so both behave alike).

    Shared by every node through the database.
    """

    __tablename__ = "login_throttle"

    name_key: Mapped[str] = mapped_column(primary_key=True)
    failures: Mapped[int]
    last_failure_at: Mapped[datetime] = mapped_column(UtcDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)


class SshKeyRow(Base):
    """An SSH public key a caller registered from the profile screen: it signs them in
    over SSH without a password. `public_key` is the OpenSSH line without its comment."""

    __tablename__ = "ssh_key"
    __table_args__ = (UniqueConstraint("account_id", "fingerprint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    algorithm: Mapped[str]
    public_key: Mapped[str]
    fingerprint: Mapped[str]
    """SHA256:... as OpenSSH shows it."""
    comment: Mapped[str]
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class LicenceRow(Base):
    """A product licence a caller registered: the ground of 60 days' free support.

    A licence number is one holder's: the same product and number cannot be
    registered twice.
    """

    __tablename__ = "licence"
    __table_args__ = (UniqueConstraint("product", "licence_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    product: Mapped[str]
    family: Mapped[str]
    """desktop, ccmail, notes or devtools."""
    licence_number: Mapped[str]
    purchased_on: Mapped[date] = mapped_column(Date)
    via_passport: Mapped[bool] = mapped_column(default=False)
    """Bought under a Passport licence programme: no free support (the seed's rule)."""
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ContractRow(Base):
    """A support contract of a company.

    `kind`: unlimited or limited (Passport Premium), incident (per-incident
    purchases only) or knowledge (a Knowledge base subscription alone). `family`:
    desktop, ccmail, notes, devtools or wt (Working Together, several families).
    `credits` is the incidents left (None: unlimited). `version` grows with every
    update, for writers that check they changed what they read.
    """

    __tablename__ = "contract"
    __table_args__ = (
        CheckConstraint("kind IN ('unlimited', 'limited', 'incident', 'knowledge')", name="kind"),
        CheckConstraint("credits IS NULL OR credits >= 0", name="credits"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(unique=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    family: Mapped[str]
    kind: Mapped[str]
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    credits: Mapped[int | None]
    kb_until: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    version: Mapped[int] = mapped_column(default=0)


class ContractContactRow(Base):
    """A named contact of a contract (at most 5 on a limited one)."""

    __tablename__ = "contract_contact"
    __table_args__ = (UniqueConstraint("contract_id", "account_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = _parent("contract")
    account_id: Mapped[int] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    added_at: Mapped[datetime] = mapped_column(UtcDateTime)


class IncidentRow(Base):
    """A support incident ("L'assistance Lotus par liaison").

    `state`: nouveau, en_cours, attente_client, resolu or ferme. `basis` says what
    entitled it: free (60 days after purchase) or contract (then `contract_id`).
    `caller_seen_at` is when the opener last read it, to count new replies.
    """

    __tablename__ = "incident"
    __table_args__ = (
        CheckConstraint(
            "state IN ('nouveau', 'en_cours', 'attente_client', 'resolu', 'ferme')",
            name="state",
        ),
        CheckConstraint("basis IN ('free', 'contract')", name="basis"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("company.id"), index=True)
    basis: Mapped[str]
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contract.id"))
    licence_id: Mapped[int | None] = mapped_column(ForeignKey("licence.id"))
    product: Mapped[str]
    family: Mapped[str]
    product_version: Mapped[str]
    os: Mapped[str]
    summary: Mapped[str]
    state: Mapped[str] = mapped_column(index=True)
    specialist_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    caller_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    close_reason: Mapped[str | None]
    version: Mapped[int] = mapped_column(default=0)


class IncidentEventRow(Base):
    """One line of an incident's audit trail: opened, message, state change, taken,
    attachment, closed; kept forever, never edited."""

    __tablename__ = "incident_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incident.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    kind: Mapped[str]
    state_from: Mapped[str | None]
    state_to: Mapped[str | None]
    body: Mapped[str] = mapped_column(default="")


class IncidentAttachmentRow(Base):
    """An example file sent with an incident, kept in the upload area under
    `stored_name`; `sender_name` is the name the caller's program gave (metadata only)."""

    __tablename__ = "incident_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incident.id", ondelete="CASCADE"), index=True
    )
    stored_name: Mapped[str] = mapped_column(unique=True)
    sender_name: Mapped[str]
    description: Mapped[str] = mapped_column(default="")
    size: Mapped[int]
    sha256: Mapped[str]
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("account.id"))


class UploadUsageRow(Base):
    """What one caller (`account:<id>`, a guest `addr:<address>`) sent on one UTC day."""

    __tablename__ = "upload_usage"

    owner: Mapped[str] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    bytes: Mapped[int] = mapped_column(BigInteger)
    files: Mapped[int]


LIVE_TABLES: tuple[str, ...] = (
    "company",
    "account",
    "account_pref",
    "login_throttle",
    "ssh_key",
    "licence",
    "contract",
    "contract_contact",
    "incident",
    "incident_event",
    "incident_attachment",
    "upload_usage",
    # forums and presence (FORUM_TABLES below)
    "forum",
    "forum_section",
    "forum_thread",
    "forum_post",
    "forum_read_mark",
    "forum_moderation",
    "last_caller",
    # several nodes on one database (CLUSTER_TABLES below)
    "cluster_node",
    "live_session",
    # fax on demand (FAX_TABLES below)
    "fax_job",
)
"""Tables the board writes as it runs (never from `data/` by `bbs load`)."""


# --- the Knowledge base (bbs.kb): tables come with migration 0006 ------------------


class KbArticleRow(Base):
    """An article of the Lotus Knowledge base (`bbs.kb.model.Article`), loaded from
    `data/kb/` by `bbs load`.

    Like `library_note`: `keywords` joined with ", ", and the folded `search_*`
    columns (`bbs.documents.text.search_text`) that migration 0006 indexes outside
    the models: on SQLite the FTS5 table `kb_fts` (external content, kept in step by
    triggers on this table), on PostgreSQL the GIN index `ix_kb_article_search`.
    """

    __tablename__ = "kb_article"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    lang: Mapped[str]
    product: Mapped[str]
    kind: Mapped[str]
    title: Mapped[str]
    date: Mapped[date] = mapped_column(Date)
    keywords: Mapped[str]
    body: Mapped[str]
    search_title: Mapped[str]
    search_keywords: Mapped[str]
    search_body: Mapped[str]


KB_INDEX_TABLE = "kb_fts"
"""SQLite: the FTS5 table over `kb_article`."""


# --- forums and presence (bbs.forums): tables come with migration 0008 -------------
# Forums in the CompuServe style (GO LOTUS, GO LOTGER, GO LOTFRA), their moderation
# log, and the "last callers" list. Migration 0008 seeds the forums, their sections
# and a few opening threads; everything else is written as the board runs.


class ForumRow(Base):
    """A forum, reached by its GO word (`code`: LOTUS, LOTGER, LOTFRA), in one language."""

    __tablename__ = "forum"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(unique=True)
    lang: Mapped[str]
    name: Mapped[str]
    position: Mapped[int]


class ForumSectionRow(Base):
    """A section of a forum (1-2-3, Notes, cc:Mail ...), numbered by `position`."""

    __tablename__ = "forum_section"
    __table_args__ = (UniqueConstraint("forum_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    forum_id: Mapped[int] = _parent("forum")
    position: Mapped[int]
    name: Mapped[str]


class ForumThreadRow(Base):
    """A thread: its subject as the opener wrote it, where it lives, and whether it is
    locked (no more replies). `last_post_at` orders a section's threads."""

    __tablename__ = "forum_thread"

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("forum_section.id"), index=True)
    subject: Mapped[str]
    author_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    author_name: Mapped[str]
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_post_at: Mapped[datetime] = mapped_column(UtcDateTime)
    locked: Mapped[bool] = mapped_column(default=False)


class ForumPostRow(Base):
    """One message of a thread, stored as written; a hidden one is seen by the sysop only."""

    __tablename__ = "forum_post"

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(
        ForeignKey("forum_thread.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    author_name: Mapped[str]
    body: Mapped[str]
    posted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    hidden: Mapped[bool] = mapped_column(default=False)


class ForumReadMarkRow(Base):
    """When a caller last opened a section: what was posted since is "nouveau" for them."""

    __tablename__ = "forum_read_mark"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), primary_key=True
    )
    section_id: Mapped[int] = mapped_column(
        ForeignKey("forum_section.id", ondelete="CASCADE"), primary_key=True
    )
    read_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ForumModerationRow(Base):
    """One moderation act (hide, unhide, move, lock, unlock), kept forever."""

    __tablename__ = "forum_moderation"
    __table_args__ = (
        CheckConstraint("action IN ('hide', 'unhide', 'move', 'lock', 'unlock')", name="action"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    actor_name: Mapped[str]
    action: Mapped[str]
    thread_id: Mapped[int] = mapped_column(
        ForeignKey("forum_thread.id", ondelete="CASCADE"), index=True
    )
    post_id: Mapped[int | None] = mapped_column(ForeignKey("forum_post.id", ondelete="CASCADE"))
    detail: Mapped[str] = mapped_column(default="")


class LastCallerRow(Base):
    """A sign-in, for the "derniers appelants" list (the newest few are shown)."""

    __tablename__ = "last_caller"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    name: Mapped[str]
    node: Mapped[int]
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


FORUM_TABLES: tuple[str, ...] = (
    "forum",
    "forum_section",
    "forum_thread",
    "forum_post",
    "forum_read_mark",
    "forum_moderation",
    "last_caller",
)
"""Forum and presence tables: seeded by migration 0008, then written by the board."""


# --- cluster: several nodes on one PostgreSQL (bbs.cluster), migration 0010 ---------
# Run-time state only: which nodes are alive and who is on line on which node number.
# Rows whose heartbeat is older than the expiry belong to a dead node and are reclaimed.


class ClusterNodeRow(Base):
    """A running `bbs serve` process, known by a random id chosen at start."""

    __tablename__ = "cluster_node"

    node_id: Mapped[str] = mapped_column(primary_key=True)
    host: Mapped[str]
    pid: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    heartbeat: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class LiveSessionRow(Base):
    """A caller on line: the board-wide node number they hold, on which process (`node_id`),
    who (empty name and no account before sign-in or for a guest), where, since when.

    `sid` names the session in bus messages: a node number is reused after a hang-up,
    a sid never is."""

    __tablename__ = "live_session"

    node: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    sid: Mapped[str] = mapped_column(unique=True)
    node_id: Mapped[str] = mapped_column(index=True)
    account_id: Mapped[int | None]
    name: Mapped[str] = mapped_column(default="")
    role: Mapped[str] = mapped_column(default="guest")
    lang: Mapped[str] = mapped_column(default="fr")
    location: Mapped[str] = mapped_column(default="")
    refuses_pages: Mapped[bool] = mapped_column(default=False)
    since: Mapped[datetime] = mapped_column(UtcDateTime)
    heartbeat: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


CLUSTER_TABLES: tuple[str, ...] = ("cluster_node", "live_session")
"""Run-time tables of the node registry (`bbs.cluster.registry`)."""


# --- fax on demand (bbs.fax), migration 0012 -----------------------------------------
# One row per order: the catalogue or documents a caller asked for, to which number,
# and how far its delivery went. The TIFF itself lives in the spool folder.


class FaxJobRow(Base):
    """A fax order (`bbs.fax.jobs.Job`): queued, rendering, sent or failed.

    `caller` names who ordered it for the rate limits and downloads (`account:ID` for
    a signed-in caller, `addr:ADDRESS` otherwise); `documents` holds the numbers
    ordered, comma-separated, 0 standing for the catalogue; `file` is the TIFF's name
    in the spool folder once rendered."""

    __tablename__ = "fax_job"
    __table_args__ = (
        CheckConstraint("state IN ('queued', 'rendering', 'sent', 'failed')", name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    state: Mapped[str] = mapped_column(index=True)
    caller: Mapped[str] = mapped_column(index=True)
    account_id: Mapped[int | None]
    fax_number: Mapped[str] = mapped_column(index=True)
    documents: Mapped[str]
    lang: Mapped[str]
    resolution: Mapped[str]
    paper: Mapped[str]
    pages: Mapped[int | None]
    file: Mapped[str | None]
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(default="")


FAX_TABLES: tuple[str, ...] = ("fax_job",)
"""Fax on demand's run-time table (`bbs.fax.jobs`)."""


SEARCH_INDEX_TABLE = "library_fts"
"""SQLite: the FTS5 table over `library_note` (its shadow tables share the prefix)."""

SEARCH_INDEX = "ix_library_note_search"
"""PostgreSQL: the GIN index over `library_note`'s weighted tsvector."""

SEARCH_INDEX_TABLES: tuple[str, ...] = (SEARCH_INDEX_TABLE, "kb_fts")
"""SQLite FTS5 tables (and their shadow tables' prefixes) the models leave out."""

SEARCH_INDEXES: frozenset[str] = frozenset({SEARCH_INDEX, "ix_kb_article_search"})
"""PostgreSQL expression indexes the models leave out."""


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Alembic's `include_object` hook: leave out the full-text indexes, which the
    migrations make by hand (FTS5 virtual and shadow tables, an expression index),
    so that comparing the database with the models does not want them dropped."""
    if type_ == "table" and name is not None and name.startswith(SEARCH_INDEX_TABLES):
        return False
    return not (type_ == "index" and name in SEARCH_INDEXES)
