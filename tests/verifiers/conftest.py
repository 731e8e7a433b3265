"""Helpers for the verifier tests: retrieved hits built from text (the embedding model is in tests/conftest.py)."""

from __future__ import annotations

from datetime import datetime

from tansuo.core.sources import SourceBook
from tansuo.retrieval.hits import Hit


def hit(doc_id: str, text: str, title: str, published: datetime | None = None) -> Hit:
    return Hit(chunk_id=f"{doc_id}#0", doc_id=doc_id, title=title, source=f"/news/{doc_id}", text=text, start=0,
               end=len(text), published=published, updated=None, date_origin="metadata" if published else "none",
               metadata={}, score=1.0)


def book_of(*hits: Hit) -> SourceBook:
    book = SourceBook()
    for h in hits:
        book.add_hit(h)
    return book
