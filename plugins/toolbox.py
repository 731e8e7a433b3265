"""The registry of built-in tools, and how a call runs: validated, isolated, time-limited.

Two error channels: what the model can fix (unknown tool, bad arguments, an
expression it wrote that the tool refuses, a timeout) comes back as a
`ToolResult` with `ok=False`, to be shown to the model; nothing here raises at the
caller for a bad call.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from tansuo.llm.types import Tool
from tansuo.plugins.readout import Reads
from tansuo.plugins.tool import ToolAnnotations, ToolError, ToolSpec, spec_from_function

MEMORY_HEADROOM_BYTES = 1 * 2**30  # address space a call may add to what the service maps


@dataclass
class ToolResult:
    name: str
    ok: bool
    content: Any = None
    error: str | None = None
    elapsed_ms: float = 0.0

    def to_message(self, call_id: str) -> dict[str, Any]:
        body = self.content if self.ok else {"error": self.error}
        return {"role": "tool", "tool_call_id": call_id, "content": json.dumps(body, default=str)}


@dataclass(frozen=True)
class _Entry:
    spec: ToolSpec
    model: type[BaseModel]
    fn: Callable[..., Any]
    warmup: Callable[[], Any] | None = None
    reads: Reads | None = None


class Toolbox:
    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._warmed: set[str] = set()

    def tool(self, fn: Callable[..., Any] | None = None, /, *, name: str | None = None,
             examples: list[str] | None = None, timeout_s: float = 10.0, returns: str = "a JSON object",
             annotations: ToolAnnotations | None = None,
             warmup: Callable[[], Any] | None = None,
             example_calls: dict[str, dict[str, Any]] | None = None,
             reads: Reads | None = None,
             ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register a function as a tool; it is returned unchanged.

        `warmup` runs once in this process before the first call, so that what it
        caches (a unit registry, say) is inherited by every isolated call. `reads` turns a result into
        the sentence a person sees (`plugins.readout`).
        """
        if fn is not None:
            raise TypeError("use @toolbox.tool() with parentheses")

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            spec, model = spec_from_function(fn, name=name, examples=examples, timeout_s=timeout_s,
                                             returns=returns, annotations=annotations, example_calls=example_calls)
            if spec.name in self._entries:
                raise ValueError(f"a tool named {spec.name!r} is already registered")
            self._entries[spec.name] = _Entry(spec, model, fn, warmup, reads)
            return fn

        return register

    @property
    def specs(self) -> list[ToolSpec]:
        return [e.spec for e in self._entries.values()]

    def reader(self, name: str) -> Reads | None:
        entry = self._entries.get(name)
        return entry.reads if entry is not None else None

    def llm_tools(self) -> list[Tool]:
        return [e.spec.to_llm_tool() for e in self._entries.values()]

    async def call(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        started = time.perf_counter()
        result = await self._call(name, arguments)
        result.elapsed_ms = (time.perf_counter() - started) * 1000
        return result

    async def _call(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        entry = self._entries.get(name)
        if entry is None:
            return ToolResult(name, False, error=f"unknown tool {name!r}; tools: {', '.join(self._entries)}")
        try:
            validated = entry.model.model_validate(arguments)
        except ValidationError as exc:
            return ToolResult(name, False, error=f"invalid arguments: {_describe(exc)}")
        kwargs = {field: getattr(validated, field) for field in type(validated).model_fields}
        if entry.warmup is not None and name not in self._warmed:
            await asyncio.to_thread(entry.warmup)
            self._warmed.add(name)
        ok, value = await asyncio.to_thread(run_isolated, entry.fn, kwargs, entry.spec.timeout_s)
        return ToolResult(name, True, content=value) if ok else ToolResult(name, False, error=value)


def _describe(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in exc.errors())


def run_isolated(fn: Callable[..., Any], kwargs: dict[str, Any], timeout_s: float) -> tuple[bool, Any]:
    """Run in a forked child with memory and CPU limits; kill it at the timeout."""
    ctx = multiprocessing.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(fn, kwargs, sender, timeout_s), daemon=True)
    child.start()
    sender.close()
    try:
        if not receiver.poll(timeout_s):
            return False, f"took longer than {timeout_s:g}s and was stopped"
        return receiver.recv()
    except EOFError:
        return False, "the tool crashed (out of memory or killed)"
    finally:
        receiver.close()
        if child.is_alive():
            child.kill()
        child.join()


def _child(fn: Callable[..., Any], kwargs: dict[str, Any], sender: Any, timeout_s: float) -> None:
    with open("/proc/self/statm") as f:
        mapped = int(f.read().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (mapped + MEMORY_HEADROOM_BYTES,) * 2)
    cpu = int(timeout_s) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    try:
        outcome: tuple[bool, Any] = (True, fn(**kwargs))
    except ToolError as exc:
        outcome = (False, str(exc))
    except MemoryError:
        outcome = (False, "the computation needed more memory than allowed")
    except Exception as exc:  # report, never crash the service
        outcome = (False, f"{type(exc).__name__}: {exc}")
    try:
        sender.send(outcome)
    except Exception as exc:  # an unpicklable result
        sender.send((False, f"the tool returned something that cannot be sent back: {exc}"))
    finally:
        sender.close()
        os._exit(0)
