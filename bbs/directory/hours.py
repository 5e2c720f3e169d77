"""Opening hours: the seed's French wording read into spans, and "open now?" for an instant."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bbs.directory.model import Hours, Span
from bbs.directory.text import fold

DAYS_FR: tuple[str, ...] = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
"""French weekday names as the seed prints them (folded), Monday first."""
DAYS_EN: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Day abbreviations of the explicit span syntax ("Mon-Fri 09:00-17:00")."""

_TIME = r"(\d{1,2})(?:[:h](\d{2}))?\s*(am|pm)?"
_TIME_RANGE = re.compile(rf"(?<![\d:]){_TIME}\s*-\s*{_TIME}(?![\d:])")
_DAY_RANGE = re.compile(rf"\b({'|'.join(DAYS_FR)})\b(?:\s*-\s*([^\W\d_]+))?")
_ALWAYS = (re.compile(r"\b7\s*jours?\s*sur\s*7\b"), re.compile(r"\b24\s*h(?:eures?)?\s*sur\s*24\b"))
_SPAN = re.compile(
    rf"({'|'.join(DAYS_EN)})(?:\s*-\s*({'|'.join(DAYS_EN)}))?\s+(\d{{2}}):(\d{{2}})\s*-\s*(\d{{2}}):(\d{{2}})"
)


class HoursError(ValueError):
    """Hours text that cannot be read into spans; the message says why."""


def _clock(hour: str, minute: str | None, meridian: str | None, where: str) -> time:
    h, m = int(hour), int(minute or 0)
    if meridian:
        if not 1 <= h <= 12:
            raise HoursError(f"{where}: {h}{meridian} is not an hour")
        h = h % 12 + (12 if meridian == "pm" else 0)
    elif minute is None:
        raise HoursError(f"{where}: write hours as HH:MM or with am/pm")
    if not (0 <= h <= 23 and 0 <= m <= 59):
        raise HoursError(f"{where}: {hour}:{minute or '00'} is not a time of day")
    return time(h, m)


def _day_range(first: int, last: int) -> frozenset[int]:
    # A range may wrap over the week-end ("vendredi-lundi").
    return frozenset((first + i) % 7 for i in range((last - first) % 7 + 1))


def _checked(days: frozenset[int], opens: time, closes: time, where: str) -> Span:
    if closes <= opens:
        raise HoursError(f"{where}: closes at {closes:%H:%M}, not after it opens at {opens:%H:%M}")
    return Span(days, opens, closes)


def parse_printed(text: str) -> Hours:
    """Hours from the seed's wording: "09:00-17:00 Lundi-jeudi 09:00-15:00 Vendredi".

    Each time range takes the weekdays that follow it; other words ("Heure de
    l'Europe centrale", "cc:Mail :") are left alone. "7 jours sur 7 ... 24 h sur 24"
    means always open. Anything ambiguous raises HoursError, so that the data file
    gives the spans explicitly (`parse_spans`).
    """
    folded = fold(text)
    events: list[tuple[int, str, re.Match[str]]] = [
        (m.start(), "time", m) for m in _TIME_RANGE.finditer(folded)
    ] + [(m.start(), "days", m) for m in _DAY_RANGE.finditer(folded)]
    events.sort(key=lambda e: e[0])
    if not events:
        if all(pattern.search(folded) for pattern in _ALWAYS):
            return Hours(text=text, always=True)
        raise HoursError(f"no hours found in {text!r}")
    spans: list[Span] = []
    pending: tuple[time, time] | None = None
    for _, what, match in events:
        where = repr(match.group())
        if what == "time":
            if pending is not None:
                raise HoursError(f"{where}: two time ranges for the same days; give the spans")
            pending = (
                _clock(match.group(1), match.group(2), match.group(3), where),
                _clock(match.group(4), match.group(5), match.group(6), where),
            )
            continue
        if pending is None:
            raise HoursError(f"{where}: weekdays without a time range before them")
        first = DAYS_FR.index(match.group(1))
        last = first
        if match.group(2):
            if match.group(2) not in DAYS_FR:
                raise HoursError(f"{where}: {match.group(2)!r} is not a weekday")
            last = DAYS_FR.index(match.group(2))
        spans.append(_checked(_day_range(first, last), *pending, where))
        pending = None
    if pending is not None:
        raise HoursError(f"{text!r}: a time range without weekdays after it")
    return Hours(text=text, spans=tuple(spans))


