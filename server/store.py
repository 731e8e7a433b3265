"""The dialogue store: conversation histories, the answer cache's entries and rate-limit buckets,
behind one small protocol. `RedisStore` (redis asyncio client) when `TANSUO_REDIS_URL` is set, so
two service processes share conversations; `MemoryStore` otherwise (and as the test store)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from tansuo.errors import TansuoError


class StoreUnavailable(TansuoError):
    """The store (Redis) did not answer; the service says so and keeps working without it."""


LOG_CAP = 200_000  # changes kept per space's log; a reader further behind reads the whole index again


@dataclass
class Changes:
    """What changed in a space's index since a cursor (`Store.changes`): entries put (key, brief,
    expiry) and keys removed, in order; `complete` when the puts are the whole live index (a first
    read, or a reader the log no longer reaches back to)."""

    cursor: str
    puts: list[tuple[str, dict[str, Any], float]] = field(default_factory=list)
    removes: list[str] = field(default_factory=list)
    complete: bool = False


class Store(Protocol):
    name: str
    clock: Callable[[], float]  # the time entries expire by

    async def ping(self) -> None: ...
    async def history(self, conversation: str) -> list[dict[str, Any]]: ...
    async def append(self, conversation: str, entries: list[dict[str, Any]], *, cap: int, ttl_s: int) -> None: ...
    async def delete(self, conversation: str) -> bool: ...
    async def put(self, space: str, key: str, value: dict[str, Any], *, ttl_s: int,
                  brief: dict[str, Any] | None = None) -> None:
        """Keep `value` under `key` for `ttl_s`; a `brief` (what readers search by) joins the space's
        index, and every reader learns of it through `changes`."""

    async def get(self, space: str, key: str) -> dict[str, Any] | None: ...
    async def entries(self, space: str) -> dict[str, dict[str, Any]]: ...
    async def remove(self, space: str, key: str) -> None: ...
    async def changes(self, space: str, cursor: str | None) -> Changes: ...
    async def take(self, bucket: str, *, rate: float, burst: int) -> float: ...
    async def claim(self, pool: str, ticket: str, *, limit: int, ttl_s: float) -> int | None:
        """Hold `ticket` in `pool` (for `ttl_s` at most, so a process that dies frees its places) when
        fewer than `limit` are held; how many others hold one, or None when the pool is full."""

    async def release(self, pool: str, ticket: str) -> None: ...
    async def aclose(self) -> None: ...


class MemoryStore:
    """In-process: lost with the process; TTLs are checked on read. `clock` is injectable for tests."""

    name = "memory"

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._histories: dict[str, tuple[float, list[dict[str, Any]]]] = {}
        self._spaces: dict[str, dict[str, tuple[float, dict[str, Any]]]] = {}
        self._index: dict[str, dict[str, tuple[float, dict[str, Any]]]] = {}
        self._logs: dict[str, list[tuple[int, str, dict[str, Any] | None, float]]] = {}
        self._buckets: dict[str, tuple[float, float]] = {}
        self._pools: dict[str, dict[str, float]] = {}

    async def ping(self) -> None:
        return None

    async def history(self, conversation: str) -> list[dict[str, Any]]:
        expires, entries = self._histories.get(conversation, (0.0, []))
        if expires <= self.clock():
            self._histories.pop(conversation, None)
            return []
        return [dict(e) for e in entries]

    async def append(self, conversation: str, entries: list[dict[str, Any]], *, cap: int, ttl_s: int) -> None:
        kept = (await self.history(conversation)) + [dict(e) for e in entries]
        self._histories[conversation] = (self.clock() + ttl_s, kept[-cap:])

    async def delete(self, conversation: str) -> bool:
        return self._histories.pop(conversation, None) is not None

    async def put(self, space: str, key: str, value: dict[str, Any], *, ttl_s: int,
                  brief: dict[str, Any] | None = None) -> None:
        expires = self.clock() + ttl_s
        self._spaces.setdefault(space, {})[key] = (expires, json.loads(json.dumps(value)))
        if brief is not None:
            self._index.setdefault(space, {})[key] = (expires, dict(brief))
            self._log(space, key, dict(brief), expires)

    async def get(self, space: str, key: str) -> dict[str, Any] | None:
        expires, value = self._spaces.get(space, {}).get(key, (0.0, None))
        return value if value is not None and expires > self.clock() else None

    async def entries(self, space: str) -> dict[str, dict[str, Any]]:
        now, items = self.clock(), self._spaces.get(space, {})
        for key in [k for k, (exp, _) in items.items() if exp <= now]:
            del items[key]
        return {k: v for k, (_, v) in items.items()}

    async def remove(self, space: str, key: str) -> None:
        self._spaces.get(space, {}).pop(key, None)
        if self._index.get(space, {}).pop(key, None) is not None:
            self._log(space, key, None, 0.0)

    async def changes(self, space: str, cursor: str | None) -> Changes:
        log = self._logs.get(space, [])
        last = log[-1][0] if log else 0
        if cursor is None or (log and int(cursor) < log[0][0] - 1):  # first read, or the log moved on
            now = self.clock()
            live = [(k, b, e) for k, (e, b) in self._index.get(space, {}).items() if e > now]
            return Changes(str(last), puts=live, complete=True)
        out = Changes(str(last))
        for _, key, brief, expires in (e for e in log if e[0] > int(cursor)):
            if brief is None:
                out.removes.append(key)
            else:
                out.puts.append((key, brief, expires))
        return out

    def _log(self, space: str, key: str, brief: dict[str, Any] | None, expires: float) -> None:
        log = self._logs.setdefault(space, [])
        log.append(((log[-1][0] if log else 0) + 1, key, brief, expires))
        del log[:-LOG_CAP]

    async def take(self, bucket: str, *, rate: float, burst: int) -> float:
        now = self.clock()
        tokens, last = self._buckets.get(bucket, (float(burst), now))
        tokens = min(float(burst), tokens + (now - last) * rate)
        if tokens >= 1:
            self._buckets[bucket] = (tokens - 1, now)
            return 0.0
        self._buckets[bucket] = (tokens, now)
        return (1 - tokens) / rate

    async def claim(self, pool: str, ticket: str, *, limit: int, ttl_s: float) -> int | None:
        now, held = self.clock(), self._pools.setdefault(pool, {})
        for stale in [t for t, until in held.items() if until <= now]:
            del held[stale]
        if len(held) >= limit:
            return None
        held[ticket] = now + ttl_s
        return len(held) - 1

    async def release(self, pool: str, ticket: str) -> None:
        self._pools.get(pool, {}).pop(ticket, None)

    async def aclose(self) -> None:
        return None


# A token bucket in one round trip, atomic across processes: refill by elapsed time, take one.
_TAKE = """
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tokens = tonumber(b[1]) or burst
local ts = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return tostring(wait)
"""


# A place in a pool shared by processes, in one round trip: drop places held past their time, then
# take one if fewer than the limit are held. A sorted set: ticket -> the time its hold ends, by the
# Redis server's clock (replicas' clocks may differ).
_CLAIM = """
local t = redis.call('TIME')
local now, limit, ttl = tonumber(t[1]) + tonumber(t[2]) / 1e6, tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local held = redis.call('ZCARD', KEYS[1])
if held >= limit then return -1 end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('EXPIRE', KEYS[1], math.ceil(ttl) + 1)
return held
"""


class RedisStore:
    """Histories as Redis lists (`tansuo:conv:<id>`, trimmed to the cap, TTL renewed per turn);
    entries of a space in one hash per space plus a per-entry expiry kept beside them. `cluster`:
    the URL names one node of a Redis Cluster, and the client follows the cluster's slot map (every
    multi-key transaction here stays within one hash tag, so within one slot)."""

    name = "redis"

    def __init__(self, url: str, *, prefix: str = "tansuo", timeout_s: float = 2.0, cluster: bool = False) -> None:
        import redis.asyncio as redis

        self.url = url
        self.prefix = prefix
        self.clock = time.time
        self.name = "redis-cluster" if cluster else "redis"
        client = redis.RedisCluster if cluster else redis.Redis
        self._redis = client.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
                                      decode_responses=True)
        self._take = self._redis.register_script(_TAKE)
        self._claim = self._redis.register_script(_CLAIM)

    def _key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    def _space_key(self, kind: str, space: str) -> str:
        """A space's entries, index and log carry one hash tag ({space}): written in one transaction,
        they must sit in one slot of a Redis Cluster."""
        return self._key(kind, f"{{{space}}}")

    async def _call(self, operation):
        import redis.exceptions

        try:
            return await operation
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, redis.exceptions.ClusterError,
                redis.exceptions.RedisClusterUnreachableError, redis.exceptions.SlotNotCoveredError,
                OSError) as exc:  # the cluster ones: no node answers, or a slot's node is down
            raise StoreUnavailable(f"the Redis store at {_safe_url(self.url)} does not answer: {exc}") from None

    async def ping(self) -> None:
        await self._call(self._redis.ping())

    async def history(self, conversation: str) -> list[dict[str, Any]]:
        raw = await self._call(self._redis.lrange(self._key("conv", conversation), 0, -1))
        return [json.loads(r) for r in raw]

    async def append(self, conversation: str, entries: list[dict[str, Any]], *, cap: int, ttl_s: int) -> None:
        key = self._key("conv", conversation)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.rpush(key, *[json.dumps(e, ensure_ascii=False) for e in entries])
            pipe.ltrim(key, -cap, -1)
            pipe.expire(key, ttl_s)
            await self._call(pipe.execute())

    async def delete(self, conversation: str) -> bool:
        return bool(await self._call(self._redis.delete(self._key("conv", conversation))))

    async def put(self, space: str, key: str, value: dict[str, Any], *, ttl_s: int,
                  brief: dict[str, Any] | None = None) -> None:
        expires = time.time() + ttl_s
        body = json.dumps({"expires": expires, "value": value}, ensure_ascii=False)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._space_key("space", space), key, body)
            if brief is not None:  # the index entry and its log record, in the same transaction
                indexed = json.dumps({"expires": expires, "value": brief}, ensure_ascii=False)
                pipe.hset(self._space_key("index", space), key, indexed)
                pipe.xadd(self._space_key("log", space), {"key": key, "body": indexed}, maxlen=LOG_CAP,
                          approximate=True)
            await self._call(pipe.execute())

    async def get(self, space: str, key: str) -> dict[str, Any] | None:
        body = await self._call(self._redis.hget(self._space_key("space", space), key))
        if body is None:
            return None
        item = json.loads(body)
        return item["value"] if item["expires"] > time.time() else None

    async def entries(self, space: str) -> dict[str, dict[str, Any]]:
        raw = await self._call(self._redis.hgetall(self._space_key("space", space)))
        # decoded in a thread: thousands of cached answers would hold the event loop for a lookup
        out, stale = await asyncio.to_thread(_live, raw, time.time())
        if stale:
            await self._call(self._redis.hdel(self._space_key("space", space), *stale))
        return out

    async def remove(self, space: str, key: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hdel(self._space_key("space", space), key)
            pipe.hdel(self._space_key("index", space), key)
            pipe.xadd(self._space_key("log", space), {"key": key}, maxlen=LOG_CAP, approximate=True)
            await self._call(pipe.execute())

    async def changes(self, space: str, cursor: str | None) -> Changes:
        log = self._space_key("log", space)
        if cursor is not None:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.xrange(log, min=f"({cursor}", max="+")
                pipe.xrange(log, min="-", max="+", count=1)
                records, first = await self._call(pipe.execute())
            if not first or _stream_id(first[0][0]) <= _stream_id(cursor) or cursor == "0-0" and \
                    len(records) < LOG_CAP // 2:  # else the log no longer reaches back to the cursor
                return await asyncio.to_thread(_replayed, records, cursor)
        async with self._redis.pipeline(transaction=True) as pipe:  # the whole index and where the log stands
            pipe.xrevrange(log, max="+", min="-", count=1)
            pipe.hgetall(self._space_key("index", space))
            last, raw = await self._call(pipe.execute())
        live, _ = await asyncio.to_thread(_live, raw, time.time(), with_expiry=True)
        return Changes(last[0][0] if last else "0-0", puts=live, complete=True)

    async def take(self, bucket: str, *, rate: float, burst: int) -> float:
        wait = await self._call(self._take(keys=[self._key("bucket", bucket)], args=[rate, burst, time.time()]))
        return float(wait)

    async def claim(self, pool: str, ticket: str, *, limit: int, ttl_s: float) -> int | None:
        held = int(await self._call(self._claim(keys=[self._key("pool", pool)], args=[ticket, limit, ttl_s])))
        return None if held < 0 else held

    async def release(self, pool: str, ticket: str) -> None:
        await self._call(self._redis.zrem(self._key("pool", pool), ticket))

    async def aclose(self) -> None:
        await self._redis.aclose()


def _live(raw: dict[str, str], now: float, *, with_expiry: bool = False):
    """The entries that have not expired, decoded, and the keys of those that have; `with_expiry`:
    as (key, value, expires) rows."""
    out, rows, stale = {}, [], []
    for key, body in raw.items():
        item = json.loads(body)
        if item["expires"] <= now:
            stale.append(key)
        elif with_expiry:
            rows.append((key, item["value"], item["expires"]))
        else:
            out[key] = item["value"]
    return (rows if with_expiry else out), stale


def _replayed(records: list, cursor: str) -> Changes:
    out = Changes(records[-1][0] if records else cursor)
    for _, fields in records:
        if "body" in fields:
            item = json.loads(fields["body"])
            out.puts.append((fields["key"], item["value"], item["expires"]))
        else:
            out.removes.append(fields["key"])
    return out


def _stream_id(text: str) -> tuple[int, int]:
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


def _safe_url(url: str) -> str:
    """The URL without a password, for messages."""
    if "@" in url:
        scheme, _, rest = url.partition("://")
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return url


def open_store(redis_url: str | None, prefix: str = "tansuo", *, cluster: bool = False) -> Store:
    return RedisStore(redis_url, prefix=prefix, cluster=cluster) if redis_url else MemoryStore()


async def reachable(store: Store, timeout_s: float = 1.0) -> str | None:
    """None when the store answers, else why not (for /readyz)."""
    try:
        await asyncio.wait_for(store.ping(), timeout_s)
    except (StoreUnavailable, TimeoutError) as exc:
        return str(exc) or "the store did not answer in time"
    return None
