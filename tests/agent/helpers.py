"""An agent on the shipped scripted backend, with small test tools and a tiny document index."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from tansuo.agent.agent import Agent
from tansuo.agent.budget import Limits
from tansuo.agent.deps import AgentDeps, AgentOptions
from tansuo.agent.events import Event
from tansuo.agent.extract import CopyOptions
from tansuo.agent.router import RouterOptions, ToolRouter
from tansuo.agent.turn import TurnRequest
from tansuo.embedding import HashingEmbedder
from tansuo.llm.testing import Reply, ScriptedBackend
from tansuo.plugins.tool import ToolError
from tansuo.plugins.toolbox import Toolbox
from tansuo.retrieval.documents import Document
from tansuo.retrieval.index import DocumentIndex

NOW = datetime(2026, 11, 28, 12, 0)


def sample_toolbox() -> Toolbox:
    box = Toolbox()

    @box.tool(timeout_s=5, reads=lambda args, result: f"{args['a']:g} + {args['b']:g} = {result['sum']:g}.")
    def add(a: float, b: float) -> dict:
        """Add two numbers."""
        return {"sum": a + b}

    @box.tool(timeout_s=1)
    def slow(seconds: float) -> dict:
        """Wait, then answer (a tool that can time out)."""
        time.sleep(seconds)
        return {"waited": seconds}

    @box.tool(timeout_s=5)
    def broken(x: int) -> dict:
        """A tool whose service is down."""
        raise ToolError("the service behind this tool is down")

    return box


def documents() -> list[Document]:
    return [
        Document("d1", "Halden tram line", "/news/tram", "The Halden tram line opened on 3 March 2025. "
                 "It runs 12 km from the harbour to the university.", published=datetime(2025, 3, 3)),
        Document("d2", "Halden library hours", "/news/library", "The central library of Halden opens at "
                 "9:00 and closes at 20:00 on weekdays.", published=datetime(2025, 6, 1)),
    ]


def make_agent(replies: Sequence[Reply], tmp_path: Path | None = None, *, profile: str = "tools",
               limits: Limits | None = None, backend=None, judge: bool | None = None,
               copy: CopyOptions | None = None,
               docs: Sequence[Document] | None = None) -> tuple[Agent, ScriptedBackend]:
    """An agent on scripted replies over `docs` (default: two Halden news items); it writes prose
    unless `copy` (answer by copy) is given."""
    embedder = HashingEmbedder()
    backend = backend or ScriptedBackend(replies)
    router = ToolRouter(sample_toolbox(), embedder, options=RouterOptions(tool_k=3, tool_threshold=-1.0))
    index = None
    if tmp_path is not None:
        index = DocumentIndex(tmp_path / "index", embedder)
        index.add(documents() if docs is None else docs)
    options = AgentOptions(limits=limits or Limits(), min_similarity=0.0, search_threshold=-1.0, judge=judge,
                           relevance_margin=2.0, copy=copy,
                           clock=lambda: NOW)
    return Agent(AgentDeps(backend, router, index, profile, options)), backend


async def run(agent: Agent, question: str, **kwargs) -> list[Event]:
    return [e async for e in agent.run(TurnRequest(question, **kwargs))]


class SlowBackend(ScriptedBackend):
    """A scripted backend whose every reply takes `delay_s` (a model that is too slow)."""

    def __init__(self, replies: Sequence[Reply], delay_s: float) -> None:
        super().__init__(replies)
        self.delay_s = delay_s

    async def chat(self, request):
        await asyncio.sleep(self.delay_s)
        return await super().chat(request)


def of_type(events: Sequence[Event], kind: str) -> list[Event]:
    return [e for e in events if e.type == kind]


def call(*calls: tuple[str, dict]) -> list[dict]:
    """The planner's two replies for tool calls: the route (the first call's tool), then the calls."""
    return [{"use": calls[0][0]}, {"calls": [{"name": n, "arguments": a} for n, a in calls]}]


def search(*queries: str) -> list[dict]:
    return [{"use": "search"}, {"queries": list(queries)}]


ANSWER = {"use": "answer"}
