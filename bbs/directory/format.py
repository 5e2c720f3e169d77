"""Directory answers as board markup: country cards, service tables, the centres.

Pure functions of their arguments (no I/O, no clock): the caller passes `now`, the
screen width and the session's `Strings`. Every piece of data goes through
`escape()`. Lines are laid out to fit `width - 1` columns where they can; the
renderer wraps the rest, keeping the indentation. Below 60 columns, tables become
lists (name on one line, numbers under it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bbs.directory.hours import OpenState, Status, days_to_text, zone
from bbs.directory.model import Centre, Country, Directory, Hours, Listing, Number, Service
from bbs.directory.query import Answer, Card, Entry, Index, Kind, build_index, centre_status
from bbs.directory.text import fold, words
from bbs.menus.strings import Strings
from bbs.terminal.markup import escape
from bbs.terminal.width import text_width

WIDE = 60
"""From this many columns on, service tables put the country and its numbers side by side."""
INDENT = "  "


@dataclass(slots=True)
class _Page:
    """Markup lines being built, with what a line needs to know about the page."""

    strings: Strings
    lang: str
    width: int
    countries: Mapping[str, Country]
    lines: list[str] = field(default_factory=list)

    def t(self, key: str, **values: object) -> str:
        """A localised string, escaped (data in `values` included)."""
        return escape(self.strings.get(key, self.lang, **values))

    def raw(self, key: str, **values: object) -> str:
        """A localised string, not escaped: for measuring or for further formatting."""
        return self.strings.get(key, self.lang, **values)

    def add(self, line: str = "") -> None:
        self.lines.append(line)

    def blank(self) -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.append("")

    @property
    def room(self) -> int:
        """Columns a line may use without wrapping."""
        return max(self.width - 1, 20)

    def days(self) -> list[str]:
        return self.raw("dir.days").split()

    def text(self) -> str:
        while self.lines and self.lines[-1] == "":
            self.lines.pop()
        return "\n".join(self.lines) + "\n"


def _style(style: str, text: str) -> str:
    return f"{{{style}}}{escape(text)}{{/}}" if text else ""


def _clock(moment: datetime) -> str:
    return f"{moment:%H:%M}"


def _day(page: _Page, moment: datetime) -> str:
    return page.days()[moment.weekday()]


def _city(tz: str) -> str:
    return tz.rsplit("/", 1)[-1].replace("_", " ")


SEED_KEY_WORDS = 8
"""Folded words of a printed note that make its key in menus/strings/seed.toml."""


def seed_key(printed: str) -> str:
    """The strings key of a note, source or remark the seed prints in French."""
    return "seed." + "_".join(words(printed)[:SEED_KEY_WORDS])


def seed_text(page: _Page, printed: str) -> str:
    """A note the seed prints in French, in the page's language when menus/strings has
    it (French: as printed), else as printed."""
    key = seed_key(printed)
    return page.raw(key) if key in page.strings else printed


def _language(page: _Page, printed: str) -> str:
    key = "dir.language." + "_".join(fold(printed).split())
    return page.raw(key) if key in page.strings else printed


def _hours_text(page: _Page, hours: Hours | None) -> str:
    """Hours as printed (French), or rebuilt from the spans in English and German."""
    if hours is None or (not hours.spans and not hours.always):
        return page.raw("dir.hours_none")
    if page.lang == "fr":
        return hours.text
    if hours.always:
        return page.raw("dir.hours_always")
    names = page.days()
    return ", ".join(
        f"{days_to_text(s.days, names, '–')} {s.opens:%H:%M}–{s.closes:%H:%M}" for s in hours.spans
    )


def _status(page: _Page, state: Status, home_tz: str = "") -> tuple[str, int]:
    """ "open now" / "closed, opens ..." as markup, and its width."""
    if state.state is OpenState.UNKNOWN:
        return "", 0
    if state.state is OpenState.ALWAYS:
        # The hours text already says "24 hours a day": no closing time to add.
        text = page.raw("dir.open")
        return _style("ok", text), text_width(text)
    if state.state is OpenState.OPEN:
        head = page.raw("dir.open")
        tail = page.raw("dir.until", time=_clock(state.change)) if state.change else ""
        style = "ok"
    else:
        head = page.raw("dir.closed")
        tail = (
            page.raw("dir.opens", day=_day(page, state.change), time=_clock(state.change))
            if state.change
            else ""
        )
        style = "warn"
    if home_tz and state.tz != home_tz:
        zone_note = page.raw("dir.tz", city=_city(state.tz))
        tail = f"{tail}, {zone_note}" if tail else zone_note
    markup = _style(style, head) + (" " + _style("dim", f"({tail})") if tail else "")
    return markup, text_width(head) + (len(tail) + 3 if tail else 0)


def _hours_lines(page: _Page, hours: Hours | None, state: Status, indent: str, home: str) -> None:
    """The hours line, with "open now?" at its end when it fits, else under it."""
    label = page.raw("dir.hours")
    text = _hours_text(page, hours)
    status, status_width = _status(page, state, home)
    line = f"{indent}{_style('dim', label)} {escape(text)}"
    width = text_width(indent) + text_width(label) + 1 + text_width(text)
    if status and width + 2 + status_width <= page.room:
        page.add(f"{line}  {status}")
        return
    page.add(line)
    if status:
        page.add(f"{indent}{status}")


def _number_text(page: _Page, number: Number) -> str:
    """A number with its label ("cc:Mail : 1-415-966-4900"), plain text."""
    if number.nd:
        return page.raw("dir.nd")
    label = number.label
    if number.kind in ("fax", "url", "ftp") and not label:
        label = page.raw(f"dir.kind.{number.kind}")
    elif number.kind == "fax":
        label = f"{label} ({page.raw('dir.kind.fax')})"
    return page.raw("dir.label", label=label, number=number.text) if label else number.text


def _number_lines(
    page: _Page, number: Number, indent: str, lead: tuple[str, int] = ("", 0)
) -> None:
    """One number, its notes beside it when they fit, else under it.

    `lead` (markup, width) replaces the indentation on the first line: a table's
    country name.
    """
    text = _number_text(page, number)
    markup, width = lead if lead[0] else (indent, text_width(indent))
    notes = "; ".join(seed_text(page, note) for note in number.notes)
    line = f"{markup}{_style('em', text)}"
    width += text_width(text)
    if notes and width + 3 + text_width(notes) <= page.room:
        page.add(f"{line}  {_style('dim', f'({notes})')}")
        return
    page.add(line)
    if notes:
        page.add(f"{indent}  {_style('dim', f'({notes})')}")


def _notes_lines(page: _Page, listing: Listing, indent: str, show_source: bool) -> None:
    """A listing's languages, remark, source and erratum, dimmed, one per line."""
    if listing.languages:
        names = ", ".join(_language(page, name) for name in listing.languages)
        page.add(f"{indent}{_style('dim', page.raw('dir.languages'))} {escape(names)}")
    if listing.remark:
        page.add(
            f"{indent}{_style('dim', page.raw('dir.remark', text=seed_text(page, listing.remark)))}"
        )
    if show_source:
        source = seed_text(page, listing.source)
        page.add(f"{indent}{_style('dim', page.raw('dir.source', source=source))}")
    if listing.erratum:
        page.add(f"{indent}{_style('dim', page.raw('dir.erratum', text=listing.erratum))}")


