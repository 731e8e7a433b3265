"""The agent as the service, CLI and eval runner build it from settings: one embedder shared by
the tool router, the plugin index and the document index; the backend passed in or made here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from agent.agent import Agent
from agent.answer import Writing
from agent.budget import Limits
from agent.demos import DEMO_K, DemoBank
from agent.extract import CopyOptions
from agent.router import RouterOptions, ToolRouter
from agent.steps import AgentDeps, AgentOptions
from plugins.builtin import toolbox_from_settings
from plugins.catalog import load_catalog
from retrieval.index import Progress
from retrieval.service import open_index
from tansuo.embedding import Embedder, SentenceTransformerEmbedder, embedding_model_path
from tansuo.llm import LLMBackend, make_backend
from tansuo.llm.adapter import demos_path
from tansuo.settings import Settings
from verifiers.service import build_verifiers


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


def adapter_demos(backend: LLMBackend, embedder: Embedder, k: int = DEMO_K) -> DemoBank | None:
    """The loaded tool adapter's training requests, as demonstrations for the planner's route and call prompts;
    None for a backend without one (an adapter trained before they were recorded has none)."""
    adapter = getattr(backend, "tool_adapter", None)
    path = demos_path(adapter) if adapter is not None and k > 0 else None
    return DemoBank.from_jsonl(path, embedder, k=k) if path is not None and path.is_file() else None


async def build_agent(settings: Settings, *, backend: LLMBackend | None = None, embedder: Embedder | None = None,
                      progress: Progress | None = None, clock: Callable[[], datetime] = datetime.now) -> Agent:
    """Everything a turn needs. The first start builds the default corpus (with `progress`)."""
    backend = backend or make_backend(settings)  # first: a configuration error shows before any slow work
    embedder = embedder or SentenceTransformerEmbedder(embedding_model_path(settings))
    catalog = await load_catalog(settings, embedder=embedder)
    router = ToolRouter(toolbox_from_settings(settings, clock=clock), embedder, plugins=catalog.report.plugins,
                        plugin_index=catalog.index,
                        options=RouterOptions(tool_threshold=settings.tool_threshold,
                                              plugin_threshold=settings.plugin_threshold),
                        demos=adapter_demos(backend, embedder, settings.tool_demos))
    index = open_index(settings, embedder=embedder, progress=progress)
    deps = AgentDeps(backend=backend, router=router, index=index,
                     profile=settings.model_profile, options=agent_options(settings, clock),
                     verifiers=build_verifiers(settings, embedder=embedder, backend=backend))
    return Agent(deps)
