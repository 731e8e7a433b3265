"""The answer cache at scale: lookups with N cached answers in Redis, today's path beside the one before.

    .venv/bin/python bench/cache.py [--entries 100000] [--lookups 300] [--check]

Both paths hold the same N answers in one Redis (a space of their own, removed afterwards) and get the
same lookups, the question's vector given (its embedding, ~8 ms on 2 cores, is the same for both):
- before (commit a565528): every lookup read the whole space (HGETALL), decoded it, and scanned every
  stored vector (decoded vectors were kept per process);
- now: one read by key, one read of the space's log since the last lookup, an index search (exact up
  to 20k questions, IVF above), then one read of the chosen entry.
The vectors are synthetic (clustered unit vectors, so no model embeds 100k questions); each lookup asks
a stored question with a little noise on its vector, so every lookup is a hit through the guards.
Targets: p50 <= 5 ms and p95 <= 15 ms now. Results: bench/results/cache.json.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import sys
import time
import uuid
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.agent import pct  # noqa: E402
from bench.support.checks import RESULTS, add_check, at_most, finish, run_info, targets_json  # noqa: E402
from tansuo.server.cache import AnswerCache, CacheOptions, question_key, space_of  # noqa: E402
from tansuo.server.conversations import ANONYMOUS  # noqa: E402
from tansuo.server.same_question import mismatch, signature  # noqa: E402
from tansuo.server.store import LOG_CAP, RedisStore  # noqa: E402

DIM = 384
PAYLOAD = {"answer": "x" * 600, "extras": {"sources": [{"n": 1, "title": "t" * 60, "source": "/d/" + "s" * 60}],
                                             "verdicts": [{"verifier": "factuality", "action": "pass"}]}}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class Vectors:
    """Clustered unit vectors: near questions exist, as in a real cache."""

    def __init__(self, n: int, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        centres = rng.standard_normal((max(1, n // 50), DIM)).astype(np.float32)
        self.all = centres[rng.integers(0, len(centres), n)] + 0.6 * rng.standard_normal((n, DIM)).astype(np.float32)
        self.all /= np.linalg.norm(self.all, axis=1, keepdims=True)


def _encode(vector: np.ndarray) -> str:
    return base64.b64encode(vector.astype(np.float16).tobytes()).decode()


def question(i: int) -> str:
    return f"What does entry {i} of the benchmark cache say?"


async def fill(store: RedisStore, prefix: str, vectors: np.ndarray, *, batch: int = 2000) -> None:
    """The same N answers in both layouts: the old one (one hash, vector inside each entry) and
    today's (entries, the question index, and its log), written in bulk."""
    redis, now, expires = store._redis, time.time(), time.time() + 86400
    old_space, new_space = f"{prefix}:space:answers-v2:old", store._space_key("space", space_of(ANONYMOUS))
    for start in range(0, len(vectors), batch):
        async with redis.pipeline(transaction=False) as pipe:
            for i in range(start, min(start + batch, len(vectors))):
                key, text, vec = question_key(question(i)), question(i), _encode(vectors[i])
                entry = {"question": text, "payload": PAYLOAD, "kind": "timeless", "documents": {}, "at": now}
                pipe.hset(old_space, key, json.dumps({"expires": expires, "value": {**entry, "vector": vec}}))
                pipe.hset(new_space, key, json.dumps({"expires": expires, "value": entry}))
                indexed = json.dumps({"expires": expires, "value": {"question": text, "vector": vec, "at": now}})
                pipe.hset(store._space_key("index", space_of(ANONYMOUS)), key, indexed)
                pipe.xadd(store._space_key("log", space_of(ANONYMOUS)), {"key": key, "body": indexed}, maxlen=LOG_CAP,
                          approximate=True)
            await pipe.execute()
        log(f"  filled {min(start + batch, len(vectors))}/{len(vectors)}")


class OldLookup:
    """The lookup as it was before (a565528 server/cache.py and server/store.py), on the old layout."""

    def __init__(self, redis, space_key: str) -> None:
        self.redis, self.space_key = redis, space_key
        self.vectors: dict[str, np.ndarray] = {}

    async def lookup(self, text: str, query: np.ndarray, similarity: float = 0.92):
        raw = await self.redis.hgetall(self.space_key)
        entries = await asyncio.to_thread(_live, raw, time.time())
        keys = list(entries)
        sims = await asyncio.to_thread(self._similarities, keys, entries, query)
        mine = signature(text)
        for i in np.argsort(-sims):
            if sims[i] < similarity:
                break
            if mismatch(mine, signature(entries[keys[i]]["question"])) is None:
                return keys[i]
        return None

    def _similarities(self, keys, entries, query) -> np.ndarray:
        for key in keys:
            if key not in self.vectors:
                self.vectors[key] = np.frombuffer(base64.b64decode(entries[key]["vector"]), np.float16).astype(
                    np.float32)
        return np.vstack([self.vectors[k] for k in keys]) @ query


