"""The agent with its checks, as the service, the command line and the eval runner build it from
settings: one backend and one embedder shared by the agent's router and indexes and by the verifiers.
Here, above both, because the agent only knows its checks by the protocol it owns (`agent.checks`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from tansuo.agent.agent import Agent
from tansuo.agent.build import build_agent as build_unchecked
from tansuo.embedding import Embedder, default_embedder
from tansuo.llm import LLMBackend, make_backend
from tansuo.retrieval.hits import Progress
from tansuo.settings import Settings
from tansuo.verifiers.build import build_verifiers


async def build_agent(settings: Settings, *, backend: LLMBackend | None = None, embedder: Embedder | None = None,
                      progress: Progress | None = None, clock: Callable[[], datetime] = datetime.now,
                      default_corpus: bool = True) -> Agent:
    """Everything a turn needs, its checks included. The first start builds the default corpus, unless
    `default_corpus` is False (the service builds it in the background)."""
    backend = backend or make_backend(settings)  # first: a configuration error shows before any slow work
    embedder = embedder or default_embedder(settings)
    checks = build_verifiers(settings, embedder=embedder, backend=backend)
    return await build_unchecked(settings, backend=backend, embedder=embedder, checks=checks, progress=progress,
                                 clock=clock, default_corpus=default_corpus)
