"""A loaded plugin: its spec and how to run it; every call comes back as a ToolResult."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import jsonschema

from tansuo.plugins.tool import ToolError, ToolSpec
from tansuo.plugins.toolbox import ToolResult

Runner = Callable[[dict[str, Any]], Awaitable[Any]]


@dataclass
class Plugin:
    spec: ToolSpec
    source: str  # the manifest file (or package) it came from
    kind: str
    runner: Runner

    async def call(self, arguments: dict[str, Any]) -> ToolResult:
        started = time.perf_counter()
        result = await self._call(arguments)
        result.elapsed_ms = (time.perf_counter() - started) * 1000
        return result

    async def _call(self, arguments: dict[str, Any]) -> ToolResult:
        try:
            jsonschema.validate(arguments, self.spec.input_schema)
        except jsonschema.ValidationError as exc:
            where = "/".join(str(p) for p in exc.absolute_path) or "arguments"
            return ToolResult(self.spec.name, False, error=f"invalid arguments: {where}: {exc.message}")
        try:
            content = await asyncio.wait_for(self.runner(arguments), self.spec.timeout_s)
        except TimeoutError:
            return ToolResult(self.spec.name, False, error=f"took longer than {self.spec.timeout_s:g}s and was stopped")
        except ToolError as exc:
            return ToolResult(self.spec.name, False, error=str(exc))
        return ToolResult(self.spec.name, True, content=content)
