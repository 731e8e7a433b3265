"""The index's search table: the live chunks of every segment gathered into arrays row-aligned with
the dense and BM25 structures, the rows a filter keeps, and a row read back as a hit."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from tansuo.retrieval.hits import Filters, Hit
from tansuo.retrieval.storage import Segment


@dataclass
class Table:
    """The live chunks, row-aligned with the search structures."""

    vectors: np.ndarray
    doc_ids: list[str]
    n: np.ndarray
    start: np.ndarray
    end: np.ndarray
    texts: list[str]
    tokens: list[str]
    doc_row: np.ndarray  # row -> position in doc_order
    doc_order: list[str]
    doc_dates: np.ndarray  # per document: POSIX time of its date, NaN if it has none
    doc_sources: list[str]

    def __len__(self) -> int:
        return len(self.doc_ids)


def build_table(manifest: dict[str, Any], docs: dict[str, dict[str, Any]], segments: dict[str, Segment],
                dim: int) -> Table:
    """The live chunks of every segment, in one table row-aligned with the search structures."""
    parts: list[tuple[Segment, np.ndarray]] = []
    doc_order: list[str] = []
    for name in manifest["segments"]:
        placed = sorted(((r["first"], r["count"], d) for d, r in docs.items() if r["segment"] == name))
        rows = np.concatenate([np.arange(f, f + c) for f, c, _ in placed]) if placed else np.zeros(0, np.int64)
        parts.append((segments[name], rows))
        doc_order += [d for _, _, d in placed]
    counts = [docs[d]["count"] for d in doc_order]
    return Table(
        vectors=gather([s.vectors for s, _ in parts], [r for _, r in parts], np.zeros((0, dim), np.float32)),
        doc_ids=[s.doc_ids[i] for s, rows in parts for i in rows],
        n=gather([s.n for s, _ in parts], [r for _, r in parts], np.zeros(0, np.int32)),
        start=gather([s.start for s, _ in parts], [r for _, r in parts], np.zeros(0, np.int64)),
        end=gather([s.end for s, _ in parts], [r for _, r in parts], np.zeros(0, np.int64)),
        texts=[s.texts[i] for s, rows in parts for i in rows],
        tokens=[s.tokens[i] for s, rows in parts for i in rows],
        doc_row=np.repeat(np.arange(len(doc_order), dtype=np.int32), counts),
        doc_order=doc_order,
        doc_dates=np.array([timestamp(docs[d]["info"]) for d in doc_order], np.float64),
        doc_sources=[docs[d]["info"]["source"] for d in doc_order])


def mask(table: Table, filters: Filters) -> np.ndarray:
    """Which rows pass the filters (date range; sources and sites allowed and left out)."""
    keep = np.ones(len(table.doc_order), bool)
    if filters.since or filters.until:
        dates = table.doc_dates
        with np.errstate(invalid="ignore"):  # undated documents (NaN) never pass a date filter
            if filters.since:
                keep &= dates >= filters.since.timestamp()
            if filters.until:
                keep &= dates <= filters.until.timestamp()
    if filters.sources or filters.sites or filters.excluded or filters.excluded_sites:
        keep &= np.array([filters.admits(s) for s in table.doc_sources], bool)
    return keep[table.doc_row]


def hit(table: Table, docs: dict[str, dict[str, Any]], row: int, score: float,
        ranks: tuple[int | None, int | None]) -> Hit:
    doc_id = table.doc_ids[row]
    info = docs[doc_id]["info"]
    return Hit(chunk_id=f"{doc_id}#{int(table.n[row])}", doc_id=doc_id, title=info["title"],
               source=info["source"], text=table.texts[row], start=int(table.start[row]),
               end=int(table.end[row]), published=from_iso(info["published"]),
               updated=from_iso(info["updated"]), date_origin=info["date_origin"],
               metadata=info["metadata"], score=score, dense_rank=ranks[0], bm25_rank=ranks[1])


def gather(arrays: list[np.ndarray], rows: list[np.ndarray], empty: np.ndarray) -> np.ndarray:
    if len(arrays) == 1 and len(rows[0]) == len(arrays[0]):
        return arrays[0]  # one segment, all live: no copy
    picked = [a[r] for a, r in zip(arrays, rows) if len(r)]
    return np.concatenate(picked) if picked else empty


def timestamp(info: dict[str, Any]) -> float:
    value = from_iso(info["updated"] or info["published"])
    return value.timestamp() if value else math.nan


def from_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
