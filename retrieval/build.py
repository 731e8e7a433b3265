"""The service's document index, opened from settings (the default corpus built on first start)."""

from __future__ import annotations

from collections.abc import Iterator

from tansuo.embedding import Embedder, default_embedder
from tansuo.retrieval.corpus import default_corpus
from tansuo.retrieval.documents import Document
from tansuo.retrieval.hits import Index, Progress
from tansuo.retrieval.index import DocumentIndex
from tansuo.retrieval.milvus import MilvusIndex
from tansuo.retrieval.web import MediaWikiSearch, SearxngSearch
from tansuo.settings import Settings

CORPUS_FLAG = "default_corpus"


def open_index(settings: Settings, *, embedder: Embedder | None = None, progress: Progress | None = None,
               with_default_corpus: bool | None = None) -> Index:
    """The index the settings name (a folder here, or a Milvus server). On first start (and after an
    interrupted first build, which resumes: finished documents are skipped) the default corpus is
    ingested, unless `with_default_corpus` is False (the service builds it in the background:
    `retrieval.background`)."""
    embedder = embedder or default_embedder(settings)
    index = make_index(settings, embedder)
    wanted = settings.default_corpus if with_default_corpus is None else with_default_corpus
    if wanted and corpus_missing(index):
        build_default_corpus(settings, index, progress)
    return index


def corpus_missing(index: Index) -> bool:
    """The default corpus was never completely ingested into this index."""
    return CORPUS_FLAG not in index.meta


def build_default_corpus(settings: Settings, index: Index, progress: Progress | None = None) -> None:
    index.add(corpus_documents(settings, progress), progress=progress)
    mark_corpus_complete(settings, index, progress)


def corpus_documents(settings: Settings, progress: Progress | None = None) -> Iterator[Document]:
    return default_corpus(list(settings.corpus_packages), progress=progress)


def mark_corpus_complete(settings: Settings, index: Index, progress: Progress | None = None) -> None:
    index.set_meta(CORPUS_FLAG, {"packages": list(settings.corpus_packages)})
    index.prepare(progress)


def make_index(settings: Settings, embedder: Embedder, *, name: str | None = None) -> Index:
    """The engine `TANSUO_INDEX_URI` names: Milvus for an http(s) URI, else the embedded store in a
    folder. `name`: another index beside the service's own (a folder under the data dir, or another
    collection prefix)."""
    if settings.index_server:
        token = settings.index_token.get_secret_value() if settings.index_token else None
        collection = f"{settings.index_collection}_{name}" if name else settings.index_collection
        return MilvusIndex(settings.index_uri, embedder, token=token, name=collection,
                           hybrid_alpha=settings.hybrid_alpha)
    folder = settings.data_dir / name if name else settings.effective_index_dir
    return DocumentIndex(folder, embedder, approx_threshold=settings.index_approx_threshold,
                         hybrid_alpha=settings.hybrid_alpha)


def web_sources(settings: Settings, client) -> list:
    """The web connectors the settings turn on (none by default)."""
    sources: list = []
    if settings.searxng_url:
        sources.append(SearxngSearch(settings.searxng_url, client))
    if settings.mediawiki_url:
        sources.append(MediaWikiSearch(settings.mediawiki_url, client))
    return sources
