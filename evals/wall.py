"""The wall between what the project learns from and what it is measured on.

A test wording must not be a training request, a demonstration, an exemplar or an example call
with other values in it. Texts are compared with their values masked (numbers, dates, times,
names, pasted table rows, single symbols, template slots: "What is 12 times 7?" and "What is {a}
times {b}?" both read "what is 0 times 0?"), by exact equality and by embedding cosine: at
NEAR_TWIN or above two wordings are one. The same test removes near-twins of dev prompts from a
test split whose sets come from elsewhere (the harm sets).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

NEAR_TWIN = 0.95  # cosine (all-MiniLM-L6-v2) of two masked wordings at which they count as one
MASK = "0"

_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
          r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_DATES = re.compile(rf"\b\d{{4}}-\d{{2}}-\d{{2}}(?:T\d{{2}}:\d{{2}})?\b|\b{_DAY}\s+(?:of\s+)?{_MONTH}\.?,?\s+\d{{4}}\b"
                    rf"|\b{_MONTH}\.?\s+{_DAY},?\s+\d{{4}}\b|\b\d{{1,2}}/\d{{1,2}}/\d{{2,4}}\b", re.IGNORECASE)
_TIME = re.compile(r"\b\d{1,2}:\d{2}\b")
_NUMBER = re.compile(r"[-−]?\d[\d,]*(?:\.\d+)?%?")
_SLOT = re.compile(r"\{[a-z_0-9]*\}")
_NAMES = re.compile(r"(?<=[\w,;:] )[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*")  # capitalised words after the first
_NAMED = frozenset("monday tuesday wednesday thursday friday saturday sunday".split()) | {
    m.lower() for m in "January February March April May June July August September October November December".split()}
_KEEP = set("×√−°→")  # operators and signs stay: they are the wording, not a value
_RUNS = re.compile(rf"{MASK}(?:[\s,]+{MASK})+")


def mask(text: str) -> str:
    """The wording of `text` with its values masked, lower-cased, in single spaces."""
    lines = text.replace("\r", "").split("\n")
    kept = [MASK if _table_row(line) else line for line in lines]
    text = " ".join(kept)
    text = _SLOT.sub(MASK, text)
    text = _DATES.sub(MASK, text)
    text = _TIME.sub(MASK, text)
    text = _NAMES.sub(MASK, text)
    text = _NUMBER.sub(MASK, text)
    text = "".join(MASK if _symbol(ch) else ch for ch in text)
    words = [MASK if w.strip(".,;:!?").lower() in _NAMED else w for w in text.split()]
    text = " ".join(words).lower()
    return _RUNS.sub(MASK, text).strip()


def _table_row(line: str) -> bool:
    return line.count(",") >= 1 and len(line) < 200 and not re.search(r"[?.!]\s*$", line.strip()) \
        and bool(re.fullmatch(r"[\w .%'-]+(?:,[\w .%'-]*)+", line.strip()))


def _symbol(ch: str) -> bool:
    return ord(ch) > 127 and ch not in _KEEP and unicodedata.category(ch)[0] in "LSN"


@dataclass(frozen=True)
class Twin:
    text: str  # the test wording
    other: str  # what it nearly repeats
    source: str  # where that comes from
    cosine: float


def near_twins(embedder, tests: Sequence[str], others: Sequence[tuple[str, str]],
               threshold: float = NEAR_TWIN) -> list[Twin]:
    """Each test text whose masked wording equals, or is within `threshold` cosine of, the masked
    wording of one of `others` ((text, source) pairs), with the nearest such."""
    if not tests or not others:
        return []
    test_masks = [mask(t) for t in tests]
    by_mask: dict[str, tuple[str, str]] = {}
    for text, source in others:
        by_mask.setdefault(mask(text), (text, source))
    other_masks = list(by_mask)
    unique_tests = list(dict.fromkeys(test_masks))
    sims = _embed(embedder, unique_tests) @ _embed(embedder, other_masks).T
    nearest = {m: (int(np.argmax(row)), float(np.max(row))) for m, row in zip(unique_tests, sims, strict=True)}
    out = []
    for text, masked in zip(tests, test_masks, strict=True):
        j, cosine = nearest[masked]
        if masked in by_mask:
            j, cosine = other_masks.index(masked), 1.0
        if cosine >= threshold:
            other, source = by_mask[other_masks[j]]
            out.append(Twin(text, other, source, round(cosine, 4)))
    return out


def pair_twins(embedder, tests: Sequence[tuple[str, str]], others: Sequence[tuple[str, str]],
               threshold: float = NEAR_TWIN) -> list[tuple[tuple[str, str], tuple[str, str]]]:
    """Test pairs (two questions) each side of which nearly repeats the same side of one other pair
    (or the two sides swapped): the cache pairs' wall, where a pair, not a question, is the item."""
    if not tests or not others:
        return []
    vec = lambda texts: _embed(embedder, [mask(t) for t in texts])  # noqa: E731
    ta, tb, oa, ob = vec([a for a, _ in tests]), vec([b for _, b in tests]), vec([a for a, _ in others]), \
        vec([b for _, b in others])
    straight = np.minimum(ta @ oa.T, tb @ ob.T)
    swapped = np.minimum(ta @ ob.T, tb @ oa.T)
    best = np.maximum(straight, swapped)
    return [(tests[i], others[int(np.argmax(row))]) for i, row in enumerate(best) if row.max() >= threshold]


_VECTORS: dict[tuple[int, str], np.ndarray] = {}  # (embedder, masked text) -> unit vector, for repeated checks


def _embed(embedder, texts: list[str]) -> np.ndarray:
    new = [t for t in dict.fromkeys(texts) if (id(embedder), t) not in _VECTORS]
    if new:
        vectors = np.array(embedder.embed(new), dtype=np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        _VECTORS.update({(id(embedder), t): v for t, v in zip(new, vectors, strict=True)})
    return np.stack([_VECTORS[(id(embedder), t)] for t in texts])


def unique(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return list({text: (text, source) for text, source in pairs if text and text.strip()}.values())
