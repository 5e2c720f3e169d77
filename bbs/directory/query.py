"""Pure look-ups on a Directory: free-text search, country cards, service tables, numbers.

Telnet screens, the CLI and any later front end call these same functions. An
`Index` is built once per Directory (`build_index`); every search then costs a few
dictionary look-ups. Answers say *what* matches and never depend on the clock:
whether a listing is open is asked of an `Entry` (or a centre) with an aware `now`.

A query mixes, in any order and any of the three languages, country names (prefixes
too: "belg"), ISO codes ("BE"), service words ("fax", "bbs", "gratuite", "free") and
numbers ("46 8 750 83 70", "1-800-GO-LOTUS", "ftp.support.lotus.com"):
"belgique fax", "norway bbs", "allemagne gratuite".
"""

from __future__ import annotations

import difflib
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from bbs.directory.hours import Status, span_to_text, status
from bbs.directory.model import (
    Centre,
    Country,
    Directory,
    Hours,
    Listing,
    Names,
    Number,
    Service,
)
from bbs.directory.text import fold, german_variants, keys_match, number_key, spot_numbers, words
from bbs.menus.strings import LANGS

SUGGEST_CUTOFF = 0.7
"""How alike (difflib ratio) a typed word and a name must be for "did you mean"."""

MIN_PREFIX = 2
"""Shortest word that may stand for the start of a longer one ("be" -> "belgique")."""

# Words that carry no meaning on their own in a look-up ("numéros de la Belgique").
# They still count inside a phrase ("pays de galles") and never match by prefix.
STOPWORDS: frozenset[str] = frozenset(
    (
        *("le", "la", "les", "l", "d", "de", "du", "des", "et", "en", "au", "aux", "a"),
        *("pour", "sur", "par", "un", "une", "dans", "ou", "quel", "quels", "numero"),
        *("numeros", "tel", "telephone", "appeler", "service", "services", "assistance"),
        *("client", "clients", "lotus", "support"),
        *("the", "an", "of", "and", "in", "for", "at", "to", "on", "number", "numbers"),
        *("phone", "call", "customer", "help"),
        *("der", "die", "das", "den", "dem", "des", "und", "im", "fur", "von", "zu", "am"),
        *("nach", "nummer", "nummern", "telefon", "rufnummer", "kundendienst", "dienst"),
        *("hilfe",),
    )
)


class Kind(StrEnum):
    """What an answer is."""

    COUNTRY = "country"
    """One card per country asked for, perhaps narrowed to some services."""
    SERVICE = "service"
    """One or more services, every country they are offered in."""
    NUMBER = "number"
    """Everyone who shares a number or address."""
    CHOICE = "choice"
    """The words fit several countries: the caller picks one."""
    CENTRE = "centre"
    """International support centres, found by their city, company or address."""
    NOT_FOUND = "not_found"
    """Nothing matched; `suggestions` holds the closest names."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One listing in an answer, with its service and country resolved.

    `numbers` are the listing's numbers, or only those that matched a number search.
    """

    listing: Listing
    service: Service
    country: Country
    numbers: tuple[Number, ...]

    @property
    def tz(self) -> str:
        """The time zone the listing's hours are in."""
        return self.listing.tz or self.country.tz

    def status(self, now: datetime) -> Status:
        """Whether the listing is open at the aware instant `now`; a listing whose
        numbers are all "ND" (not available) is never open: there is nothing to call."""
        numbers = self.listing.numbers
        if numbers and all(n.nd for n in numbers):
            return status(None, self.tz, now)
        return status(self.listing.hours, self.tz, now)


def centre_status(centre: Centre, now: datetime) -> Status:
    """Whether a support centre is open at the aware instant `now`."""
    return status(centre.hours, centre.tz, now)


@dataclass(frozen=True, slots=True)
class Card:
    """Everything the directory has for one country.

    `entries` are ordered by service then as the seed prints them; for a part of a
    country (Angleterre) they are its parent's (`parent`, Royaume-Uni). `centres` are
    the international centres serving it (or one of its `regions`).
    """

    country: Country
    entries: tuple[Entry, ...]
    centres: tuple[Centre, ...] = ()
    parent: Country | None = None
    regions: tuple[Country, ...] = ()


