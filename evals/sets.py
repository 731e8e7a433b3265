"""What an eval set is, and which there are. A set names its stage (what of the pipeline it
exercises), lists its items (each in the `dev` or the `test` split), runs one item and scores it;
the runner does the rest.

Splits: settings, templates, exemplars and thresholds are chosen on `dev` items, whose per-item
results anyone may read; a `test` run shows aggregates only (`tansuo eval run --split test`).
Sets written for this project split by hash of the question (a third dev), so one question is in
the same split in every set; sets with written test files (tools, tool-calls) use them; BFCL,
never tuned on here and reported like for like with its leaderboard, is test only."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Protocol

from tansuo.errors import TansuoError
from tansuo.evals.context import EVAL_SETS

SPLITS = ("dev", "test")


@dataclass(frozen=True)
class Item:
    id: str
    category: str
    data: dict[str, Any]
    split: str = "test"


def hash_split(key: str) -> str:
    """A third of the items 'dev', the rest 'test', by hash: the same rule that splits the harm
    sets (the request classifier trains on their dev third)."""
    from tansuo.verifiers.external import split_of

    return split_of(key)


@dataclass
class ItemResult:
    id: str
    category: str
    score: float  # 0..1 for this item (1: right)
    latency_ms: float
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None  # the item could not be run (counted as score 0)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "category": self.category, "score": self.score,
                "latency_ms": round(self.latency_ms, 2), "details": self.details, "error": self.error}


class EvalSet(Protocol):
    name: str
    stage: str  # pipeline | planner | retrieval | verifiers | cache
    description: str
    metric: str  # what `score` means, e.g. "recall@5"
    splits: str  # how its items are split, for `tansuo eval list`

    def items(self) -> list[Item]: ...

    async def run(self, ctx: Any, item: Item) -> ItemResult: ...


class JsonlSet:
    """The base of the sets whose items are the rows of one JSONL file under eval_sets/: a row's `id`,
    its category (the row's `category_field`), and its split: the row's own `split` when it has one
    ("dev", anything else is test), else by hash of its `question`."""

    file: str  # under eval_sets/
    category_field: str = "category"

    def rows(self) -> list[dict[str, Any]]:
        return read_jsonl(EVAL_SETS / self.file)

    def category(self, row: dict[str, Any]) -> str:
        return row[self.category_field]

    def items(self) -> list[Item]:
        return [Item(r["id"], self.category(r), r, _split_of(r)) for r in self.rows()]


def _split_of(row: dict[str, Any]) -> str:
    if "split" in row:
        return "dev" if row["split"] == "dev" else "test"
    return hash_split(row["question"])


def read_jsonl(path) -> list[dict[str, Any]]:
    import json

    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


class UnknownSet(TansuoError):
    pass


# name -> ("module:factory", arguments); imported when asked for (a set's imports can be heavy).
REGISTRY: dict[str, tuple[str, tuple]] = {
    "tools": ("tansuo.evals.tool_sets:ToolQuestionsSet", ()),
    "qa-news": ("tansuo.evals.qa_sets:NewsQaSet", ()),
    "qa-pydocs": ("tansuo.evals.qa_sets:PydocsQaSet", ()),
    "retrieval-news": ("tansuo.evals.builtin_sets:RetrievalSet", ()),
    "cache-pairs": ("tansuo.evals.builtin_sets:CachePairsSet", ()),
    "harm": ("tansuo.evals.builtin_sets:HarmSet", ()),
    "decompose": ("tansuo.evals.decompose_sets:DecomposeSet", ()),
    "fanoutqa-dev": ("tansuo.evals.decompose_sets:FanoutDevSet", ()),
    "tool-retrieval-bfcl": ("tansuo.evals.tool_retrieval_sets:ToolRetrievalSet", ()),
    "tool-calls": ("tansuo.evals.toolcall_sets:ToolCallSet", ()),
    "factuality": ("tansuo.evals.factuality_sets:FactualitySet", ()),
    "injection": ("tansuo.evals.injection_sets:InjectionSet", ()),
    **{f"bfcl-{c}": ("tansuo.evals.bfcl:BfclSet", (c,)) for c in (
        "simple_python", "multiple", "parallel", "parallel_multiple", "irrelevance", "live_simple",
        "live_multiple", "live_parallel", "live_parallel_multiple", "live_irrelevance")},
}


def get_set(name: str) -> EvalSet:
    target = REGISTRY.get(name)
    if target is None:
        raise UnknownSet(f"no eval set {name!r}; `tansuo eval list` shows them: {', '.join(sorted(REGISTRY))}")
    (path, args) = target
    module, factory = path.split(":")
    return getattr(importlib.import_module(module), factory)(*args)


def all_sets() -> list[EvalSet]:
    return [get_set(name) for name in REGISTRY]
