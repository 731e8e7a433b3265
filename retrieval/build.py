"""The service's document index, opened from settings (the default corpus built on first start)."""

from __future__ import annotations

from tansuo.embedding import Embedder, default_embedder
from tansuo.retrieval.corpus import default_corpus
from tansuo.retrieval.hits import Progress
from tansuo.retrieval.index import DocumentIndex
from tansuo.retrieval.web import MediaWikiSearch, SearxngSearch
from tansuo.settings import Settings

CORPUS_FLAG = "default_corpus"


def open_index(settings: Settings, *, embedder: Embedder | None = None, progress: Progress | None = None,
               with_default_corpus: bool | None = None) -> DocumentIndex:
    """The index under the data dir. On first start (and after an interrupted first build, which
    resumes: finished documents are skipped) the default corpus is ingested."""
    embedder = embedder or default_embedder(settings)
    index = DocumentIndex(settings.effective_index_dir, embedder, approx_threshold=settings.index_approx_threshold,
                          hybrid_alpha=settings.hybrid_alpha)
    wanted = settings.default_corpus if with_default_corpus is None else with_default_corpus
    if wanted and CORPUS_FLAG not in index.meta:
        packages = list(settings.corpus_packages)
        index.add(default_corpus(packages, progress=progress), progress=progress)
        index.set_meta(CORPUS_FLAG, {"packages": packages})
        index.prepare(progress)
    return index


def web_sources(settings: Settings, client) -> list:
    """The web connectors the settings turn on (none by default)."""
    sources: list = []
    if settings.searxng_url:
        sources.append(SearxngSearch(settings.searxng_url, client))
    if settings.mediawiki_url:
        sources.append(MediaWikiSearch(settings.mediawiki_url, client))
    return sources