@dataclass(frozen=True, slots=True)
class Answer:
    """The result of a look-up; see `Kind` for which fields are filled."""

    kind: Kind
    query: str
    cards: tuple[Card, ...] = ()
    services: tuple[Service, ...] = ()
    """The services asked for: a filter of the cards, or the subject of a service answer."""
    entries: tuple[Entry, ...] = ()
    """Service and number answers: the matching listings."""
    centres: tuple[Centre, ...] = ()
    """Number answers: the centres with that telephone number; centre answers: the
    centres found."""
    numbers: tuple[str, ...] = ()
    """Number answers (found or not): the numbers as typed."""
    choices: tuple[Country, ...] = ()
    suggestions: tuple[Country | Service, ...] = ()
    ignored: tuple[str, ...] = ()
    """Words of the query that meant nothing to the directory."""

    @property
    def found(self) -> bool:
        """True when the answer has listings, centres or a card to show."""
        return bool(self.cards or self.entries or self.centres)


@dataclass(frozen=True, slots=True)
class _Target:
    """What a phrase means: a country (weak for two-letter codes) or a service."""

    kind: str
    code: str
    weak: bool = False


@dataclass(frozen=True, slots=True)
class _Group:
    """Consecutive query words and what they mean."""

    words: tuple[str, ...]
    targets: frozenset[_Target]


