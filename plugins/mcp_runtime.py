"""`mcp` plugins: an MCP server over stdio whose listed tools become plugins.

Each call opens its own session (the server process starts, answers, exits), so a
stuck or crashed server never outlives the call that used it. Listing is bounded by the manifest's
`timeout_s` (a server that never answers is a manifest problem, not a service that never starts), and
the process gets a minimal environment (PATH, HOME, SHELL, TERM) plus what the manifest's `env`
declares: never the service's secrets or another plugin's tokens.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from tansuo.plugins.manifest import ManifestProblem, McpRuntime, PluginManifest
from tansuo.plugins.plugin import Plugin, Runner
from tansuo.plugins.tool import ToolError, ToolSpec


@asynccontextmanager
async def _session(runtime: McpRuntime) -> AsyncIterator[Any]:
    # The SDK is imported here, not with the module: it is a second of every start that has no MCP plugin.
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import get_default_environment, stdio_client

    params = StdioServerParameters(command=runtime.command[0], args=runtime.command[1:],
                                   env={**get_default_environment(), **runtime.env})
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


async def mcp_plugins(manifest: PluginManifest, source: str) -> list[Plugin]:
    """List the server's tools; each becomes a plugin named `<manifest name>_<tool name>`."""
    runtime: McpRuntime = manifest.mcp  # type: ignore[assignment]
    try:
        listed = await asyncio.wait_for(_listed(runtime), manifest.timeout_s)
    except TimeoutError:
        raise ManifestProblem(source, "mcp.command", f"the server did not list its tools within "
                                                     f"{manifest.timeout_s:g}s (timeout_s)") from None
    except Exception as exc:
        raise ManifestProblem(source, "mcp.command",
                              f"cannot list the server's tools: {type(exc).__name__}: {exc}") from None
    wanted = set(runtime.tools or [t.name for t in listed])
    missing = wanted - {t.name for t in listed}
    if missing:
        raise ManifestProblem(source, "mcp.tools", f"the server has no tool(s) {sorted(missing)}")
    plugins = []
    for tool in (t for t in listed if t.name in wanted):
        spec = ToolSpec(name=f"{manifest.name}_{tool.name}", description=tool.description or manifest.description,
                        model_description=tool.description or manifest.model_description or manifest.description,
                        examples=manifest.examples, input_schema=tool.input_schema, returns=manifest.returns,
                        # the manifest's example calls belong to its one tool (`tansuo plugins test` runs them)
                        example_calls=manifest.example_calls if len(wanted) == 1 else [],
                        timeout_s=manifest.timeout_s, annotations=manifest.annotations)
        plugins.append(Plugin(spec, source, "mcp", _runner(runtime, tool.name)))
    return plugins


async def _listed(runtime: McpRuntime) -> list[Any]:
    async with _session(runtime) as session:
        return (await session.list_tools()).tools


def _runner(runtime: McpRuntime, tool_name: str) -> Runner:
    async def run(arguments: dict[str, Any]) -> Any:
        async with _session(runtime) as session:
            result = await session.call_tool(tool_name, arguments)
        texts = [c.text for c in getattr(result, "content", []) if getattr(c, "type", "") == "text"]
        if getattr(result, "is_error", False):
            raise ToolError(" ".join(texts) or "the MCP tool reported an error")
        structured = getattr(result, "structured_content", None)
        return structured if structured is not None else {"text": "\n".join(texts)}

    return run
