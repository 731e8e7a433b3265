"""A LangChain retriever over the document index, so LangChain code can use it directly."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from tansuo.retrieval.documents import iso
from tansuo.retrieval.hits import Filters, Hit, Mode
from tansuo.retrieval.index import DocumentIndex


class TansuoRetriever(BaseRetriever):
    """``TansuoRetriever(index=DocumentIndex(...), k=5).invoke("question")`` gives LangChain Documents
    whose metadata carry the citation: title, source, dates, chunk id and offsets, scores."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: DocumentIndex
    k: int = 5
    mode: Mode = "hybrid"
    filters: Filters | None = None

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[LCDocument]:
        return [to_langchain(hit) for hit in self.index.search(query, self.k, mode=self.mode, filters=self.filters)]


def to_langchain(hit: Hit) -> LCDocument:
    metadata: dict[str, Any] = {
        "chunk_id": hit.chunk_id, "doc_id": hit.doc_id, "title": hit.title, "source": hit.source,
        "published": iso(hit.published), "updated": iso(hit.updated), "date_origin": hit.date_origin,
        "start": hit.start, "end": hit.end, "score": hit.score, "dense_rank": hit.dense_rank,
        "bm25_rank": hit.bm25_rank, **{f"doc_{k}": v for k, v in hit.metadata.items()}}
    return LCDocument(page_content=hit.text, metadata=metadata, id=hit.chunk_id)