class Index:
    """A Directory prepared for look-ups; build once, share between sessions (read-only)."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory
        self.countries: dict[str, Country] = {c.code: c for c in directory.countries}
        self.services: dict[str, Service] = {s.code: s for s in directory.services}
        by_country: dict[str, list[Listing]] = {}
        by_service: dict[str, list[Listing]] = {}
        for listing in directory.listings:
            by_country.setdefault(listing.country, []).append(listing)
            by_service.setdefault(listing.service, []).append(listing)
        order = {code: s.order for code, s in self.services.items()}
        self._by_country = {
            code: tuple(sorted(ls, key=lambda li: (order.get(li.service, 0), li.seq)))
            for code, ls in by_country.items()
        }
        self._by_service = {
            code: tuple(sorted(ls, key=lambda li: li.seq)) for code, ls in by_service.items()
        }
        self._parent: dict[str, str] = {}
        self._regions: dict[str, list[str]] = {}
        for code in self.countries:
            head = code.split("-", 1)[0]
            if head != code and head in self.countries:
                self._parent[code] = head
                self._regions.setdefault(head, []).append(code)
        self._centres: dict[str, list[Centre]] = {}
        for centre in directory.centres:
            for code in centre.countries:
                self._centres.setdefault(code, []).append(centre)
        self._phrases: dict[tuple[str, ...], set[_Target]] = {}
        for country in directory.countries:
            self._add_country(country)
        for service in directory.services:
            target = _Target("service", service.code)
            for text in (*_names_of(service.names), *service.keywords, service.code):
                self._add(text, target)
        self._by_first: dict[str, list[tuple[str, ...]]] = {}
        for phrase in self._phrases:
            self._by_first.setdefault(phrase[0], []).append(phrase)
        self._firsts = sorted(self._by_first)
        self._spellings = {" ".join(p): p for p in self._phrases if len(" ".join(p)) > 2}
        self._bigrams = {key: _bigrams(key) for key in self._spellings}
        self._numbers: list[tuple[str, Listing | Centre, Number | None]] = []
        for listing in directory.listings:
            for number in listing.numbers:
                key = "" if number.nd else number_key(number.text, number.kind)
                if key:
                    self._numbers.append((key, listing, number))
        for centre in directory.centres:
            self._numbers.append((number_key(centre.phone), centre, None))
        self._completions = {lang: self._completion_words(lang) for lang in LANGS}
        self._centre_words = tuple(
            (centre, frozenset(words(" ".join((centre.city, centre.code, *centre.address)))))
            for centre in directory.centres
        )

    def _add(self, text: str, target: _Target) -> None:
        phrase = words(text)
        if phrase:
            self._phrases.setdefault(phrase, set()).add(target)

    def _add_country(self, country: Country) -> None:
        target = _Target("country", country.code)
        for text in (*_names_of(country.names), *country.aliases):
            self._add(text, target)
            for variant in german_variants(text):
                self._add(variant, target)
        if country.iso:
            self._add(country.iso, _Target("country", country.code, weak=True))

    def _completion_words(self, lang: str) -> tuple[str, ...]:
        seen: dict[str, str] = {}
        for country in self.directory.countries:
            seen.setdefault(fold(country.names.get(lang)), country.names.get(lang))
        for service in self.directory.services:
            for keyword in service.keywords:
                seen.setdefault(fold(keyword), keyword)
        return tuple(sorted(seen.values(), key=fold))

    # --- look-ups ---------------------------------------------------------------------

    def country(self, code: str) -> Country | None:
        """The country with this directory code, if any."""
        return self.countries.get(code)

    def service(self, code: str) -> Service | None:
        """The service with this code, if any."""
        return self.services.get(code)

    def entry(self, listing: Listing, numbers: Sequence[Number] | None = None) -> Entry:
        """A listing with its service and country resolved."""
        return Entry(
            listing=listing,
            service=self.services[listing.service],
            country=self.countries[listing.country],
            numbers=tuple(listing.numbers if numbers is None else numbers),
        )

    def card(self, code: str, services: Iterable[str] = ()) -> Card:
        """The card of one country, narrowed to `services` when some are given."""
        country = self.countries[code]
        wanted = set(services)
        parent_code = self._parent.get(code)
        listings = self._by_country.get(code, ())
        if parent_code:
            listings = listings + self._by_country.get(parent_code, ())
        entries = tuple(self.entry(li) for li in listings if not wanted or li.service in wanted)
        centres: list[Centre] = []
        if not wanted:
            for place in (code, *self._regions.get(code, ())):
                for centre in self._centres.get(place, ()):
                    if centre not in centres:
                        centres.append(centre)
        return Card(
            country=country,
            entries=entries,
            centres=tuple(centres),
            parent=self.countries[parent_code] if parent_code else None,
            regions=tuple(self.countries[r] for r in self._regions.get(code, ())),
        )

    def service_entries(self, code: str) -> tuple[Entry, ...]:
        """Every listing of one service, in the seed's order."""
        return tuple(self.entry(li) for li in self._by_service.get(code, ()))

    def completion_words(self, lang: str) -> tuple[str, ...]:
        """Country names in `lang` and every service word, for Tab completion."""
        return self._completions.get(lang, self._completions["fr"])

    # --- matching words -----------------------------------------------------------------

    def _match_at(self, tokens: Sequence[str], i: int) -> tuple[int, frozenset[_Target]]:
        """The best phrase starting at word i: (words it takes, what it means)."""
        token, n = tokens[i], len(tokens)
        candidates = list(self._by_first.get(token, ()))
        if len(token) >= MIN_PREFIX and token not in STOPWORDS:
            at = bisect_left(self._firsts, token)
            while at < len(self._firsts) and self._firsts[at].startswith(token):
                if self._firsts[at] != token:
                    candidates.extend(self._by_first[self._firsts[at]])
                at += 1
        best: tuple[int, int] = (0, 0)
        found: set[_Target] = set()
        for phrase in candidates:
            taken, exact = 0, 2
            while taken < len(phrase) and i + taken < n:
                want, got = phrase[taken], tokens[i + taken]
                if want == got:
                    taken += 1
                    continue
                last_word = taken == len(phrase) - 1 or i + taken == n - 1
                if len(got) >= MIN_PREFIX and want.startswith(got) and last_word:
                    taken, exact = taken + 1, 1
                break
            if taken < len(phrase):
                # The query may stop in the middle of a phrase ("royaume"), not
                # contradict it ("pays fax").
                if taken == 0 or i + taken != n:
                    continue
                exact = 1
            score = (taken, exact)
            if score > best:
                best, found = score, set(self._phrases[phrase])
            elif score == best:
                found |= self._phrases[phrase]
        return best[0], frozenset(found)

    def _groups(self, text: str) -> tuple[list[_Group], list[str]]:
        """The query's words grouped into meanings, and the words that meant nothing."""
        tokens = words(text)
        groups: list[_Group] = []
        ignored: list[str] = []
        i = 0
        while i < len(tokens):
            taken, targets = self._match_at(tokens, i)
            if not taken:
                if tokens[i] not in STOPWORDS:
                    ignored.append(tokens[i])
                i += 1
                continue
            groups.append(_Group(tuple(tokens[i : i + taken]), targets))
            i += taken
        # A two-letter code counts only when no country is named in full: "in", "de"
        # and "at" are also words.
        strong = any(t.kind == "country" and not t.weak for g in groups for t in g.targets)
        if strong:
            kept = []
            for group in groups:
                targets = frozenset(t for t in group.targets if not t.weak)
                if targets:
                    kept.append(_Group(group.words, targets))
                elif " ".join(group.words) not in STOPWORDS:
                    ignored.append(" ".join(group.words))
            groups = kept
        return groups, ignored

    def centres_named(self, tokens: Sequence[str]) -> tuple[Centre, ...]:
        """The centres whose city, company name or address has every word of `tokens`
        (a word of three letters or more may be the start of one: "munch")."""
        if not tokens:
            return ()

        def has(known: frozenset[str], token: str) -> bool:
            if token in known:
                return True
            return len(token) >= 3 and any(word.startswith(token) for word in known)

        return tuple(
            centre for centre, known in self._centre_words if all(has(known, t) for t in tokens)
        )

    def _suggest(self, text: str, ignored: Sequence[str]) -> tuple[Country | Service, ...]:
        """The names closest to what was typed, for "did you mean ...?"."""
        tries = _unique([" ".join(words(text)), *ignored])
        out: list[Country | Service] = []
        for typed in tries:
            if not typed:
                continue
            # Bigram overlap is cheap; only the best few are compared character by character.
            grams = _bigrams(typed)
            rough = sorted(
                (
                    (2 * len(grams & theirs) / (len(grams) + len(theirs)), key)
                    for key, theirs in self._bigrams.items()
                    if not grams.isdisjoint(theirs)
                ),
                reverse=True,
            )[:8]
            scored = sorted(
                ((difflib.SequenceMatcher(None, typed, key).ratio(), key) for _, key in rough),
                reverse=True,
            )
            # Only names about as close as the closest, and close at all: "paris" is not
            # "pakistan" although they share four letters.
            best = scored[0][0] if scored else 0.0
            close = [key for ratio, key in scored if ratio >= max(SUGGEST_CUTOFF, best - 0.08)]
            for key in close:
                phrase = self._spellings[key]
                for target in sorted(self._phrases[phrase], key=lambda t: (t.kind, t.code)):
                    thing = self._thing(target)
                    if not target.weak and thing not in out:
                        out.append(thing)
            if out:
                # The whole text came close to a name: its words alone would only add noise.
                break
        return tuple(out[:5])

    def _thing(self, target: _Target) -> Country | Service:
        if target.kind == "country":
            return self.countries[target.code]
        return self.services[target.code]