def _same_hours(a: Entry, b: Entry) -> bool:
    hours = a.listing.hours
    always = hours is not None and hours.always
    return hours == b.listing.hours and (always or a.tz == b.tz)


def _entries_block(page: _Page, entries: Sequence[Entry], now: datetime, home: str) -> None:
    """Listings of one service in one card: numbers, notes, then hours once per run."""
    sources = {e.listing.source for e in entries}
    for i, entry in enumerate(entries):
        for number in entry.numbers:
            _number_lines(page, number, INDENT)
        _notes_lines(page, entry.listing, INDENT, len(sources) > 1)
        following = entries[i + 1] if i + 1 < len(entries) else None
        if following is None or not _same_hours(entry, following):
            _hours_lines(page, entry.listing.hours, entry.status(now), INDENT, home)


def _centre_lines(page: _Page, centre: Centre, now: datetime, full: bool) -> None:
    """A centre under its heading: phone, address (full), hours, languages, countries."""
    if full:
        for line in centre.address:
            page.add(INDENT + escape(line))
    page.add(f"{INDENT}{_style('dim', page.raw('dir.phone'))} {_style('em', centre.phone)}")
    _hours_lines(page, centre.hours, centre_status(centre, now), INDENT, "")
    names = ", ".join(_language(page, name) for name in centre.languages)
    page.add(f"{INDENT}{_style('dim', page.raw('dir.languages'))} {escape(names)}")
    if full:
        page.add(f"{INDENT}{_style('dim', page.raw('dir.served'))} {escape(_served(page, centre))}")
    if centre.remark:
        page.add(f"{INDENT}{_style('dim', seed_text(page, centre.remark))}")