def parse_spans(specs: Sequence[str]) -> tuple[Span, ...]:
    """Spans written explicitly, one per string: "Mon-Fri 09:00-17:00", "Sat 10:00-12:00"."""
    spans = []
    for spec in specs:
        match = _SPAN.fullmatch(spec.strip().casefold())
        if not match:
            raise HoursError(f"{spec!r}: write a span as 'Mon-Fri 09:00-17:00'")
        first = DAYS_EN.index(match.group(1))
        last = DAYS_EN.index(match.group(2)) if match.group(2) else first
        opens = _clock(match.group(3), match.group(4), None, repr(spec))
        closes = _clock(match.group(5), match.group(6), None, repr(spec))
        spans.append(_checked(_day_range(first, last), opens, closes, repr(spec)))
    return tuple(spans)


def span_to_text(span: Span) -> str:
    """A span in the explicit syntax `parse_spans` reads ("Mon-Fri 09:00-17:00")."""
    names = [day.capitalize() for day in DAYS_EN]
    return f"{days_to_text(span.days, names)} {span.opens:%H:%M}-{span.closes:%H:%M}"


def days_to_text(days: Iterable[int], names: Sequence[str], sep: str = "-") -> str:
    """Weekdays as runs of names: {0,1,2,3} -> "mon-thu", {0,2} -> "mon, wed"."""
    ordered = sorted(set(days))
    runs: list[list[int]] = []
    for day in ordered:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(
        names[r[0]] if len(r) == 1 else f"{names[r[0]]}{sep}{names[r[-1]]}" for r in runs
    )


@lru_cache(maxsize=128)
def zone(name: str) -> ZoneInfo:
    """The time zone called `name`; HoursError when the name is unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise HoursError(f"unknown time zone {name!r}") from None


class OpenState(StrEnum):
    """Whether a service can be called at a given instant."""

    OPEN = "open"
    """Inside one of its spans."""
    CLOSED = "closed"
    """Outside every span."""
    ALWAYS = "always"
    """Automated, 7 days a week and 24 hours a day."""
    UNKNOWN = "unknown"
    """The seed gives no hours."""


@dataclass(frozen=True, slots=True)
class Status:
    """Whether one listing or centre is open at one instant, in its own time zone."""

    state: OpenState
    tz: str
    local: datetime
    """The instant asked about, in `tz`."""
    change: datetime | None = None
    """When it next closes (open) or opens (closed), local time; None when never."""

    @property
    def is_open(self) -> bool:
        """True when a caller would get an answer now."""
        return self.state in (OpenState.OPEN, OpenState.ALWAYS)


def status(hours: Hours | None, tz: str, now: datetime) -> Status:
    """Whether `hours` (local to `tz`) are open at the aware instant `now`.

    Public holidays are not known: the seed itself warns that its hours ignore them.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    local = now.astimezone(zone(tz))
    if hours is None or (not hours.always and not hours.spans):
        return Status(OpenState.UNKNOWN, tz, local)
    if hours.always:
        return Status(OpenState.ALWAYS, tz, local)
    clock = local.time().replace(tzinfo=None)
    for span in hours.spans:
        if local.weekday() in span.days and span.opens <= clock < span.closes:
            closes = datetime.combine(local.date(), span.closes, local.tzinfo)
            return Status(OpenState.OPEN, tz, local, closes)
    return Status(OpenState.CLOSED, tz, local, _next_opening(hours.spans, local))


def _next_opening(spans: Sequence[Span], local: datetime) -> datetime | None:
    clock = local.time().replace(tzinfo=None)
    for ahead in range(8):
        day = local.date() + timedelta(days=ahead)
        starts = sorted(
            span.opens
            for span in spans
            if day.weekday() in span.days and (ahead > 0 or span.opens > clock)
        )
        if starts:
            return datetime.combine(day, starts[0], local.tzinfo)
    return None
