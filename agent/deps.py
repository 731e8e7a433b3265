"""What every step of a turn is given: the model, the tool router, the document index, the checks,
and the options they run under."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from tansuo.agent.answer import Writing
from tansuo.agent.budget import Limits
from tansuo.agent.checks import Checks
from tansuo.agent.extract import CopyOptions
from tansuo.agent.router import ToolRouter
from tansuo.llm import LLMBackend
from tansuo.retrieval.hits import Index


@dataclass(frozen=True)
class AgentOptions:
    limits: Limits = field(default_factory=Limits)
    search_k: int = 4  # chunks kept per query at most
    min_similarity: float = 0.25  # cosine of query and chunk below which a hit is not used
    search_threshold: float = 0.3  # best cosine below which search is not offered to the planner
    relevance_margin: float = 0.2  # hits this far below the best one's cosine are not used
    judge: bool | None = None  # the model judges relevance too; None: by profile (not for "tools")
    writing: Writing = field(default_factory=Writing)
    copy: CopyOptions | None = field(default_factory=CopyOptions)  # answer by copy; None: always write prose
    copy_profiles: tuple[str, ...] = ("tools",)  # the weak models' profile answers by copy
    tool_margin: float = 0.15  # for them, a built-in tool this far below the documents' best match is not offered
    plan_tokens: int = 256
    answer_tokens: int = 200
    clock: Callable[[], datetime] = datetime.now
    # How strongly the tool adapter applies to the route and to the call-writing prompt (1: as trained).
    route_scale: float = 1.0
    calls_scale: float = 1.0


@dataclass
class AgentDeps:
    backend: LLMBackend
    router: ToolRouter | None = None
    index: Index | None = None
    profile: str = "tools"
    options: AgentOptions = field(default_factory=AgentOptions)
    verifiers: Checks | None = None
