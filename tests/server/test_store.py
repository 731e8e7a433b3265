"""The store contract, on the in-process store and on a real Redis; the degraded mode of the
conversations when Redis stops mid-conversation."""

from __future__ import annotations

import asyncio

import pytest

from tansuo.server.conversations import Conversations
from tansuo.server.store import MemoryStore, RedisStore, StoreUnavailable
from tests.server.conftest import SHARED_REDIS


@pytest.fixture(params=["memory", "redis", "redis-cluster"])
async def store(request, prefix: str):
    if request.param == "memory":
        made = MemoryStore()
    elif request.param == "redis":
        made = RedisStore(SHARED_REDIS, prefix=prefix)
    else:  # the same contract on a 3-node cluster: every transaction within one slot
        made = RedisStore(request.getfixturevalue("redis_cluster").url, prefix=prefix, cluster=True)
    yield made
    await made.aclose()


async def test_history_is_appended_in_order_and_capped(store) -> None:
    for i in range(4):
        await store.append("c1", [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"}],
                       cap=6, ttl_s=60)
    history = await store.history("c1")
    assert [e["content"] for e in history] == ["q1", "a1", "q2", "a2", "q3", "a3"]
    assert await store.history("other") == []
    assert await store.delete("c1") is True and await store.history("c1") == []
    assert await store.delete("c1") is False


async def test_entries_expire_and_can_be_removed(store) -> None:
    await store.put("answers", "k1", {"x": 1}, ttl_s=60)
    await store.put("answers", "k2", {"x": 2}, ttl_s=-1)  # already expired
    assert await store.entries("answers") == {"k1": {"x": 1}}
    await store.remove("answers", "k1")
    assert await store.entries("answers") == {}


async def test_a_space_index_is_read_whole_once_then_by_its_changes(store) -> None:
    assert await store.get("answers", "k1") is None
    await store.put("answers", "k1", {"x": 1}, ttl_s=60, brief={"q": "one"})
    await store.put("answers", "k0", {"x": 0}, ttl_s=60)  # no brief: not in the index, not logged
    first = await store.changes("answers", None)
    assert first.complete and [(k, b) for k, b, _ in first.puts] == [("k1", {"q": "one"})]
    assert await store.get("answers", "k1") == {"x": 1}
    assert (await store.changes("answers", first.cursor)).puts == []  # nothing new since
    await store.put("answers", "k2", {"x": 2}, ttl_s=60, brief={"q": "two"})
    await store.remove("answers", "k1")
    later = await store.changes("answers", first.cursor)
    assert not later.complete and [k for k, _, _ in later.puts] == ["k2"] and later.removes == ["k1"]
    assert later.cursor != first.cursor and (await store.changes("answers", later.cursor)).puts == []
    again = await store.changes("answers", None)  # a new reader: the live index, whole
    assert again.complete and [k for k, _, _ in again.puts] == ["k2"] and again.cursor == later.cursor


async def test_a_token_bucket_allows_its_burst_then_says_how_long_to_wait(store) -> None:
    # a slow refill (one token per 10 s), so a slow first round trip (a cluster client learning the
    # slot map) cannot refill the bucket while the test takes from it
    waits = [await store.take("bucket", rate=0.1, burst=3) for _ in range(4)]
    assert waits[:3] == [0.0, 0.0, 0.0] and 5.0 < waits[3] <= 10.0


async def test_a_pool_holds_up_to_its_limit_and_frees_places_released_or_lapsed(store) -> None:
    assert [await store.claim("turns", t, limit=2, ttl_s=60) for t in ("a", "b", "c")] == [0, 1, None]
    await store.release("turns", "a")
    assert await store.claim("turns", "c", limit=2, ttl_s=0.2) == 1
    assert await store.claim("turns", "d", limit=2, ttl_s=60) is None
    await asyncio.sleep(0.3)  # "c" lapsed: a replica that died mid-turn does not hold its place for ever
    assert await store.claim("turns", "d", limit=2, ttl_s=60) == 1


@pytest.mark.parametrize("cluster", [False, True], ids=["redis", "redis-cluster"])
async def test_two_processes_sharing_redis_share_conversations(prefix: str, cluster: bool, request) -> None:
    url = request.getfixturevalue("redis_cluster").url if cluster else SHARED_REDIS
    one, two = RedisStore(url, prefix=prefix, cluster=cluster), RedisStore(url, prefix=prefix, cluster=cluster)
    try:
        await Conversations(one).save("alice", "shared", "hello?", {"content": "hi"})
        assert [m["content"] for m in (await Conversations(two).load("alice", "shared")).messages] == ["hello?", "hi"]
    finally:
        await one.aclose()
        await two.aclose()


async def test_redis_stopping_mid_conversation_degrades_then_recovers_without_losing_history(own_redis) -> None:
    store = RedisStore(own_redis.url, timeout_s=0.5)
    conversations = Conversations(store)
    try:
        assert await conversations.save("alice", "c", "turn one?", {"content": "answer one"})
        own_redis.stop()
        loaded = await conversations.load("alice", "c")
        assert loaded.degraded and "does not answer" in loaded.degraded and loaded.messages == []
        assert await conversations.save("alice", "c", "turn two?", {"content": "answer two"}) is False  # held back
        with pytest.raises(StoreUnavailable):
            await conversations.entries("alice", "c")
        own_redis.start()  # the same data (append-only file): what was stored is still there
        loaded = await conversations.load("alice", "c")
        assert loaded.degraded is None
        assert [m["content"] for m in loaded.messages] == ["turn one?", "answer one", "turn two?", "answer two"]
        assert conversations.pending == {}
    finally:
        await store.aclose()


def test_a_spaces_entries_index_and_log_share_one_cluster_slot():
    from redis.crc import key_slot

    store = RedisStore(SHARED_REDIS, prefix="tansuo")
    slots = {key_slot(store._space_key(kind, "answers-v3:alice").encode()) for kind in ("space", "index", "log")}
    other = key_slot(store._space_key("space", "answers-v3:bob").encode())
    assert len(slots) == 1 and other not in slots  # one transaction per space; spaces spread over slots
