"""The service's parts, built from settings: the agent (and its embedder, shared with the answer
cache), the store (Redis when configured), the cache, the queue and the API keys."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tansuo.agent.router import ToolRouter
from tansuo.embedding import Embedder, default_embedder
from tansuo.llm import LLMBackend, make_backend
from tansuo.retrieval.background import CorpusBuild
from tansuo.retrieval.build import corpus_missing
from tansuo.retrieval.hits import Index
from tansuo.server.assembly import build_agent
from tansuo.server.auth import KeyRing
from tansuo.server.cache import AnswerCache, CacheOptions
from tansuo.server.chat import ChatService
from tansuo.server.conversations import Conversations
from tansuo.server.gate import Gate, SharedPool
from tansuo.server.metrics import Metrics
from tansuo.server.store import Store, open_store
from tansuo.settings import Settings


@dataclass
class Parts:
    """What the app runs on, built at startup."""

    settings: Settings
    chat: ChatService
    router: ToolRouter | None  # built-in tools, plugins and their index
    index: Index | None
    backend: LLMBackend
    keys: KeyRing
    plots_dir: Path

    async def aclose(self) -> None:
        corpus = self.chat.corpus
        if corpus is not None:  # its last commit stands; the next start goes on from there
            corpus.request_stop()
        await self.backend.aclose()  # first: the model server is not left waiting on the build's last batch
        if corpus is not None:
            await asyncio.to_thread(corpus.stop)
        await self.chat.conversations.store.aclose()


async def build_parts(settings: Settings, *, backend: LLMBackend | None = None, embedder: Embedder | None = None,
                      store: Store | None = None, clock=None, progress=None) -> Parts:
    """Everything the app runs on. The first start indexes the default corpus in the background (with
    `progress`): the service answers meanwhile (`retrieval.background`)."""
    backend = backend or make_backend(settings)
    embedder = embedder or default_embedder(settings)
    agent = await build_agent(settings, backend=backend, embedder=embedder, progress=progress, default_corpus=False,
                              **({"clock": clock} if clock is not None else {}))
    index = agent.deps.index
    corpus = CorpusBuild(settings, embedder, progress=progress).start() \
        if settings.default_corpus and index is not None and corpus_missing(index) else None
    return assemble_parts(settings, agent, embedder, store or open_store(settings.redis_url, settings.redis_prefix,
                                                                          cluster=settings.redis_cluster),
                          corpus=corpus)


def assemble_parts(settings: Settings, agent, embedder: Embedder, store: Store, *, queue: tuple[int, int] | None = None,
                   corpus: CorpusBuild | None = None) -> Parts:
    """The service around a built agent (tests pass a scripted one); `queue`: (slots, depth) in place
    of the settings'; `corpus`: the default corpus's build, running in the background."""
    index = agent.deps.index
    document_hash = _hasher(index)
    cache = AnswerCache(store, embedder, document_hash=document_hash,
                        options=CacheOptions(similarity=settings.answer_cache_similarity)) \
        if settings.answer_cache else None
    slots, depth = queue or (settings.queue_slots or settings.parallel, settings.queue_depth)
    conversations = Conversations(store, cap=settings.history_messages, ttl_s=settings.history_ttl_s,
                                  held_file=settings.data_dir / "held-turns.jsonl")
    chat = ChatService(agent=agent, conversations=conversations, cache=cache,
                       gate=Gate(slots, depth, pool=_pool(settings, store)), metrics=Metrics(),
                       document_hash=document_hash, max_question_chars=settings.max_question_chars, corpus=corpus)
    return Parts(settings=settings, chat=chat, router=agent.deps.router, index=index, backend=agent.deps.backend,
                 keys=KeyRing(settings.effective_api_keys_file), plots_dir=settings.data_dir / "plots")


def _pool(settings: Settings, store: Store) -> SharedPool | None:
    """The store-kept pool the queue counts in when its scope is the whole service."""
    scope = settings.queue_scope
    if scope == "auto":
        scope = "service" if settings.redis_url and settings.backend == "openai" else "replica"
    if scope == "replica":
        return None
    # a place outlives the longest turn and its wait; a replica that dies frees its places after that
    return SharedPool(store, hold_s=2 * settings.turn_timeout_s + 30)


def _hasher(index) -> Callable[[str], str | None]:
    """A document's current content hash, after picking up what another process committed."""
    def document_hash(doc_id: str) -> str | None:
        if index is None:
            return None
        index.refresh()
        return index.content_hash(doc_id)
    return document_hash
