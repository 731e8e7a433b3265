"""The answer cache: retrieval in place of computation. A repeated or paraphrased question (an
embedding near-duplicate whose exact parts agree, `server.guards`) within its freshness window gets
the stored answer, citations and verdicts at once.

What keeps a stored answer from being served wrongly:
- the guards (numbers, dates, negations, names, the order of what is compared);
- its lifetime follows the question's recency class (a price for minutes, a timeless fact for days);
- it remembers the content hash of every document it cites: re-ingested with new content, or
  removed, the document takes the answer with it (checked when the entry is found, so a document
  re-indexed by another process counts too).
Entries live in the store, so processes sharing one Redis share the cache; each process keeps the
cached questions in memory (`server.question_index`) and reads only what changed since it last
looked, so a lookup costs one read by key, one read of the space's log and an index search, however
many answers are cached. Each owner (API key, or
the anonymous owner when keys are off) has its own space: one key is never served another's
answer, nor shown another's question.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tansuo.embedding import Embedder
from tansuo.server.conversations import ANONYMOUS, owner_tag
from tansuo.server.question_index import QuestionIndex
from tansuo.server.same_question import mismatch, signature
from tansuo.server.store import Store

SPACE = "answers-v3"  # v3: questions indexed beside the answers; answers stored in older forms are not served
NEAREST = 32  # nearest cached questions checked (guards, freshness) before a lookup gives up
# Seconds a cached answer lives, per recency kind (verifiers/data/recency.yaml); "timeless" otherwise.
DEFAULT_TTL_S = {"timeless": 7 * 86400, "news": 3600, "price": 900, "weather": 600, "schedule": 3600,
                 "version": 86400, "office_holder": 86400}


@dataclass(frozen=True)
class CacheOptions:
    similarity: float = 0.92  # question cosine at and above which a stored answer may be served
    ttl_s: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_TTL_S))
    max_entries: int = 5000


@dataclass(frozen=True)
class CacheHit:
    key: str
    question: str  # the stored question the new one matched
    similarity: float
    payload: dict[str, Any]  # answer, sources, verdicts, ... as stored
    age_s: float


@dataclass
class Lookup:
    hit: CacheHit | None
    reason: str  # "hit", "empty", "no near question", or why the nearest was refused
    nearest: float | None = None
    elapsed_ms: float = 0.0


class AnswerCache:
    def __init__(self, store: Store, embedder: Embedder, *, document_hash: Callable[[str], str | None],
                 options: CacheOptions | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self.document_hash = document_hash  # doc id -> its indexed content hash (None: no longer indexed)
        self.options = options or CacheOptions()
        self._indexes: dict[str, QuestionIndex] = {}  # per space, in step with the store's log

    async def lookup(self, question: str, vector: np.ndarray | None = None, *, owner: str = ANONYMOUS) -> Lookup:
        """The stored answer to the same question (one read by its key), else to the nearest cached
        question whose exact parts agree, within the similarity threshold."""
        started = time.perf_counter()
        space = space_of(owner)
        if vector is None:
            same = await self.store.get(space, question_key(question))
            if same is not None and self._stale_source(same) is None:
                # the same question again (case and spacing aside): no embedding needed
                hit = CacheHit(question_key(question), same["question"], 1.0, same["payload"], time.time() - same["at"])
                return Lookup(hit, "hit", 1.0, _ms(started))
        index = await self._synced(space)
        if not len(index):
            return Lookup(None, "empty", elapsed_ms=_ms(started))
        query = await asyncio.to_thread(self._embed, question) if vector is None else vector
        near = await asyncio.to_thread(index.nearest, query, NEAREST, self.store.clock())
        mine = signature(question)
        reason, nearest = "no near question", (near[0][1] if near else None)
        for key, similarity, asked in near:
            if similarity < self.options.similarity:
                break
            why = mismatch(mine, signature(asked))
            entry = await self.store.get(space, key) if why is None else None
            if why is None and entry is None:
                why = "expired"
                index.forget(key)
            elif why is None:
                why = self._stale_source(entry)
                if why is not None:
                    await self.store.remove(space, key)
            if why is not None:
                reason = why
                continue
            hit = CacheHit(key, entry["question"], similarity, entry["payload"], time.time() - entry["at"])
            return Lookup(hit, "hit", similarity, _ms(started))
        return Lookup(None, reason, nearest, _ms(started))

    async def store_answer(self, question: str, payload: dict[str, Any], *, kind: str = "timeless",
                           documents: Mapping[str, str] | None = None, vector: np.ndarray | None = None,
                           owner: str = ANONYMOUS) -> str:
        """Keep an answer for its recency kind's lifetime; `documents` maps each cited doc id to its hash."""
        query = await asyncio.to_thread(self._embed, question) if vector is None else vector
        key = question_key(question)
        ttl = self.options.ttl_s.get(kind, self.options.ttl_s.get("timeless", DEFAULT_TTL_S["timeless"]))
        now = time.time()
        entry = {"question": question, "payload": payload, "kind": kind, "documents": dict(documents or {}),
                 "at": now}
        space = space_of(owner)
        index = await self._synced(space)
        overflow = len(index) - self.options.max_entries + 1
        for old in index.oldest(overflow) if overflow > 0 else ():  # sorting only when the space is full
            await self.store.remove(space, old)  # the oldest make room
        await self.store.put(space, key, entry, ttl_s=int(ttl),
                             brief={"question": question, "vector": _encode(query), "at": now})
        return key

    async def invalidate_documents(self, doc_ids: set[str], *, owner: str = ANONYMOUS) -> int:
        """Drop the owner's answers that cite any of `doc_ids`; how many went. (Every lookup also
        checks its entry's documents, so an answer whose source changed is never served.)"""
        gone, space = 0, space_of(owner)
        for key, entry in (await self.store.entries(space)).items():
            if doc_ids & set(entry.get("documents", {})):
                await self.store.remove(space, key)
                gone += 1
        return gone

    async def _synced(self, space: str) -> QuestionIndex:
        """The space's question index, brought up to what the store holds now (only the changes since
        this replica last looked are read)."""
        index = self._indexes.setdefault(space, QuestionIndex(self.embedder.dim))
        changes = await self.store.changes(space, index.cursor)
        if changes.complete or changes.puts or changes.removes or changes.cursor != index.cursor:
            await asyncio.to_thread(index.apply, changes, _decode)
        return index

    def embed(self, question: str) -> np.ndarray:
        return self._embed(question)

    def _embed(self, question: str) -> np.ndarray:
        return self.embedder.embed([question])[0].astype(np.float32)

    def _stale_source(self, entry: dict[str, Any]) -> str | None:
        for doc_id, digest in entry.get("documents", {}).items():
            if self.document_hash(doc_id) != digest:
                return f"its source {doc_id} changed"
        return None


def space_of(owner: str) -> str:
    return f"{SPACE}:{owner_tag(owner)}"


def question_key(question: str) -> str:
    """Equal for the same question written with other case, spacing or end punctuation."""
    text = " ".join(question.lower().split()).rstrip("?!. ")
    return hashlib.sha1(text.encode()).hexdigest()[:20]


def _encode(vector: np.ndarray) -> str:
    return base64.b64encode(vector.astype(np.float16).tobytes()).decode()


def _decode(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=np.float16).astype(np.float32)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
