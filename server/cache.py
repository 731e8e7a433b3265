"""The answer cache: retrieval in place of computation. A repeated or paraphrased question (an
embedding near-duplicate whose exact parts agree, `server.guards`) within its freshness window gets
the stored answer, citations and verdicts at once.

What keeps a stored answer from being served wrongly:
- the guards (numbers, dates, negations, names, the order of what is compared);
- its lifetime follows the question's recency class (a price for minutes, a timeless fact for days);
- it remembers the content hash of every document it cites: re-ingested with new content, or
  removed, the document takes the answer with it (checked when the entry is found, so a document
  re-indexed by another process counts too).
Entries live in the store, so processes sharing one Redis share the cache. Each owner (API key, or
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
from tansuo.server.same_question import mismatch, signature
from tansuo.server.store import Store

SPACE = "answers-v2"  # v2: answers by copy, tool readings; answers stored in the old form are not served
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
        self._vectors: dict[str, np.ndarray] = {}  # decoded once per entry and process

    async def lookup(self, question: str, vector: np.ndarray | None = None, *, owner: str = ANONYMOUS) -> Lookup:
        started = time.perf_counter()
        space = space_of(owner)
        entries = await self.store.entries(space)
        if not entries:
            return Lookup(None, "empty", elapsed_ms=_ms(started))
        same = entries.get(question_key(question))
        if same is not None and vector is None and self._stale_source(same) is None:
            # the same question again (case and spacing aside): no embedding needed
            hit = CacheHit(question_key(question), same["question"], 1.0, same["payload"], time.time() - same["at"])
            return Lookup(hit, "hit", 1.0, _ms(started))
        query = await asyncio.to_thread(self._embed, question) if vector is None else vector
        keys = list(entries)
        sims = await asyncio.to_thread(self._similarities, keys, entries, query)  # off the event loop
        mine = signature(question)
        reason, nearest = "no near question", float(sims.max())
        for i in np.argsort(-sims):
            if sims[i] < self.options.similarity:
                break
            entry = entries[keys[i]]
            why = mismatch(mine, signature(entry["question"]))
            if why is None:
                why = self._stale_source(entry)
                if why is not None:
                    await self.store.remove(space, keys[i])
            if why is not None:
                reason = why
                continue
            hit = CacheHit(keys[i], entry["question"], float(sims[i]), entry["payload"], time.time() - entry["at"])
            return Lookup(hit, "hit", float(sims[i]), _ms(started))
        return Lookup(None, reason, nearest, _ms(started))

    async def store_answer(self, question: str, payload: dict[str, Any], *, kind: str = "timeless",
                           documents: Mapping[str, str] | None = None, vector: np.ndarray | None = None,
                           owner: str = ANONYMOUS) -> str:
        """Keep an answer for its recency kind's lifetime; `documents` maps each cited doc id to its hash."""
        query = await asyncio.to_thread(self._embed, question) if vector is None else vector
        key = question_key(question)
        ttl = self.options.ttl_s.get(kind, self.options.ttl_s.get("timeless", DEFAULT_TTL_S["timeless"]))
        entry = {"question": question, "vector": _encode(query), "payload": payload, "kind": kind,
                 "documents": dict(documents or {}), "at": time.time()}
        space = space_of(owner)
        present = await self.store.entries(space)
        overflow = max(0, len(present) - self.options.max_entries + 1)
        for old in sorted(present, key=lambda k: present[k]["at"])[:overflow]:
            await self.store.remove(space, old)  # the oldest make room
        await self.store.put(space, key, entry, ttl_s=int(ttl))
        self._vectors[key] = query
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

    def _similarities(self, keys: list[str], entries: dict[str, dict[str, Any]], query: np.ndarray) -> np.ndarray:
        return np.vstack([self._vector(k, entries[k]) for k in keys]) @ query

    def embed(self, question: str) -> np.ndarray:
        return self._embed(question)

    def _embed(self, question: str) -> np.ndarray:
        return self.embedder.embed([question])[0].astype(np.float32)

    def _vector(self, key: str, entry: dict[str, Any]) -> np.ndarray:
        vector = self._vectors.get(key)
        if vector is None:
            if len(self._vectors) > 2 * self.options.max_entries:  # expired entries' vectors pile up otherwise
                self._vectors.clear()
            vector = self._vectors[key] = _decode(entry["vector"])
        return vector

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
