"""Date expressions in a question, resolved against an injectable clock: explicit dates as they
are, relative ones ("last Tuesday", "next month", "3 days ago", "this year") as the day or range
they mean on that clock. Recency checks use these to compare a question's time with its sources'."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from tansuo.verifiers.facts import find_dates

WEEKDAYS = {d.lower(): i for i, d in enumerate(calendar.day_name)}
_UNITS = {"day": 1, "week": 7}
_NUM = r"(?P<n>\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten)"
_NUMS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
         "eight": 8, "nine": 9, "ten": 10}
_PATTERNS = (
    ("simple", re.compile(r"\b(?P<word>today|yesterday|tomorrow|now|currently|right now)\b", re.I)),
    ("weekday", re.compile(r"\b(?P<which>last|next|this|on)\s+(?P<day>" + "|".join(WEEKDAYS) + r")\b", re.I)),
    ("period", re.compile(r"\b(?P<which>last|next|this|current|past|coming)\s+(?P<unit>week|month|year)\b", re.I)),
    ("ago", re.compile(_NUM + r"\s+(?P<unit>day|week|month|year)s?\s+ago\b", re.I)),
    ("in", re.compile(r"\bin\s+" + _NUM + r"\s+(?P<unit>day|week|month|year)s?\b", re.I)),
    # "in 2024", "since 2023": the whole year; "in January" without a year: the latest January so far
    ("year", re.compile(r"\b(?:in|during|since|until|by|before|after|for|of)\s+(?P<year>(?:19|20)\d{2})"
                        r"\b(?![-/.:]\d)", re.I)),
    ("month", re.compile(r"\b(?:in|during|since|until|by|before|after|for|of|early|late)\s+(?P<month>"
                         + "|".join(calendar.month_name[1:]) + r")(?:\s+(?P<year>(?:19|20)\d{2}))?\b(?!\s*,?\s*\d)",
                         re.I)),
)
_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}


@dataclass(frozen=True)
class DateMention:
    text: str  # as written
    start: date
    end: date  # inclusive; equal to start for a single day
    relative: bool


def resolve(text: str, today: date) -> list[DateMention]:
    """Every date expression in `text`, in order of appearance."""
    found: list[tuple[int, DateMention]] = []
    _, spans = find_dates(text)
    for (s, e) in spans:
        day = next(iter(find_dates(text[s:e])[0]))
        found.append((s, DateMention(text[s:e], day, day, False)))
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            if any(s <= m.start() < e for s, e in spans):
                continue
            span = _RESOLVERS[kind](m, today)
            if span is not None:
                found.append((m.start(), DateMention(m.group(), span[0], span[1], _relative(kind, m))))
                spans.append((m.start(), m.end()))
    return [mention for _, mention in sorted(found, key=lambda x: x[0])]


def _simple(m: re.Match[str], today: date) -> tuple[date, date]:
    shift = {"yesterday": -1, "tomorrow": 1}.get(m.group("word").lower(), 0)
    day = today + timedelta(days=shift)
    return day, day


def _weekday(m: re.Match[str], today: date) -> tuple[date, date]:
    target, which = WEEKDAYS[m.group("day").lower()], m.group("which").lower()
    delta = target - today.weekday()
    if which == "last":
        delta = delta - 7 if delta >= 0 else delta  # the most recent one before today
    elif which == "next":
        delta = delta + 7 if delta <= 0 else delta  # the first one after today
    day = today + timedelta(days=delta)
    return day, day


def _period(m: re.Match[str], today: date) -> tuple[date, date]:
    which, unit = m.group("which").lower(), m.group("unit").lower()
    step = {"last": -1, "past": -1, "next": 1, "coming": 1}.get(which, 0)
    if unit == "week":
        monday = today - timedelta(days=today.weekday()) + timedelta(weeks=step)
        return monday, monday + timedelta(days=6)
    if unit == "month":
        year, month = divmod(today.year * 12 + today.month - 1 + step, 12)
        month += 1
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    year = today.year + step
    return date(year, 1, 1), date(year, 12, 31)


def _relative(kind: str, m: re.Match[str]) -> bool:
    """Resolved against the clock (not a year the text names)."""
    return kind not in ("year", "month") or not m.groupdict().get("year")


def _year(m: re.Match[str], today: date) -> tuple[date, date]:
    year = int(m.group("year"))
    return date(year, 1, 1), date(year, 12, 31)


def _month(m: re.Match[str], today: date) -> tuple[date, date]:
    month = _MONTHS[m.group("month").lower()]
    year = int(m.group("year")) if m.group("year") else today.year if month <= today.month else today.year - 1
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _offset(m: re.Match[str], today: date, sign: int) -> tuple[date, date]:
    raw = m.group("n").lower()
    n = sign * (int(raw) if raw.isdigit() else _NUMS[raw])
    unit = m.group("unit").lower()
    if unit in _UNITS:
        day = today + timedelta(days=n * _UNITS[unit])
    else:
        months = n * (12 if unit == "year" else 1)
        year, month = divmod(today.year * 12 + today.month - 1 + months, 12)
        month += 1
        day = date(year, month, min(today.day, calendar.monthrange(year, month)[1]))
    return day, day


_RESOLVERS = {
    "simple": _simple, "weekday": _weekday, "period": _period, "year": _year, "month": _month,
    "ago": lambda m, today: _offset(m, today, -1), "in": lambda m, today: _offset(m, today, 1),
}
