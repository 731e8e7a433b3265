"""How the scorers read an answer: its sentences, citation markers, numbers, dates, times, weekdays
and names. Written for the eval runner alone and kept apart from `verifiers/` (the code the evals
judge), so a verifier's blind spot cannot hide in its own yardstick."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

MONTHS = {m: i for i, m in enumerate(("january february march april may june july august september october "
                                      "november december").split(), start=1)}
MONTHS.update({m[:3]: i for m, i in list(MONTHS.items())})
MONTHS["sept"] = 9
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

_CITATION = re.compile(r"\s?\[\d{1,3}\]")
_MONTH = r"(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")"
_ORD = r"(\d{1,2})(?:st|nd|rd|th)?"
_DATE_FORMS = (
    (re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b"), ("y", "m", "d")),
    (re.compile(rf"\b{_ORD}\s+(?:of\s+)?({_MONTH})\.?,?\s+(\d{{4}})\b", re.I), ("d", "M", "y")),
    (re.compile(rf"\b({_MONTH})\.?\s+{_ORD},?\s+(\d{{4}})\b", re.I), ("M", "d", "y")),
)
# 06:40 is a time; 20.51 is a number ("20.51 miles") unless a clock word follows ("6.40 pm")
_TIME = re.compile(r"\b(\d{1,2}):(\d{2})\b(?!\.\d)|\b(\d{1,2})\.(\d{2})(?=\s?(?:am|pm|a\.m\.|p\.m\.|h)\b)", re.I)
_NUMBER = re.compile(r"(?<![\w.])[-−]?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!\d)|(?<![\w.])[-−]?\d+(?:\.\d+)?(?![\d])")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
_CAPITAL = re.compile(r"\b[A-Z][a-zA-Z'’-]+(?:\s+[A-Z][a-zA-Z'’-]+)*")
_COMMON = frozenset("""a an the this that these those it its i we you he she they there here what when where which
who how why yes no not and or but if so also however answer source sources according note today now""".split())


def strip_citations(text: str) -> str:
    return _CITATION.sub("", text)


def citations(text: str) -> list[int]:
    return [int(m) for m in re.findall(r"\[(\d{1,3})\]", text)]


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.split(text.strip()) if s.strip()] if text.strip() else []


@dataclass(frozen=True)
class Found:
    value: object
    start: int
    end: int


def dates(text: str) -> list[Found]:
    """Calendar dates in any of the common spellings (2025-03-03, 3 March 2025, March 3, 2025)."""
    out: list[Found] = []
    for pattern, order in _DATE_FORMS:
        for m in pattern.finditer(text):
            parts = dict(zip(order, m.groups(), strict=True))
            month = MONTHS.get(parts["M"].lower().rstrip(".")) if "M" in parts else int(parts["m"])
            try:
                value = date(int(parts["y"]), month, int(parts["d"]))
            except (TypeError, ValueError):
                continue
            if not any(f.start <= m.start() < f.end for f in out):
                out.append(Found(value, m.start(), m.end()))
    return sorted(out, key=lambda f: f.start)


def times(text: str) -> list[Found]:
    out = []
    for m in _TIME.finditer(text):
        hour, minute = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        if int(hour) < 24:
            out.append(Found(f"{int(hour):02d}:{minute}", m.start(), m.end()))
    return out


def numbers(text: str) -> list[Found]:
    """Numbers outside dates and times ("1,000" = 1000, "−5" = -5)."""
    taken = [(f.start, f.end) for f in (*dates(text), *times(text))]
    out = []
    for m in _NUMBER.finditer(text):
        if any(a <= m.start() < b for a, b in taken):
            continue
        raw = m.group().replace(",", "").replace("−", "-")
        out.append(Found(float(raw), m.start(), m.end()))
    return out


def decimals(text: str, found: Found) -> int:
    raw = text[found.start:found.end]
    return len(raw.split(".", 1)[1]) if "." in raw else 0


def weekdays(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z]+", text.lower()) if w in WEEKDAYS]


def names(sentence: str) -> set[str]:
    """Capitalised words (runs of them) that are not the sentence's first word nor a common word,
    lower-cased: "Halden", "Fjord Road"."""
    out = set()
    for m in _CAPITAL.finditer(sentence):
        words = m.group().split()
        if m.start() == len(sentence) - len(sentence.lstrip()):
            words = words[1:]  # the sentence's first word is capitalised anyway
        words = [w for w in words if w.lower() not in _COMMON and w.lower() not in MONTHS and
                 w.lower() not in WEEKDAYS]
        if words:
            out.add(" ".join(words).lower())
    return out


def same_number(stated: float, wanted: float, tolerance: float, places: int) -> bool:
    """Equal within the relative tolerance, or equal to the wanted value rounded as written ("234.33"
    for 234.3333 states it to two places)."""
    if abs(stated - wanted) <= tolerance * max(1.0, abs(wanted)):
        return True
    return places >= 1 and round(wanted, places) == round(stated, places)


def normal(text: str) -> str:
    """Lower case, single spaces, "102,300" as "102300", dashes alike: for "does a text state X"."""
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text.lower())
    return " ".join(text.replace("–", "-").replace("−", "-").split())


def states(text: str, phrase: str) -> bool:
    """`phrase` in `text` as whole words, after `normal` ("12.50" does not state "12")."""
    return re.search(rf"(?<![\w.]){re.escape(normal(phrase))}(?![\w]|[.,]\d)", normal(text)) is not None
