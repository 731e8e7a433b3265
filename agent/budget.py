"""Hard limits per turn: steps, tool calls, generated tokens, wall-clock time; and a guard
against the same tool call made again and again.

A limit that runs out raises BudgetExceeded naming it, so the run loop can end the turn
with what it has and say what could not be done; it never waits past the deadline.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from tansuo.errors import TansuoError

Limit = Literal["steps", "tool_calls", "tokens", "seconds"]


class BudgetExceeded(TansuoError):
    def __init__(self, limit: Limit, allowed: float) -> None:
        self.limit, self.allowed = limit, allowed
        super().__init__(f"turn budget exhausted: {limit} (limit {allowed:g})")


class RepeatedCall(TansuoError):
    def __init__(self, name: str, arguments: dict[str, Any], times: int) -> None:
        self.name, self.arguments, self.times = name, arguments, times
        super().__init__(f"the same call {name}({canonical(arguments)}) was made {times} times; stopped")


@dataclass(frozen=True)
class Limits:
    steps: int = 6
    tool_calls: int = 8
    tokens: int = 1024  # generated tokens, all model calls of the turn together
    seconds: float = 60.0
    repeats: int = 2  # identical calls allowed before the guard stops the turn


@dataclass
class Budget:
    limits: Limits = field(default_factory=Limits)
    clock: Callable[[], float] = time.monotonic
    steps: int = 0
    tool_calls: int = 0
    tokens: int = 0
    started: float | None = None
    _calls: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.started is None:
            self.started = self.clock()

    @property
    def elapsed_s(self) -> float:
        return self.clock() - self.started

    @property
    def remaining_s(self) -> float:
        """Time left; pass it as the timeout of anything the turn waits on."""
        return max(0.0, self.limits.seconds - self.elapsed_s)

    def step(self) -> None:
        self.check_time()
        if self.steps >= self.limits.steps:
            raise BudgetExceeded("steps", self.limits.steps)
        self.steps += 1

    def tool_call(self, name: str, arguments: dict[str, Any]) -> None:
        """Count a call before it runs; refuse the (limits.repeats + 1)-th identical one."""
        self.check_time()
        if self.tool_calls >= self.limits.tool_calls:
            raise BudgetExceeded("tool_calls", self.limits.tool_calls)
        key = f"{name}:{canonical(arguments)}"
        seen = self._calls.get(key, 0) + 1
        if seen > self.limits.repeats:
            raise RepeatedCall(name, arguments, seen)
        self._calls[key] = seen
        self.tool_calls += 1

    def generated(self, tokens: int) -> None:
        self.tokens += tokens
        if self.tokens > self.limits.tokens:
            raise BudgetExceeded("tokens", self.limits.tokens)

    def tokens_left(self) -> int:
        """The max_tokens to give the next model call."""
        return max(0, self.limits.tokens - self.tokens)

    def check_time(self) -> None:
        if self.remaining_s <= 0:
            raise BudgetExceeded("seconds", self.limits.seconds)

    def used(self) -> dict[str, float]:
        return {"steps": self.steps, "tool_calls": self.tool_calls, "tokens": self.tokens,
                "seconds": round(self.elapsed_s, 3)}


def canonical(arguments: dict[str, Any]) -> str:
    """Arguments as sorted, compact JSON: {"b": 1, "a": 2} and {"a": 2, "b": 1} are one call."""
    return json.dumps(arguments, sort_keys=True, separators=(",", ":"), default=str)
