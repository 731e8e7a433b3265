"""A bounded queue in front of the model: `slots` turns run at once, `depth` more may wait; past
that a request is refused at once (429 with Retry-After) instead of piling up. With a `pool` (a
store shared by replicas), `slots + depth` counts every replica's turns, so the 429s hold for the
service as a whole; each replica still runs at most `slots` at once."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from tansuo.errors import TansuoError
from tansuo.server.store import Store, StoreUnavailable


class QueueFull(TansuoError):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"the model queue is full; retry in {retry_after_s} s")
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class SharedPool:
    """Where replicas count their turns: the store, the pool's name, and how long a place is held
    at most (a replica that dies mid-turn frees its places after that)."""

    store: Store
    name: str = "turns"
    hold_s: float = 300.0


class Gate:
    def __init__(self, slots: int, depth: int, *, turn_s_estimate: float = 10.0, pool: SharedPool | None = None,
                 ) -> None:
        self.slots = slots
        self.depth = depth
        self.turn_s_estimate = turn_s_estimate  # for Retry-After; updated from finished turns
        self.pool = pool
        self._sem = asyncio.Semaphore(slots)
        self._tasks: set[asyncio.Task] = set()
        self.running = 0
        self.waiting = 0

    @contextlib.asynccontextmanager
    async def enter(self) -> AsyncIterator[None]:
        ticket = await self._claim()
        try:
            self.waiting += 1
            try:
                await self._sem.acquire()
            finally:
                self.waiting -= 1
            self.running += 1
            try:
                yield
            finally:
                self.running -= 1
                self._sem.release()
        finally:
            await self._release(ticket)

    async def _claim(self) -> str | None:
        """A place in the queue, or QueueFull: the service-wide count when there is a pool (this
        replica's own when the store does not answer: serve rather than refuse everyone)."""
        if self.pool is not None:
            ticket = uuid.uuid4().hex
            claim = asyncio.ensure_future(self.pool.store.claim(self.pool.name, ticket, limit=self.slots + self.depth,
                                                                ttl_s=self.pool.hold_s))
            try:
                ahead = await asyncio.shield(claim)
            except StoreUnavailable:
                ahead = -1
            except asyncio.CancelledError:  # the client left while the place was being taken: give it back
                claim.add_done_callback(lambda _: self._detach(self.pool.store.release(self.pool.name, ticket)))
                raise
            if ahead is None:
                raise QueueFull(self.retry_after(self.depth))
            if ahead >= 0:
                return ticket
        if self.running >= self.slots and self.waiting >= self.depth:
            raise QueueFull(self.retry_after())
        return None

    async def _release(self, ticket: str | None) -> None:
        """Give the place back, even when the turn ends by cancellation (a client that left): the
        release runs on as a task of its own, so it is not cancelled with the turn."""
        if ticket is not None and self.pool is not None:
            await asyncio.shield(self._detach(self.pool.store.release(self.pool.name, ticket)))

    def _detach(self, work) -> asyncio.Task:
        """A task kept until it ends (the loop holds tasks weakly); a store that does not answer is
        ignored: the place lapses on its own after hold_s."""
        async def quietly():
            with contextlib.suppress(StoreUnavailable):
                await work
        task = asyncio.ensure_future(quietly())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def observe(self, seconds: float) -> None:
        self.turn_s_estimate = 0.8 * self.turn_s_estimate + 0.2 * seconds

    def retry_after(self, waiting: int | None = None) -> int:
        """About when a place frees up: the queue ahead drains `slots` turns at a time."""
        ahead = self.waiting if waiting is None else waiting
        return max(1, round(self.turn_s_estimate * (ahead + 1) / self.slots))