def _bigrams(text: str) -> frozenset[str]:
    padded = f" {text} "
    return frozenset(padded[i : i + 2] for i in range(len(padded) - 1))


def _names_of(names: Names) -> tuple[str, str, str]:
    return (names.fr, names.en, names.de)


def build_index(directory: Directory) -> Index:
    """An index of `directory` for fast look-ups (build once per directory)."""
    return Index(directory)


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def search(index: Index, text: str, service: str | None = None) -> Answer:
    """Answer a free-text look-up: countries, services, numbers, or several together.

    `service` (a service code) narrows the answer as if its name had been typed;
    an unknown code raises ValueError.
    """
    if service is not None and service not in index.services:
        raise ValueError(f"unknown service {service!r}")
    answer = _search(index, text, service)
    if answer.ignored and not answer.suggestions:
        # Something was found, but a word was not understood: "frnce fax".
        answer = replace(answer, suggestions=index._suggest("", answer.ignored))
    return answer


def _search(index: Index, text: str, service: str | None) -> Answer:
    spotted = spot_numbers(text)
    groups, ignored = index._groups(spotted.rest)
    service_codes = _unique(
        [
            t.code
            for g in groups
            for t in sorted(g.targets, key=lambda t: t.code)
            if t.kind == "service"
        ]
        + ([service] if service else [])
    )
    services = tuple(sorted((index.services[c] for c in service_codes), key=lambda s: s.order))
    country_sets = [sorted({t.code for t in g.targets if t.kind == "country"}) for g in groups]
    country_sets = [s for s in country_sets if s]
    if spotted.numbers:
        codes = _unique(c for s in country_sets for c in s)
        return _numbers_answer(index, text, spotted.numbers, services, codes, ignored)
    ambiguous = [s for s in country_sets if len(s) > 1]
    if ambiguous:
        choices = _unique(c for s in ambiguous for c in s)
        return Answer(
            Kind.CHOICE,
            text,
            services=services,
            choices=tuple(index.countries[c] for c in choices),
            ignored=tuple(ignored),
        )
    if country_sets:
        codes = _unique(s[0] for s in country_sets)
        cards = tuple(index.card(c, (s.code for s in services)) for c in codes)
        return Answer(Kind.COUNTRY, text, cards=cards, services=services, ignored=tuple(ignored))
    if services:
        entries = tuple(e for s in services for e in index.service_entries(s.code))
        return Answer(
            Kind.SERVICE, text, services=services, entries=entries, ignored=tuple(ignored)
        )
    centres = index.centres_named(ignored)
    if centres:
        return Answer(Kind.CENTRE, text, centres=centres)
    return Answer(
        Kind.NOT_FOUND,
        text,
        suggestions=index._suggest(spotted.rest, ignored),
        ignored=tuple(ignored),
    )


