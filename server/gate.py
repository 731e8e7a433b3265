"""A bounded queue in front of the model: `slots` turns run at once, `depth` more may wait; past
that a request is refused at once (429 with Retry-After) instead of piling up."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from tansuo.errors import TansuoError


class QueueFull(TansuoError):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"the model queue is full; retry in {retry_after_s} s")
        self.retry_after_s = retry_after_s


class Gate:
    def __init__(self, slots: int, depth: int, *, turn_s_estimate: float = 10.0) -> None:
        self.slots = slots
        self.depth = depth
        self.turn_s_estimate = turn_s_estimate  # for Retry-After; updated from finished turns
        self._sem = asyncio.Semaphore(slots)
        self.running = 0
        self.waiting = 0

    @contextlib.asynccontextmanager
    async def enter(self) -> AsyncIterator[None]:
        if self.running >= self.slots and self.waiting >= self.depth:
            raise QueueFull(self.retry_after())
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

    def observe(self, seconds: float) -> None:
        self.turn_s_estimate = 0.8 * self.turn_s_estimate + 0.2 * seconds

    def retry_after(self) -> int:
        """About when a place frees up: the queue ahead drains `slots` turns at a time."""
        return max(1, round(self.turn_s_estimate * (self.waiting + 1) / self.slots))
