"""The agent as the service, CLI and eval runner build it from settings: one embedder shared by
the tool router, the plugin index and the document index; the backend passed in or made here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from tansuo.agent.agent import Agent
from tansuo.agent.answer import Writing
from tansuo.agent.budget import Limits
from tansuo.agent.checks import Checks
from tansuo.agent.demos import DEMO_K, DemoBank
from tansuo.agent.deps import AgentDeps, AgentOptions
from tansuo.agent.extract import CopyOptions
from tansuo.agent.router import RouterOptions, ToolRouter
from tansuo.embedding import Embedder
from tansuo.llm import LLMBackend
from tansuo.llm.adapter import demos_path
from tansuo.plugins.builtin import toolbox_from_settings
from tansuo.plugins.catalog import load_catalog
from tansuo.retrieval.build import open_index
from tansuo.retrieval.hits import Progress
from tansuo.settings import Settings


def agent_options(settings: Settings, clock: Callable[[], datetime] = datetime.now) -> AgentOptions:
    copy = settings.copy_extra_body or None if settings.backend == "openai" else None
    return AgentOptions(
        limits=Limits(steps=settings.max_steps, tool_calls=settings.max_tool_calls,
                      tokens=settings.max_turn_tokens, seconds=settings.turn_timeout_s),
        search_k=settings.search_k, min_similarity=settings.min_similarity,
        search_threshold=settings.search_threshold,
        writing=Writing(context_tokens=settings.context_tokens, copy_options=copy), clock=clock,
        copy=CopyOptions(chooser=settings.copy_chooser),
        route_scale=settings.tool_adapter_route_scale, calls_scale=settings.tool_adapter_calls_scale)


def adapter_demos(backend: LLMBackend, embedder: Embedder, k: int = DEMO_K,
                  vectors_dir: Path | None = None) -> DemoBank | None:
    """The loaded tool adapter's training requests, as demonstrations for the planner's route and call prompts;
    None for a backend without one (an adapter trained before they were recorded has none)."""
    adapter = backend.tool_adapter
    path = demos_path(adapter) if adapter is not None and k > 0 else None
    if path is None or not path.is_file():
        return None
    return DemoBank.from_jsonl(path, embedder, k=k, vectors_dir=vectors_dir)


def vectors_dir(settings: Settings) -> Path:
    """Where vectors computed once per content are kept (the demonstration bank, tools' examples)."""
    return settings.data_dir / "vectors"


async def build_agent(settings: Settings, *, backend: LLMBackend, embedder: Embedder, checks: Checks | None,
                      progress: Progress | None = None, clock: Callable[[], datetime] = datetime.now,
                      default_corpus: bool = True) -> Agent:
    """Everything a turn needs but its checks, which come in (`tansuo.server.assembly` wires the
    verifiers). The first start builds the default corpus (with `progress`), unless `default_corpus`
    is False: the caller builds it (the service, in the background)."""
    catalog = await load_catalog(settings, embedder=embedder)
    kept = vectors_dir(settings)
    router = ToolRouter(toolbox_from_settings(settings, clock=clock), embedder, plugins=catalog.report.plugins,
                        plugin_index=catalog.index,
                        options=RouterOptions(tool_threshold=settings.tool_threshold,
                                              plugin_threshold=settings.plugin_threshold),
                        demos=adapter_demos(backend, embedder, settings.tool_demos, kept), vectors_dir=kept)
    index = open_index(settings, embedder=embedder, progress=progress,
                       with_default_corpus=None if default_corpus else False)
    deps = AgentDeps(backend=backend, router=router, index=index,
                     profile=settings.model_profile, options=agent_options(settings, clock),
                     verifiers=checks)
    return Agent(deps)
