"""The real embedding model (all-MiniLM-L6-v2 from its package), loaded once for the verifier tests."""

from __future__ import annotations

from datetime import datetime

import pytest

from agent.sources import SourceBook
from retrieval.index import Hit
from tansuo.embedding import SentenceTransformerEmbedder, embedding_model_path
from tests.conftest import make_settings


@pytest.fixture(scope="session")
def embedder(tmp_path_factory: pytest.TempPathFactory) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(embedding_model_path(make_settings(tmp_path_factory.mktemp("emb"))))


def hit(doc_id: str, text: str, title: str, published: datetime | None = None) -> Hit:
    return Hit(chunk_id=f"{doc_id}#0", doc_id=doc_id, title=title, source=f"/news/{doc_id}", text=text, start=0,
               end=len(text), published=published, updated=None, date_origin="metadata" if published else "none",
               metadata={}, score=1.0)


def book_of(*hits: Hit) -> SourceBook:
    book = SourceBook()
    for h in hits:
        book.add_hit(h)
    return book