def _numbers_answer(
    index: Index,
    text: str,
    numbers: Sequence[tuple[str, str]],
    services: Sequence[Service],
    countries: Sequence[str],
    ignored: Sequence[str],
) -> Answer:
    wanted_services = {s.code for s in services}
    wanted_countries = set(countries)
    listings: dict[int, tuple[Listing, list[Number]]] = {}
    centres: list[Centre] = []
    for _, key in numbers:
        hits = [(keys_match(key, k), owner, n) for k, owner, n in index._numbers]
        best = max((score for score, _, _ in hits), default=0)
        for score, owner, number in hits:
            if not best or score != best:
                continue
            if isinstance(owner, Centre):
                fits = not wanted_countries or wanted_countries & set(owner.countries)
                if not wanted_services and fits and owner not in centres:
                    centres.append(owner)
                continue
            if wanted_services and owner.service not in wanted_services:
                continue
            if wanted_countries and owner.country not in wanted_countries:
                continue
            assert number is not None  # only centres carry no Number
            held = listings.setdefault(id(owner), (owner, []))
            if number not in held[1]:
                held[1].append(number)
    entries = tuple(
        index.entry(listing, [n for n in listing.numbers if n in matched])
        for listing, matched in sorted(
            listings.values(), key=lambda item: (index.services[item[0].service].order, item[0].seq)
        )
    )
    typed = tuple(t for t, _ in numbers)
    kind = Kind.NUMBER if entries or centres else Kind.NOT_FOUND
    return Answer(
        kind,
        text,
        services=tuple(services),
        entries=entries,
        centres=tuple(centres),
        numbers=typed,
        ignored=tuple(ignored),
    )


def country_answer(index: Index, name: str, services: Iterable[str] = ()) -> Answer:
    """The card of the country called `name` (a code such as "BE", or any of its names).

    Service words in `name` are not looked at; `services` (codes) narrows the card.
    """
    wanted = tuple(sorted((index.services[c] for c in services), key=lambda s: s.order))
    codes = [wanted_service.code for wanted_service in wanted]
    if name.strip() in index.countries:
        return Answer(Kind.COUNTRY, name, cards=(index.card(name.strip(), codes),), services=wanted)
    groups, ignored = index._groups(name)
    found = _unique(
        c for g in groups for c in sorted(t.code for t in g.targets if t.kind == "country")
    )
    if len(found) == 1:
        card = index.card(found[0], codes)
        return Answer(Kind.COUNTRY, name, cards=(card,), services=wanted, ignored=tuple(ignored))
    if found:
        return Answer(
            Kind.CHOICE,
            name,
            services=wanted,
            choices=tuple(index.countries[c] for c in found),
            ignored=tuple(ignored),
        )
    suggestions = tuple(s for s in index._suggest(name, ignored) if isinstance(s, Country))
    return Answer(Kind.NOT_FOUND, name, suggestions=suggestions, ignored=tuple(ignored))


def service_answer(index: Index, code: str) -> Answer:
    """Every country a service is offered in (ValueError for an unknown code)."""
    service = index.services.get(code)
    if service is None:
        raise ValueError(f"unknown service {code!r}")
    return Answer(Kind.SERVICE, code, services=(service,), entries=index.service_entries(code))