def _served(page: _Page, centre: Centre) -> str:
    """The places a centre serves: as printed in French, by their names otherwise."""
    if page.lang == "fr":
        return ", ".join(centre.served)
    return ", ".join(
        page.countries[code].names.get(page.lang) if code in page.countries else printed
        for code, printed in zip(centre.countries, centre.served, strict=False)
    )


def _card(page: _Page, card: Card, index_services: Sequence[Service], now: datetime) -> None:
    country = card.country
    page.add("{title}" + escape(country.names.get(page.lang)))
    others = [country.names.get(lang) for lang in ("fr", "en", "de") if lang != page.lang]
    alias = " · ".join(_unique([*others, country.code]))
    local = now.astimezone(zone(country.tz))
    clock = page.raw("dir.local_time", day=_day(page, local), time=_clock(local))
    page.add(_style("dim", f"{alias} — {clock}"))
    if card.parent:
        page.add(_style("dim", page.raw("dir.parent", name=card.parent.names.get(page.lang))))
    if card.regions:
        names = ", ".join(r.names.get(page.lang) for r in card.regions)
        page.add(_style("dim", page.raw("dir.regions", names=names)))
    groups: dict[str, list[Entry]] = {}
    for entry in card.entries:
        groups.setdefault(entry.service.code, []).append(entry)
    for entries in groups.values():
        page.blank()
        page.add("{h}" + escape(entries[0].service.names.get(page.lang)) + "{/}")
        _entries_block(page, entries, now, country.tz)
    for service in index_services:
        if service.code not in groups:
            page.blank()
            page.add(page.t("dir.no_listing", service=service.names.get(page.lang)))
    if not card.entries and not index_services and not card.centres:
        page.blank()
        page.add(page.t("dir.no_listing_any"))
    for centre in card.centres:
        page.blank()
        page.add("{h}" + page.t("dir.centre", city=centre.city) + "{/}")
        _centre_lines(page, centre, now, full=False)


