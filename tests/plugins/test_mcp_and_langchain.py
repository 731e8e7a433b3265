"""An MCP server shipped in the tests, listed and called over stdio; a LangChain tool wrapped."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml
from langchain_core.tools import tool as langchain_tool

from tansuo.plugins.http_runtime import HostPolicy
from tansuo.plugins.langchain import plugin_from_langchain
from tansuo.plugins.registry import load_plugins

SERVER = Path(__file__).parent / "fixtures" / "mcp_server.py"


def mcp_manifest(tmp_path: Path, **mcp) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump({
        "name": "tiny", "kind": "mcp", "description": "A tiny MCP server.", "timeout_s": 30,
        "mcp": {"command": [sys.executable, str(SERVER)], **mcp}}))
    return path


async def test_mcp_tools_are_listed_and_called(tmp_path):
    report = await load_plugins([mcp_manifest(tmp_path)], policy=HostPolicy())
    assert not report.problems and set(report.plugins) == {"tiny_add", "tiny_shout"}
    add = report.plugins["tiny_add"]
    assert add.spec.input_schema["required"] == ["a", "b"] and add.spec.description == "Add two integers."
    result = await add.call({"a": 2, "b": 40})
    assert result.ok and result.content == {"result": 42}
    bad = await add.call({"a": "two", "b": 40})
    assert not bad.ok and "invalid arguments: a" in bad.error


async def test_mcp_manifest_naming_missing_tools_or_a_dead_server_is_a_problem(tmp_path):
    report = await load_plugins([mcp_manifest(tmp_path, tools=["add", "divide"])], policy=HostPolicy())
    assert not report.plugins and "mcp.tools" in str(report.problems[0]) and "divide" in str(report.problems[0])
    dead = tmp_path / "dead.yaml"
    dead.write_text(yaml.safe_dump({"name": "dead", "kind": "mcp", "description": "d",
                                    "mcp": {"command": ["/nonexistent/mcp-server"]}}))
    report = await load_plugins([dead], policy=HostPolicy())
    assert "mcp.command: cannot list the server's tools" in str(report.problems[0])


@langchain_tool
def word_count(text: str) -> int:
    """Count the words in a text."""
    return len(text.split())


async def test_a_langchain_tool_becomes_a_plugin():
    plugin = plugin_from_langchain(word_count, examples=["how many words in this sentence"])
    assert plugin.spec.name == "word_count" and plugin.spec.input_schema["required"] == ["text"]
    result = await plugin.call({"text": "one two three"})
    assert result.ok and result.content == {"text": "3"}
    assert not (await plugin.call({})).ok


async def test_an_mcp_server_gets_a_minimal_environment_and_its_declared_variables(tmp_path, monkeypatch):
    monkeypatch.setenv("TANSUO_OPENAI_API_KEY", "sk-service-secret")
    monkeypatch.setenv("OTHER_PLUGIN_TOKEN", "t0ken")
    path = tmp_path / "envprobe.yaml"
    path.write_text(yaml.safe_dump({
        "name": "envprobe", "kind": "mcp", "description": "Reports its environment.", "timeout_s": 30,
        "mcp": {"command": [sys.executable, str(SERVER.parent / "mcp_env_server.py")],
                "env": {"ENVPROBE_MODE": "test"}}}))
    report = await load_plugins([path], policy=HostPolicy())
    result = await report.plugins["envprobe_names"].call({})
    seen = set(result.content["result"])
    assert "ENVPROBE_MODE" in seen and "PATH" in seen
    assert not seen & {"TANSUO_OPENAI_API_KEY", "OTHER_PLUGIN_TOKEN"}


async def test_an_mcp_server_that_never_answers_is_a_problem_within_its_timeout(tmp_path):
    import time

    path = tmp_path / "hang.yaml"
    path.write_text(yaml.safe_dump({
        "name": "hang", "kind": "mcp", "description": "Never answers.", "timeout_s": 1,
        "mcp": {"command": [sys.executable, "-c", "import time; time.sleep(600)"]}}))
    started = time.monotonic()
    report = await load_plugins([path], policy=HostPolicy())
    assert time.monotonic() - started < 10
    assert not report.plugins and "did not list its tools within 1s" in str(report.problems[0])