def number_answer(index: Index, text: str) -> Answer:
    """Everyone who shares the number or address `text`, whatever its spacing."""
    spotted = spot_numbers(text)
    if not spotted.numbers:
        return Answer(Kind.NOT_FOUND, text)
    return _numbers_answer(index, text, spotted.numbers, (), (), ())


def find_country(index: Index, name: str) -> Country | None:
    """The one country `name` designates (code, name, alias or unique prefix), if any."""
    answer = country_answer(index, name)
    return answer.cards[0].country if answer.kind is Kind.COUNTRY else None


def completion_words(index: Index, lang: str) -> tuple[str, ...]:
    """Words for Tab completion in `lang`: country names and service words."""
    return index.completion_words(lang)


# --- JSON ---------------------------------------------------------------------------------


def _names_json(names: Names) -> dict[str, str]:
    return {lang: names.get(lang) for lang in LANGS}


def _hours_json(hours: Hours | None) -> dict[str, Any] | None:
    if hours is None:
        return None
    return {
        "text": hours.text,
        "always": hours.always,
        "spans": [span_to_text(s) for s in hours.spans],
    }


def _status_json(state: Status) -> dict[str, Any]:
    return {
        "state": state.state.value,
        "open": state.is_open,
        "tz": state.tz,
        "local": state.local.isoformat(timespec="minutes"),
        "change": state.change.isoformat(timespec="minutes") if state.change else None,
    }


def _country_json(country: Country) -> dict[str, Any]:
    return {
        "code": country.code,
        "iso": country.iso,
        "names": _names_json(country.names),
        "tz": country.tz,
    }


def _service_json(service: Service) -> dict[str, Any]:
    return {"code": service.code, "names": _names_json(service.names), "menu": service.menu}


def _entry_json(entry: Entry, now: datetime | None) -> dict[str, Any]:
    listing = entry.listing
    out: dict[str, Any] = {
        "service": entry.service.code,
        "country": entry.country.code,
        "printed": listing.printed,
        "numbers": [
            {"text": n.text, "kind": n.kind, "label": n.label, "notes": list(n.notes), "nd": n.nd}
            for n in entry.numbers
        ],
        "hours": _hours_json(listing.hours),
        "tz": entry.tz,
        "languages": list(listing.languages),
        "remark": listing.remark,
        "erratum": listing.erratum,
        "source": listing.source,
    }
    if now is not None:
        out["status"] = _status_json(entry.status(now))
    return out


def _centre_json(centre: Centre, now: datetime | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "code": centre.code,
        "city": centre.city,
        "address": list(centre.address),
        "phone": centre.phone,
        "hours": _hours_json(centre.hours),
        "tz": centre.tz,
        "countries": list(centre.countries),
        "served": list(centre.served),
        "languages": list(centre.languages),
        "remark": centre.remark,
    }
    if now is not None:
        out["status"] = _status_json(centre_status(centre, now))
    return out


def answer_to_json(answer: Answer, now: datetime | None = None) -> dict[str, Any]:
    """The answer as plain JSON data; with `now`, each listing and centre says if it is open."""
    out: dict[str, Any] = {
        "kind": answer.kind.value,
        "query": answer.query,
        "found": answer.found,
        "services": [_service_json(s) for s in answer.services],
    }
    if now is not None:
        out["now"] = now.isoformat(timespec="minutes")
    if answer.cards:
        out["cards"] = [
            {
                "country": _country_json(card.country),
                "parent": card.parent.code if card.parent else None,
                "regions": [r.code for r in card.regions],
                "entries": [_entry_json(e, now) for e in card.entries],
                "centres": [_centre_json(c, now) for c in card.centres],
            }
            for card in answer.cards
        ]
    if answer.entries:
        out["entries"] = [_entry_json(e, now) for e in answer.entries]
    if answer.centres:
        out["centres"] = [_centre_json(c, now) for c in answer.centres]
    if answer.numbers:
        out["numbers"] = list(answer.numbers)
    if answer.choices:
        out["choices"] = [_country_json(c) for c in answer.choices]
    if answer.suggestions:
        out["suggestions"] = [
            {"country": _country_json(s)}
            if isinstance(s, Country)
            else {"service": _service_json(s)}
            for s in answer.suggestions
        ]
    if answer.ignored:
        out["ignored"] = list(answer.ignored)
    return out
