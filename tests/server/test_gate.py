"""The model queue: each replica's own, or counted across replicas in a shared Redis."""

from __future__ import annotations

import asyncio

import pytest

from tansuo.server.gate import Gate, QueueFull, SharedPool
from tansuo.server.store import RedisStore
from tests.server.conftest import SHARED_REDIS


async def _hold(gate: Gate, entered: asyncio.Event, leave: asyncio.Event) -> None:
    async with gate.enter():
        entered.set()
        await leave.wait()


async def test_a_replica_alone_refuses_past_its_slots_and_depth() -> None:
    gate, leave = Gate(1, 0), asyncio.Event()
    entered = asyncio.Event()
    task = asyncio.create_task(_hold(gate, entered, leave))
    await entered.wait()
    with pytest.raises(QueueFull):
        async with gate.enter():
            pass
    leave.set()
    await task
    async with gate.enter():  # the place is free again
        assert gate.running == 1


async def test_replicas_sharing_a_pool_refuse_as_one_service(prefix: str) -> None:
    stores = [RedisStore(SHARED_REDIS, prefix=prefix) for _ in range(2)]
    one, two = (Gate(1, 1, pool=SharedPool(store)) for store in stores)
    leave = asyncio.Event()
    try:
        events = [asyncio.Event(), asyncio.Event()]
        tasks = [asyncio.create_task(_hold(one, events[0], leave))]
        await events[0].wait()
        tasks.append(asyncio.create_task(_hold(two, events[1], leave)))  # runs: `two` has a free slot of its own
        await events[1].wait()
        for gate in (one, two):  # the service holds slots + depth = 2 turns: both replicas refuse the third
            with pytest.raises(QueueFull) as refused:
                async with gate.enter():
                    pass
            assert refused.value.retry_after_s >= 1
        leave.set()
        await asyncio.gather(*tasks)
        async with two.enter():  # both places were given back to the pool
            async with one.enter():
                pass
    finally:
        for store in stores:
            await store.aclose()


async def test_a_pool_whose_store_is_down_falls_back_to_the_replicas_own_queue(own_redis) -> None:
    store = RedisStore(own_redis.url, timeout_s=0.5)
    gate = Gate(1, 0, pool=SharedPool(store))
    try:
        own_redis.stop()
        async with gate.enter():  # served, counted locally
            with pytest.raises(QueueFull):
                async with gate.enter():
                    pass
    finally:
        await store.aclose()


async def test_a_turn_cancelled_while_it_holds_a_place_gives_the_place_back(prefix: str) -> None:
    stores = [RedisStore(SHARED_REDIS, prefix=prefix) for _ in range(2)]
    one, two = (Gate(1, 0, pool=SharedPool(store)) for store in stores)
    try:
        entered = asyncio.Event()
        task = asyncio.create_task(_hold(one, entered, asyncio.Event()))  # never left: the client goes away
        await entered.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0.2)  # the release runs as a task of its own
        async with two.enter():  # the service's one place is free again, long before hold_s
            assert two.running == 1
    finally:
        for store in stores:
            await store.aclose()
