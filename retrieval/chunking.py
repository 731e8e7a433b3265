"""Split a document into overlapping chunks along paragraph and sentence boundaries.

A chunk is a slice of the document's text (offsets kept), so a citation can point at
the exact passage. Chunks stay under ``max_chars`` (all-MiniLM-L6-v2 reads 256 word
pieces, about 1,000 characters of English); each starts with the last sentence or two
of the one before it, so a fact split across a boundary is still found whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tansuo.retrieval.documents import Chunk

PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
# A sentence ends at . ! ? (and their CJK forms), possibly followed by closing quotes or
# brackets, then whitespace. Abbreviations like "e.g. x" split too; the overlap covers it.
SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+|(?<=[。！？])\s*")


@dataclass(frozen=True)
class ChunkConfig:
    max_chars: int = 900
    overlap_chars: int = 150
    min_chars: int = 300  # don't end a chunk at a paragraph break before it has this much


@dataclass(frozen=True)
class _Unit:
    start: int
    end: int
    paragraph_end: bool  # the unit closes a paragraph: a good place to end a chunk


def chunk_text(doc_id: str, text: str, config: ChunkConfig = ChunkConfig()) -> list[Chunk]:
    units = _units(text, config.max_chars)
    chunks: list[Chunk] = []
    first = 0
    while first < len(units):
        last = _last_unit(units, first, config)
        start, end = units[first].start, units[last].end
        chunks.append(Chunk(doc_id, len(chunks), text[start:end], start, end))
        if last == len(units) - 1:
            break
        # After a paragraph's end the next chunk starts clean; mid-paragraph it repeats the tail.
        first = last + 1 if units[last].paragraph_end else _overlap_start(units, first, last, config.overlap_chars)
    return chunks


def _last_unit(units: list[_Unit], first: int, config: ChunkConfig) -> int:
    """The unit that ends this chunk: as many as fit, ending at a paragraph break when one is late enough."""
    start = units[first].start
    last = first
    best_break = None
    while last + 1 < len(units) and units[last + 1].end - start <= config.max_chars:
        if units[last].paragraph_end and units[last].end - start >= config.min_chars:
            best_break = last
        last += 1
    if last + 1 < len(units) and best_break is not None and not units[last].paragraph_end:
        return best_break
    return last


def _overlap_start(units: list[_Unit], first: int, last: int, overlap: int) -> int:
    """The next chunk repeats the trailing sentences that fit in the overlap (and always moves on)."""
    nxt = last + 1
    while nxt - 1 > first and units[last].end - units[nxt - 1].start <= overlap:
        nxt -= 1
    return nxt


def _units(text: str, max_chars: int) -> list[_Unit]:
    """Sentences (or hard-wrapped pieces of over-long ones), with whitespace trimmed off."""
    units: list[_Unit] = []
    for p_start, p_end in _spans(text, PARAGRAPH_BREAK, 0, len(text)):
        sentences = list(_spans(text, SENTENCE_END, p_start, p_end))
        for i, (s_start, s_end) in enumerate(sentences):
            pieces = list(_wrap(text, s_start, s_end, max_chars))
            for j, (u_start, u_end) in enumerate(pieces):
                closes = i == len(sentences) - 1 and j == len(pieces) - 1
                units.append(_Unit(u_start, u_end, closes))
    return units


def _spans(text: str, separator: re.Pattern[str], start: int, end: int):
    """Non-blank stretches of text[start:end] between separators, trimmed."""
    pos = start
    for match in separator.finditer(text, start, end):
        yield from _trimmed(text, pos, match.start())
        pos = match.end()
    yield from _trimmed(text, pos, end)


def _trimmed(text: str, start: int, end: int):
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        yield start, end


def _wrap(text: str, start: int, end: int, width: int):
    """Split an over-long sentence at the last whitespace before the width (hard cut if none)."""
    while end - start > width:
        cut = text.rfind(" ", start + width // 2, start + width)
        cut = cut if cut > start else start + width
        yield from _trimmed(text, start, cut)
        start = cut
        while start < end and text[start].isspace():
            start += 1
    yield from _trimmed(text, start, end)


def embedding_text(title: str, text: str) -> str:
    """What is embedded and BM25-indexed for a chunk: its document's title gives it context."""
    return f"{title}\n{text}" if title and not text.startswith(title) else text


def document_batches(pending: list, size: int):
    """Whole documents (tuples whose third item is their chunks) in batches of about `size` chunks."""
    batch, count = [], 0
    for item in pending:
        batch.append(item)
        count += len(item[2])
        if count >= size:
            yield batch
            batch, count = [], 0
    if batch:
        yield batch