def _live(raw: dict[str, str], now: float) -> dict:
    out = {}
    for key, body in raw.items():
        item = json.loads(body)
        if item["expires"] > now:
            out[key] = item["value"]
    return out


async def timed(lookups, run) -> tuple[list[float], int]:
    times, hits = [], 0
    for text, vector in lookups:
        started = time.perf_counter()
        hits += await run(text, vector) is not None
        times.append((time.perf_counter() - started) * 1000)
    return times, hits


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=300)
    parser.add_argument("--old-lookups", type=int, default=20, help="the old path reads everything: fewer of them")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    add_check(parser)
    args = parser.parse_args()
    prefix = f"tansuo-bench-{uuid.uuid4().hex[:8]}"
    store = RedisStore(args.redis, prefix=prefix)
    redis = store._redis
    vectors = Vectors(args.entries).all
    rng = np.random.default_rng(1)
    picks = rng.integers(0, args.entries, args.lookups)
    lookups = []
    for i in picks:
        noisy = vectors[i] + 0.01 * rng.standard_normal(DIM).astype(np.float32)
        lookups.append((question(int(i)), noisy / np.linalg.norm(noisy)))
    try:
        log(f"filling Redis with {args.entries} cached answers in both layouts")
        await fill(store, prefix, vectors)

        class Dim:  # the cache needs the embedder's dimension only: every lookup brings its vector
            dim = DIM

        cache = AnswerCache(store, Dim(), document_hash=lambda _: None,
                            options=CacheOptions(max_entries=2 * args.entries))
        started = time.perf_counter()
        await cache.lookup(*lookups[0])  # a replica's first lookup reads the whole index once
        first_ms = (time.perf_counter() - started) * 1000
        log(f"now: first lookup (reads the index whole) {first_ms:.0f} ms; {args.lookups} lookups")
        new_times, new_hits = await timed(lookups, lambda t, v: _hit(cache.lookup(t, v)))
        old = OldLookup(redis, f"{prefix}:space:answers-v2:old")
        log(f"before: {args.old_lookups} lookups (each reads all {args.entries} entries)")
        await old.lookup(*lookups[0])  # its per-process vector cache warm, as in a running service
        old_times, old_hits = await timed(lookups[:args.old_lookups], old.lookup)
    finally:
        keys = [k async for k in redis.scan_iter(match=f"{prefix}:*")]
        if keys:
            await redis.delete(*keys)
        await store.aclose()
    report = {**run_info(), "entries": args.entries,
              "now": {"lookups": len(new_times), "hits": new_hits, "p50_ms": pct(new_times, 0.5),
                      "p95_ms": pct(new_times, 0.95), "first_lookup_ms": round(first_ms, 1)},
              "before": {"lookups": len(old_times), "hits": old_hits, "p50_ms": pct(old_times, 0.5),
                         "p95_ms": pct(old_times, 0.95)}}
    report["speedup_p50"] = round(report["before"]["p50_ms"] / report["now"]["p50_ms"], 1)
    targets = [at_most("lookup p50, now", report["now"]["p50_ms"], 5.0, " ms"),
               at_most("lookup p95, now", report["now"]["p95_ms"], 15.0, " ms"),
               at_most("lookups that missed their own question, now", len(new_times) - new_hits, 0)]
    report["targets"] = targets_json(targets)
    print(f"{args.entries} cached answers in Redis; lookup p50 / p95: now {report['now']['p50_ms']:.2f} / "
          f"{report['now']['p95_ms']:.2f} ms, before {report['before']['p50_ms']:.1f} / "
          f"{report['before']['p95_ms']:.1f} ms: x{report['speedup_p50']} at p50; hits {new_hits}/{len(new_times)} "
          f"now, {old_hits}/{len(old_times)} before; a replica's first lookup {first_ms:.0f} ms")
    (RESULTS / "cache.json").write_text(json.dumps(report, indent=2))
    return finish("cache", targets, args.check)


async def _hit(lookup):
    return (await lookup).hit


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
