"""Tansuo as an MCP server, driven by the official SDK's client: over streamable HTTP at /mcp under
the service (scripted model: the tools' schemas, their results, their errors, the service's keys),
and over stdio through `tansuo mcp` on the real model (tests/server/test_real_service.py adds the
real model over HTTP)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from tansuo.embedding import HashingEmbedder
from tansuo.server.auth import KeyRing
from tests.agent.helpers import make_agent, search
from tests.conftest import make_settings
from tests.server.helpers import parts_for, serving

TRAM = [*search("Halden tram line opening"), "The tram line opened on 3 March 2025 [1]."]


@contextlib.contextmanager
def service(tmp_path: Path, replies, **overrides):
    agent, _ = make_agent(replies, tmp_path)
    settings = make_settings(tmp_path / "data", **overrides)
    with serving(settings, parts_for(settings, agent, HashingEmbedder())) as url:
        yield url, settings


@contextlib.asynccontextmanager
async def http_session(url: str, key: str | None = None) -> AsyncIterator[ClientSession]:
    client = create_mcp_http_client(headers={"Authorization": f"Bearer {key}"} if key else None)
    async with client, streamable_http_client(f"{url}/mcp", http_client=client) as (read, write), \
            ClientSession(read, write) as session:
        await session.initialize()
        yield session


def payload(result) -> object:
    """A tool result's structured content (the SDK wraps a list in {"result": ...})."""
    content = result.structured_content
    return content["result"] if isinstance(content, dict) and set(content) == {"result"} else content


def test_the_tools_over_http_as_a_host_sees_them(tmp_path: Path) -> None:
    async def check(url: str) -> None:
        async with http_session(url) as session:
            tools = {t.name: t for t in (await session.list_tools()).tools}
            assert set(tools) == {"search", "ask"}  # index_add is off unless enabled
            schema = tools["search"].input_schema
            assert schema["required"] == ["query"] and schema["properties"]["k"]["maximum"] == 20
            found = payload(await session.call_tool("search", {"query": "tram line", "k": 2}))
            assert found[0]["title"] == "Halden tram line" and found[0]["date"] == "2025-03-03"
            assert found[0]["citation_id"].startswith("d1#") and "12 km" in found[0]["text"]
            dated = payload(await session.call_tool("search", {"query": "tram", "after": "2025-05-01"}))
            assert [p["source"] for p in dated] == ["/news/library"]
            answer = payload(await session.call_tool("ask", {"question": "When did the tram line open?"}))
            assert "3 March 2025 [1]" in answer["answer"] and answer["sources"][0]["source"] == "/news/tram"
            assert answer["complete"] is True and {v["verifier"] for v in answer["verdicts"]} <= {
                "factuality", "recency", "harmlessness"}
            for bad in ({"query": "tram", "k": 0}, {"k": 3}, {"query": "tram", "after": "someday"},
                        {"query": "tram", "after": "2025-06-01", "before": "2025-01-01"}):
                refused = await session.call_tool("search", bad)
                assert refused.is_error and refused.content[0].text, bad  # an MCP error, the server lives on
            assert payload(await session.call_tool("search", {"query": "library"}))

    with service(tmp_path, TRAM) as (url, _):
        asyncio.run(check(url))


def test_http_mcp_needs_a_key_and_never_writes_to_the_shared_index(tmp_path: Path) -> None:
    async def check(url: str, key: str) -> None:
        async with http_session(url, key) as session:
            # index_add is enabled, but the index is every key's: over HTTP it is not offered
            assert {t.name for t in (await session.list_tools()).tools} == {"search", "ask"}
            assert (await session.call_tool("index_add", {"documents": []})).is_error
            denied = await session.call_tool("ask", {"question": "Plan my week", "profile": "agent"})
            assert denied.is_error and "may not use the profile 'agent'" in denied.content[0].text
            long = await session.call_tool("ask", {"question": "why? " * 1000})
            assert long.is_error and "the limit is 4000" in long.content[0].text

    with service(tmp_path, TRAM, api_keys="on", mcp_index_add=True, max_question_chars=4000) as (url, settings):
        key = KeyRing(settings.effective_api_keys_file).add("host", profiles=("tools",))
        hello = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
        refused = httpx.post(f"{url}/mcp", json=hello, headers={"Accept": "application/json, text/event-stream"})
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_api_key"
        asyncio.run(check(url, key))


def test_tansuo_mcp_over_stdio_on_the_real_model(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "ferry.md").write_text("# Skerry ferry\n\nThe first Skerry ferry leaves the harbour at 06:40 every day.\n")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("TANSUO_")},
           "TANSUO_DATA_DIR": str(tmp_path / "data"), "TANSUO_DEFAULT_CORPUS": "false", "TANSUO_N_CTX": "4096",
           "TANSUO_MCP_INDEX_ADD": "true"}
    tansuo = str(Path(sys.executable).parent / "tansuo")
    assert os.spawnve(os.P_WAIT, tansuo, [tansuo, "index", "add", str(docs)], env) == 0

    async def check() -> None:
        params = StdioServerParameters(command=tansuo, args=["mcp"], env=env)
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            assert {t.name for t in (await session.list_tools()).tools} == {"search", "ask", "index_add"}
            found = payload(await session.call_tool("search", {"query": "When does the Skerry ferry leave?"}))
            assert found and "06:40" in found[0]["text"] and found[0]["source"].endswith("ferry.md")
            added = payload(await session.call_tool("index_add", {"documents": [
                {"title": "Tram", "text": "The Halden tram runs every 10 minutes.", "published": "2025-09-01"},
                {"title": "Ferry", "text": "A replacement text.", "source": str(docs / "ferry.md")}]}))
            assert added["added"] == 2 and added["replaced"] == 0  # never the file's own document
            tram = payload(await session.call_tool("search", {"query": "How often does the tram run?", "k": 1}))
            assert tram[0]["source"] == "mcp:Tram" and tram[0]["date"] == "2025-09-01"
            answer = payload(await session.call_tool("ask", {"question": "What is 37 times 91?"},
                                                     read_timeout_seconds=300))
            assert "3,367" in answer["answer"] or "3367" in answer["answer"], json.dumps(answer)
            refused = await session.call_tool("ask", {"question": ""})
            assert refused.is_error

    asyncio.run(check())
