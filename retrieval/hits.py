"""What the document index takes and gives: search filters and modes, hits, what an ingest did,
and the one error a caller must handle (an index built with another embedding model)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Mode = Literal["hybrid", "dense", "bm25", "rrf"]
Progress = Callable[[str, int, int], None]  # (stage, done, total)


class IndexMismatch(Exception):
    """The index on disk was built with another embedding model."""


@dataclass(frozen=True)
class Filters:
    since: datetime | None = None  # the document's date (updated, else published) on or after
    until: datetime | None = None  # ... on or before
    sources: tuple[str, ...] = ()  # source prefixes (a folder, a site); any of them

    @property
    def empty(self) -> bool:
        return self.since is None and self.until is None and not self.sources


@dataclass(frozen=True)
class Hit:
    chunk_id: str
    doc_id: str
    title: str
    source: str
    text: str
    start: int
    end: int
    published: datetime | None
    updated: datetime | None
    date_origin: str
    metadata: dict[str, Any]
    score: float  # fused (hybrid) or the retriever's own score
    dense_rank: int | None = None  # 1-based rank in each retriever's list, if it found the chunk
    bm25_rank: int | None = None
    similarity: float | None = None  # query-chunk cosine: absolute relevance (fused scores are relative)

    @property
    def date(self) -> datetime | None:
        return self.updated or self.published


@dataclass
class AddReport:
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    chunks: int = 0  # chunks embedded
