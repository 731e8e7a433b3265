"""What the document index takes and gives: search filters and modes, hits, what an ingest did,
and the one error a caller must handle (an index built with another embedding model)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

Mode = Literal["hybrid", "dense", "bm25", "rrf"]
Progress = Callable[[str, int, int], None]  # (stage, done, total)


class IndexMismatch(Exception):
    """The index on disk was built with another embedding model."""


@dataclass(frozen=True)
class Filters:
    since: datetime | None = None  # the document's date (updated, else published) on or after
    until: datetime | None = None  # ... on or before
    sources: tuple[str, ...] = ()  # source prefixes (a folder, a URL); any of them, or any of `sites`
    sites: tuple[str, ...] = ()  # host names: a URL on one of them or on a subdomain of one
    excluded: tuple[str, ...] = ()  # source prefixes no hit may come from
    excluded_sites: tuple[str, ...] = ()  # hosts (and their subdomains) no hit may come from

    @property
    def empty(self) -> bool:
        return (self.since is None and self.until is None and not self.sources and not self.sites
                and not self.excluded and not self.excluded_sites)

    def admits(self, source: str) -> bool:
        """Whether a hit from `source` passes the sources and sites (the dates are the engine's to check)."""
        host = _host(source)
        allowed = (not self.sources and not self.sites) or source.startswith(self.sources) or _on(host, self.sites)
        return allowed and not source.startswith(self.excluded) and not _on(host, self.excluded_sites)


def _host(source: str) -> str:
    try:
        return (urlsplit(source).hostname or "") if "://" in source else ""
    except ValueError:  # not a URL after all ("http://[")
        return ""


def _on(host: str, sites: tuple[str, ...]) -> bool:
    return bool(host) and any(host == site or host.endswith(f".{site}") for site in sites)


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


class Index(Protocol):
    """What the rest of Tansuo asks of a document index: `DocumentIndex` (embedded, a folder here)
    and `MilvusIndex` (a Milvus server) both answer it."""

    embedder: Any

    def add(self, documents: Any, progress: Progress | None = None) -> AddReport: ...
    def remove(self, doc_ids: Any) -> list[str]: ...
    def search(self, query: str, k: int = 5, *, mode: Mode = "hybrid", filters: Filters | None = None,
               candidates: int = 50) -> list[Hit]: ...
    def document(self, doc_id: str) -> dict[str, Any] | None: ...
    def document_ids(self) -> list[str]: ...
    def content_hash(self, doc_id: str) -> str | None: ...
    def chunks(self, doc_id: str) -> list[Any]: ...
    def refresh(self) -> bool: ...
    def prepare(self, progress: Progress | None = None) -> None: ...
    def stats(self) -> dict[str, Any]: ...
    @property
    def meta(self) -> dict[str, Any]: ...
    def set_meta(self, key: str, value: Any) -> None: ...
    def set_meta_many(self, values: dict[str, Any]) -> None: ...
    def __len__(self) -> int: ...
    def __contains__(self, doc_id: str) -> bool: ...
