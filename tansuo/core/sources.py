"""Numbered sources for one turn, and the citations [n] in an answer that point at them.

Every piece of evidence the answer may use (a retrieved chunk, a tool result) gets a number
once; the answer cites it as [n]. After the answer is written, markers that point nowhere
are dropped, and a sentence with no marker whose wording comes from one source is given that
source's number (small models often forget to cite, and their sentences copy the source).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class Source:
    """A numbered citation target: [n] in the answer points here."""

    n: int
    title: str
    source: str
    chunk_id: str
    date: datetime | None = None
    date_origin: str = "none"
    kind: str = "document"  # or "tool" (a tool result cited as evidence)
    snippet: str = ""  # the start of the passage (or the tool's reading), for a client's source list


SNIPPET_CHARS = 240


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """The text's start on one line, cut at a word within `limit` characters."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    return flat[:limit].rsplit(" ", 1)[0] + "…"


class HitLike(Protocol):
    """What a source needs of a search hit (`retrieval.index.Hit` is one)."""

    chunk_id: str
    doc_id: str
    title: str
    source: str
    text: str
    date: datetime | None
    date_origin: str
    metadata: dict[str, Any]


_MARKER = re.compile(r"\s?\[(\d{1,3})\]")
# A sentence ends at . ! ? before a capital, but not after a title or an initial ("Dr. Amira", "J. Smith").
_SENTENCE = re.compile(r"(?<!\b[A-Z]\.)(?<!\bDr\.)(?<!\bMr\.)(?<!\bMs\.)(?<!\bSt\.)(?<!\bMrs\.)(?<!\bProf\.)"
                       r"(?<!\bvs\.)(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9.,:/-]*[A-Za-z0-9]|[A-Za-z0-9]")
_STOP = frozenset("""a an and are as at be been but by for from has have he her his i in is it its of on or
that the their them there they this to was were which who will with you your not no what when where how""".split())
ATTRIBUTION_OVERLAP = 0.5  # share of a sentence's content words one source must contain


@dataclass
class Evidence:
    source: Source
    text: str
    doc_id: str = ""
    content: Any = None  # a tool's result as it returned it
    reading: str = ""  # a tool's result as a person reads it (plugins.readout)
    # the release a reference document describes ("3.11.7"; see `release`): it is current for that
    # release, not stale by its date, as news would be
    version: str = ""


@dataclass
class SourceBook:
    """Evidence in the order it was found, numbered from 1."""

    items: list[Evidence] = field(default_factory=list)
    _by_key: dict[str, int] = field(default_factory=dict)

    def add_hit(self, hit: HitLike) -> int:
        return self._add(hit.chunk_id, lambda n: Evidence(Source(
            n=n, title=hit.title, source=hit.source, chunk_id=hit.chunk_id, date=hit.date,
            date_origin=hit.date_origin, snippet=snippet(hit.text)), hit.text, hit.doc_id,
            version=release(hit.metadata)))

    def add_tool_result(self, call_id: str, name: str, arguments: dict[str, Any], content: Any,
                        reading: str = "") -> int:
        """A tool result; its `reading` (the sentence shown for it, rendered from the result by code)
        is part of its text, so the reading's rounded numbers are backed by the source itself."""
        text = f"{name}({json.dumps(arguments, default=str)}) returned {json.dumps(content, default=str)}"
        text = f"{reading} {text}" if reading else text
        return self._add(call_id, lambda n: Evidence(Source(
            n=n, title=f"{name} tool", source=f"tool:{name}", chunk_id=call_id, kind="tool",
            snippet=snippet(reading)), text, content=content,
            reading=reading))

    def _add(self, key: str, make) -> int:
        if key not in self._by_key:
            n = max((e.source.n for e in self.items), default=0) + 1
            self.items.append(make(n))
            self._by_key[key] = n
        return self._by_key[key]

    def __len__(self) -> int:
        return len(self.items)

    def get(self, n: int) -> Evidence | None:
        return next((e for e in self.items if e.source.n == n), None)

    @property
    def sources(self) -> list[Source]:
        return [e.source for e in self.items]


@dataclass(frozen=True)
class Cited:
    text: str  # the answer with its markers checked (and added where attributed)
    numbers: tuple[int, ...]  # the sources the answer cites, in first-cited order
    dropped: tuple[int, ...] = ()  # markers that pointed at no source
    attributed: int = 0  # sentences given a marker after the fact


def check_citations(answer: str, book: SourceBook) -> Cited:
    """Drop markers to unknown sources; attribute uncited sentences whose words come from one source."""
    dropped: list[int] = []

    def keep(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if book.get(n) is None:
            dropped.append(n)
            return ""
        return match.group(0)

    text = _MARKER.sub(keep, answer.strip())
    kept, attributed = [], 0
    for sentence in sentences(text):
        if not _MARKER.search(sentence):
            n = best_source(sentence, book)
            if n is not None:
                sentence = _append_marker(sentence, n)
                attributed += 1
        kept.append(sentence)
    text = " ".join(kept)
    numbers = tuple(dict.fromkeys(int(m) for m in _MARKER.findall(text)))
    return Cited(text, numbers, tuple(dropped), attributed)


def sentences(text: str) -> list[str]:
    """The text's sentences (a title or an initial does not end one)."""
    return [s for s in _SENTENCE.split(text.strip()) if s] if text.strip() else []


def markers(sentence: str) -> list[int]:
    """The source numbers a sentence cites, in order."""
    return [int(n) for n in _MARKER.findall(sentence)]


def best_source(sentence: str, book: SourceBook) -> int | None:
    """The source that contains the largest share (at least ATTRIBUTION_OVERLAP) of the sentence's
    content words; numbers and names count like any word, so a changed number lowers the share."""
    words = content_words(sentence)
    if len(words) < 2:
        return None
    best, best_share = None, ATTRIBUTION_OVERLAP
    for item in book.items:
        share = len(words & content_words(f"{item.source.title} {item.text}")) / len(words)
        if share >= best_share + (1e-9 if best is not None else 0):
            best, best_share = item.source.n, share
    return best


def content_words(text: str) -> set[str]:
    return {w for w in (m.lower().rstrip(".,:") for m in _WORD.findall(text)) if w and w not in _STOP}


def _append_marker(sentence: str, n: int) -> str:
    stripped = sentence.rstrip()
    if stripped and stripped[-1] in ".!?":
        return f"{stripped[:-1]} [{n}]{stripped[-1]}"
    return f"{stripped} [{n}]"


def release(metadata: dict[str, Any] | None) -> str:
    """The release a document is the reference for: its metadata names both the package and the
    version (the default corpus's Python topics and package docs do). A "version" alone is a
    document's own revision, not a release it documents."""
    meta = metadata or {}
    package, version = meta.get("package"), meta.get("version")
    return str(version) if package not in (None, "") and version not in (None, "") else ""


def order_newest_first(book: SourceBook) -> SourceBook:
    """The same sources (same numbers), rendered newest first: a small model copies the first one."""
    ranked = sorted(book.items, key=lambda e: (e.source.kind != "tool",
                                                -(day_of(e).toordinal() if e.source.date else 0)))
    return SourceBook(ranked)


def day_of(item: Evidence) -> date:
    """The day of a piece of evidence; undated evidence is the oldest."""
    return item.source.date.date() if item.source.date else date.min
