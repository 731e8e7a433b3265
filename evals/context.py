"""What the sets of one run share, built when first asked for: the embedder, the model backend,
the news corpus's index. Everything lives under the run's folder or is passed in (tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tansuo.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
EVAL_SETS = ROOT / "eval_sets"


@dataclass
class EvalContext:
    settings: Settings
    work_dir: Path  # scratch space of the run (indexes built for sets)
    embedder: Any = None
    backend: Any = None
    _cache: dict[str, Any] = field(default_factory=dict)

    def get_embedder(self):
        if self.embedder is None:
            from tansuo.embedding import default_embedder

            self.embedder = default_embedder(self.settings)
        return self.embedder

    def get_backend(self):
        if self.backend is None:
            from tansuo.llm import make_backend

            self.backend = make_backend(self.settings)
        return self.backend

    def news_index(self):
        """The dated news corpus (eval_sets/news), indexed once per run."""
        if "news" not in self._cache:
            from tansuo.retrieval.build import make_index
            from tansuo.retrieval.index import DocumentIndex
            from tansuo.retrieval.loaders import load_path

            if self.settings.index_server:  # TANSUO_INDEX_URI names a Milvus server: the same set on it
                index = make_index(self.settings, self.get_embedder(), name="eval_news")
            else:
                index = DocumentIndex(self.work_dir / "news-index", self.get_embedder())
            index.add(load_path(EVAL_SETS / "news").documents)
            self._cache["news"] = index
        return self._cache["news"]

    def shared(self, key: str, build):
        """One object per run under `key` (a scorer, a verifier), built on first use."""
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    async def aclose(self) -> None:
        if self.backend is not None:
            await self.backend.aclose()


async def pipeline_agent(ctx: EvalContext):
    """The agent as the service builds it, on the run's news index (the default corpus is not built
    for an eval run), the run's backend and embedder."""
    if "agent" not in ctx._cache:
        from tansuo.server.assembly import build_agent

        ctx.news_index()
        settings = ctx.settings.model_copy(update={"index_dir": ctx.work_dir / "news-index",
                                                    "default_corpus": False, "data_dir": ctx.work_dir / "data"})
        ctx._cache["agent"] = await build_agent(settings, backend=ctx.get_backend(), embedder=ctx.get_embedder())
    return ctx._cache["agent"]


async def default_corpus_agent(ctx: EvalContext):
    """The agent on the default corpus, as `tansuo serve` builds it: its index lives where the
    service keeps it, so a machine that has served (or run this before) does not build it again."""
    if "default-agent" not in ctx._cache:
        from tansuo.server.assembly import build_agent

        settings = ctx.settings.model_copy(update={"index_dir": ctx.settings.effective_index_dir,
                                                    "default_corpus": True, "data_dir": ctx.work_dir / "data"})
        ctx._cache["default-agent"] = await build_agent(settings, backend=ctx.get_backend(),
                                                        embedder=ctx.get_embedder())
    return ctx._cache["default-agent"]