def _unique(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _name_column(page: _Page, entries: Sequence[Entry]) -> int:
    longest = max((text_width(e.country.names.get(page.lang)) for e in entries), default=0)
    return min(longest, 22) + 2


def _service_rows(page: _Page, entries: Sequence[Entry], now: datetime, shared: bool) -> None:
    """One service's entries as a table (wide) or a list (narrow)."""
    wide = page.width >= WIDE
    column = _name_column(page, entries)
    previous: Country | None = None
    for at, entry in enumerate(entries):
        name = entry.country.names.get(page.lang)
        same = previous is not None and previous.code == entry.country.code
        previous = entry.country
        lead = ("", 0)
        if wide:
            indent = " " * column
            if same:
                pass
            elif text_width(name) >= column:
                page.add(_style("h", name))
            else:
                lead = (_style("h", name) + " " * (column - text_width(name)), column)
        else:
            if not same:
                page.add(_style("h", name))
            indent = INDENT
        for i, number in enumerate(entry.numbers):
            _number_lines(page, number, indent, lead if i == 0 else ("", 0))
        _notes_lines(page, entry.listing, indent, entry.listing.source != entries[0].listing.source)
        following = entries[at + 1] if at + 1 < len(entries) else None
        run_goes_on = (
            following is not None
            and following.country.code == entry.country.code
            and _same_hours(entry, following)
        )
        if not shared and not run_goes_on:
            _hours_lines(page, entry.listing.hours, entry.status(now), indent, entry.country.tz)


def _service_table(page: _Page, service: Service, entries: Sequence[Entry], now: datetime) -> None:
    page.add("{title}" + escape(service.names.get(page.lang)))
    if not entries:
        page.add(page.t("dir.service_empty"))
        return
    first = entries[0]
    shared = all(_same_hours(first, e) for e in entries) and first.listing.hours is not None
    if shared:
        _hours_lines(page, first.listing.hours, first.status(now), "", "")
    page.blank()
    _service_rows(page, entries, now, shared)


def _footer(page: _Page, now: datetime) -> None:
    utc = now.astimezone(zone("UTC"))
    page.blank()
    page.add("{hr}")
    page.add(_style("dim", page.raw("dir.as_of", day=_day(page, utc), time=_clock(utc))))


def _names(page: _Page, things: Sequence[Country | Service]) -> str:
    return ", ".join(t.names.get(page.lang) for t in things)


def _ignored(page: _Page, answer: Answer) -> None:
    if answer.ignored:
        page.blank()
        page.add(_style("dim", page.raw("dir.ignored", words=", ".join(answer.ignored))))
    if answer.suggestions:
        page.add(page.t("dir.suggest", names=_names(page, answer.suggestions)))


def format_answer(answer: Answer, lang: str, now: datetime, width: int, strings: Strings) -> str:
    """Any answer of `bbs.directory.query` as a screen of markup, open/closed as of `now`."""
    page = _Page(strings, lang, width, _answer_countries(answer))
    if answer.kind is Kind.COUNTRY:
        for card in answer.cards:
            page.blank()
            _card(page, card, answer.services, now)
    elif answer.kind is Kind.SERVICE:
        for service in answer.services:
            page.blank()
            entries = [e for e in answer.entries if e.service.code == service.code]
            _service_table(page, service, entries, now)
    elif answer.kind is Kind.NUMBER:
        _number_answer(page, answer, now)
    elif answer.kind is Kind.CENTRE:
        page.add("{title}" + page.t("dir.centres_title"))
        for centre in answer.centres:
            page.blank()
            page.add("{h}" + escape(centre.city) + "{/}")
            _centre_lines(page, centre, now, full=True)
    elif answer.kind is Kind.CHOICE:
        page.add("{title}" + page.t("dir.choice_title"))
        page.add(page.t("dir.choice", query=answer.query.strip()))
        for country in answer.choices:
            page.add(
                f"{INDENT}{_style('em', country.names.get(lang))}  {_style('dim', country.code)}"
            )
        page.blank()
        page.add(page.t("dir.choice_hint"))
    else:
        page.add("{title}" + page.t("dir.not_found_title"))
        if answer.numbers:
            for number in answer.numbers:
                page.add(page.t("dir.number_unknown", number=number))
        else:
            page.add(page.t("dir.not_found", query=answer.query.strip()))
        if answer.suggestions:
            page.blank()
            page.add(page.t("dir.suggest", names=_names(page, answer.suggestions)))
        page.blank()
        page.add(_style("dim", page.raw("dir.prompt_help")))
        page.add(_style("dim", page.raw("dir.elsewhere")))
        return page.text()
    _ignored(page, answer)
    _footer(page, now)
    return page.text()


def _number_answer(page: _Page, answer: Answer, now: datetime) -> None:
    page.add("{title}" + page.t("dir.number_title", number=" / ".join(answer.numbers)))
    page.add(page.t("dir.number_shared"))
    for entry in answer.entries:
        page.blank()
        country = entry.country.names.get(page.lang)
        service = entry.service.names.get(page.lang)
        page.add("{h}" + escape(f"{country} — {service}") + "{/}")
        for number in entry.numbers:
            _number_lines(page, number, INDENT)
        _notes_lines(page, entry.listing, INDENT, False)
        _hours_lines(page, entry.listing.hours, entry.status(now), INDENT, entry.country.tz)
    for centre in answer.centres:
        page.blank()
        page.add("{h}" + page.t("dir.centre", city=centre.city) + "{/}")
        _centre_lines(page, centre, now, full=False)


def _answer_countries(answer: Answer) -> dict[str, Country]:
    """Every country an answer mentions, by code."""
    found: dict[str, Country] = {}
    for card in answer.cards:
        found[card.country.code] = card.country
    for entry in answer.entries:
        found[entry.country.code] = entry.country
    return found


def _index(directory: Directory | Index) -> Index:
    return directory if isinstance(directory, Index) else build_index(directory)


def format_service_table(
    directory: Directory | Index,
    service_code: str,
    lang: str,
    now: datetime,
    width: int,
    strings: Strings,
) -> str:
    """The table a menu shows for one service: every country, its numbers and hours."""
    index = _index(directory)
    service = index.service(service_code)
    if service is None:
        raise ValueError(f"unknown service {service_code!r}")
    page = _Page(strings, lang, width, index.countries)
    _service_table(page, service, index.service_entries(service_code), now)
    page.blank()
    page.add(_style("dim", page.raw("dir.elsewhere")))
    _footer(page, now)
    return page.text()


def format_centres(
    directory: Directory | Index, lang: str, now: datetime, width: int, strings: Strings
) -> str:
    """The international support centres: address, phone, hours, languages, countries."""
    index = _index(directory)
    page = _Page(strings, lang, width, index.countries)
    page.add("{title}" + page.t("dir.centres_title"))
    for centre in index.directory.centres:
        page.blank()
        page.add("{h}" + escape(centre.city) + "{/}")
        _centre_lines(page, centre, now, full=True)
    _footer(page, now)
    return page.text()
