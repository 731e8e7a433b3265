"""Exact facts in text: numbers, dates and proper names, normalised so that "1,000" and "1000",
"March 3, 2025" and "2025-03-03" compare equal. A claim's facts must all appear in the source it
cites; similar wording cannot hide a changed number, date or name (the embedding cannot tell
2025 from 2026, this can)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

MONTHS = {m: i for i, m in enumerate(
    "january february march april may june july august september october november december".split(), start=1)}
MONTHS |= {m[:3]: i for m, i in list(MONTHS.items())} | {"sept": 9}
_MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DATE_PATTERNS = (
    re.compile(r"\b(?P<year>\d{4})-(?P<m>\d{1,2})-(?P<day>\d{1,2})\b"),
    re.compile(rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?\s+(?P<year>\d{{4}})\b", re.I),
    re.compile(rf"\b{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>\d{{4}})\b", re.I),
)
_NUMBER = re.compile(r"(?<![\w.])[-−]?\d{1,3}(?:[,\u202f ]\d{3})+(?:\.\d+)?(?![\w])"  # 1,000 / 1 000
                     r"|(?<![\w.])[-−]?\d+(?:\.\d+)?(?![\w])")
_NAME = re.compile(r"\b[A-Z][a-zA-Z'’-]+(?:\s+(?:[A-Z][a-zA-Z'’-]+|of|de|van|von|la|le))*\b")
_SENTENCE_START = re.compile(r"(?:^|[.!?:]\s+|\n\s*)$")
_NOT_NAMES = frozenset("""The A An This That These Those It Its He She They We I You His Her Their Our Your
In On At By For From To Of And Or But If When While After Before Since Until As With Without Yes No Not
Today Tomorrow Yesterday Monday Tuesday Wednesday Thursday Friday Saturday Sunday""".split()) | {
    m.capitalize() for m in MONTHS}
_CONNECTORS = frozenset("of de van von la le".split())
_WORDS = {w: i for i, w in enumerate("""zero one two three four five six seven eight nine ten eleven twelve
thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty""".split())} | {
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
    "twice": 2, "thrice": 3}  # not "once": "once the bridge opened" states no number
_NUMBER_WORD = re.compile(r"\b(" + "|".join(_WORDS) + r")\b", re.I)


@dataclass(frozen=True)
class Facts:
    numbers: frozenset[str]  # normalised: "1000", "3.5", "-2"
    dates: frozenset[date]
    names: frozenset[str]  # as written, case kept: "Amira Haddad"

    def missing_from(self, other: Facts) -> list[str]:
        """What this text states that `other` does not contain, as people would read it."""
        out = [f"number {n}" for n in sorted(self.numbers - other.numbers - _date_parts(other.dates))]
        out += [f"date {d.isoformat()}" for d in sorted(self.dates - other.dates)]
        out += [f"name {n}" for n in sorted(self.names) if not _name_in(n, other.names)]
        return out


def facts(text: str) -> Facts:
    dates, spans = find_dates(text)
    rest = _blank(text, spans)  # a date's digits are not also numbers
    numbers = {_number(m.group()) for m in _NUMBER.finditer(rest)}
    numbers |= {str(_WORDS[m.group().lower()]) for m in _NUMBER_WORD.finditer(rest)}  # "four-year" states 4
    return Facts(frozenset(numbers), frozenset(dates), frozenset(_names(rest)))


def find_dates(text: str) -> tuple[set[date], list[tuple[int, int]]]:
    found, spans = set(), []
    for pattern in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            if any(s <= m.start() < e for s, e in spans):
                continue
            month = int(m.group("m")) if "m" in m.groupdict() and m.group("m") else MONTHS.get(
                (m.groupdict().get("month") or "").lower().rstrip("."))
            try:
                found.add(date(int(m.group("year")), month, int(m.group("day"))))
            except (TypeError, ValueError):
                continue  # not a real date (2025-13-40): its digits stay numbers
            spans.append((m.start(), m.end()))
    return found, spans


def _number(raw: str) -> str:
    text = raw.replace(",", "").replace("\u202f", "").replace(" ", "").replace("−", "-")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return str(int(text)) if re.fullmatch(r"-?\d+", text) else text


def _names(text: str) -> set[str]:
    """Capitalised word runs not at the start of a sentence (or longer than one word there)."""
    names = set()
    for m in _NAME.finditer(text):
        words = m.group().split()
        if _SENTENCE_START.search(text[:m.start()]) and (len(words) == 1 or not words[1][0].isupper()):
            words = words[1:]  # a sentence's first word is capitalised anyway ("Construction of Halden"),
            # but "Olav Lunde became rector" starts with a name: two capitalised words in a row
        while words and (words[0] in _NOT_NAMES or words[0] in _CONNECTORS):
            words = words[1:]
        while words and words[-1] in _CONNECTORS:
            words = words[:-1]
        if words:
            names.add(re.sub(r"['’]s$", "", " ".join(words)))
    return names


def _name_in(name: str, names: frozenset[str]) -> bool:
    """"Haddad" is in "Amira Haddad"; "Dr. Amira Haddad" contains "Amira Haddad"."""
    parts = set(name.split())
    return any(parts <= set(other.split()) or set(other.split()) <= parts for other in names)


def _date_parts(dates: frozenset[date]) -> set[str]:
    """A source's "3 March 2025" also backs a claim's bare "2025" or "3"."""
    return {str(d.year) for d in dates} | {str(d.day) for d in dates}


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)
