"""The dialogue store: conversation histories, the answer cache's entries and rate-limit buckets,
behind one small protocol. `RedisStore` (redis asyncio client) when `TANSUO_REDIS_URL` is set, so
two service processes share conversations; `MemoryStore` otherwise (and as the test store)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any, Protocol

from tansuo.errors import TansuoError


class StoreUnavailable(TansuoError):
    """The store (Redis) did not answer; the service says so and keeps working without it."""


class Store(Protocol):
    name: str

    async def ping(self) -> None: ...
    async def history(self, conversation: str) -> list[dict[str, Any]]: ...
    async def append(self, conversation: str, entries: list[dict[str, Any]], *, cap: int, ttl_s: int) -> None: ...
    async def delete(self, conversation: str) -> bool: ...
    async def put(self, space: str, key: str, value: dict[str, Any], *, ttl_s: int) -> None: ...
    async def entries(self, space: str) -> dict[str, dict[str, Any]]: ...
    async def remove(self, space: str, key: str) -> None: ...
    async def take(self, bucket: str, *, rate: float, burst: int) -> float: ...
    async def aclose(self) -> None: ...


class MemoryStore:
    """In-process: lost with the process; TTLs are checked on read. `clock` is injectable for tests."""

    name = "memory"

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._histories: dict[str, tuple[float, list[dict[str, Any]]]] = {}
        self._spaces: dict[str, dict[str, tuple[float, dict[str, Any]]]] = {}
        self._buckets: dict[str, tuple[float, float]] = {}

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

    async def put(self, space: str, key: str, value: dict[str, Any], *, ttl_s: int) -> None:
        self._spaces.setdefault(space, {})[key] = (self.clock() + ttl_s, json.loads(json.dumps(value)))

    async def entries(self, space: str) -> dict[str, dict[str, Any]]:
        now, items = self.clock(), self._spaces.get(space, {})
        for key in [k for k, (exp, _) in items.items() if exp <= now]:
            del items[key]
        return {k: v for k, (_, v) in items.items()}

    async def remove(self, space: str, key: str) -> None:
        self._spaces.get(space, {}).pop(key, None)

    async def take(self, bucket: str, *, rate: float, burst: int) -> float:
        now = self.clock()
        tokens, last = self._buckets.get(bucket, (float(burst), now))
        tokens = min(float(burst), tokens + (now - last) * rate)
        if tokens >= 1:
            self._buckets[bucket] = (tokens - 1, now)
            return 0.0
        self._buckets[bucket] = (tokens, now)
        return (1 - tokens) / rate

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


class RedisStore:
    """Histories as Redis lists (`tansuo:conv:<id>`, trimmed to the cap, TTL renewed per turn);
    entries of a space in one hash per space plus a per-entry expiry kept beside them."""

    name = "redis"

    def __init__(self, url: str, *, prefix: str = "tansuo", timeout_s: float = 2.0) -> None:
        import redis.asyncio as redis

        self.url = url
        self.prefix = prefix
        self._redis = redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
                                           decode_responses=True)
        self._take = self._redis.register_script(_TAKE)

    def _key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    async def _call(self, operation):
        import redis.exceptions

        try:
            return await operation
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as exc:
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

    async def put(self, space: str, key: str, value: dict[str, Any], *, ttl_s: int) -> None:
        body = json.dumps({"expires": time.time() + ttl_s, "value": value}, ensure_ascii=False)
        await self._call(self._redis.hset(self._key("space", space), key, body))

    async def entries(self, space: str) -> dict[str, dict[str, Any]]:
        raw = await self._call(self._redis.hgetall(self._key("space", space)))
        # decoded in a thread: thousands of cached answers would hold the event loop for a lookup
        out, stale = await asyncio.to_thread(_live, raw, time.time())
        if stale:
            await self._call(self._redis.hdel(self._key("space", space), *stale))
        return out

    async def remove(self, space: str, key: str) -> None:
        await self._call(self._redis.hdel(self._key("space", space), key))

    async def take(self, bucket: str, *, rate: float, burst: int) -> float:
        wait = await self._call(self._take(keys=[self._key("bucket", bucket)], args=[rate, burst, time.time()]))
        return float(wait)

    async def aclose(self) -> None:
        await self._redis.aclose()


def _live(raw: dict[str, str], now: float) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The entries that have not expired, decoded, and the keys of those that have."""
    out, stale = {}, []
    for key, body in raw.items():
        item = json.loads(body)
        if item["expires"] <= now:
            stale.append(key)
        else:
            out[key] = item["value"]
    return out, stale


def _safe_url(url: str) -> str:
    """The URL without a password, for messages."""
    if "@" in url:
        scheme, _, rest = url.partition("://")
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return url


def open_store(redis_url: str | None, prefix: str = "tansuo") -> Store:
    return RedisStore(redis_url, prefix=prefix) if redis_url else MemoryStore()


async def reachable(store: Store, timeout_s: float = 1.0) -> str | None:
    """None when the store answers, else why not (for /readyz)."""
    try:
        await asyncio.wait_for(store.ping(), timeout_s)
    except (StoreUnavailable, TimeoutError) as exc:
        return str(exc) or "the store did not answer in time"
    return None
