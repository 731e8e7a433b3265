"""Decomposition: the planner splits a task into steps (plan mode), scored against gold
sub-questions by meaning, without a model judge: a gold sub-question counts as asked when a step's
embedding is within cosine MATCH of it (one step may cover several, "the batting hand of each pick")
and the step keeps the names, numbers and dates the sub-question takes from the task (similarity
alone takes "the population of Oslo" for "the population of Copenhagen"). Names a sub-question gets
from an earlier answer cannot be in a plan: they are not asked for, and the sub-question is also
compared with them replaced by "them" ("the batting hand of Pat Burrell" is what "the batting hand
of each pick" asks).
Our own tasks (eval_sets/decompose) and FanOutQA's dev set, read from the installed `fanoutqa`
package's data file (install it with --no-deps; its documents are Wikipedia pages fetched live, so
only the decomposition is scored here)."""

from __future__ import annotations

import importlib.util
import json
import time
from datetime import date
from pathlib import Path

from tansuo.agent import planner
from tansuo.errors import TansuoError
from tansuo.evals.context import EvalContext
from tansuo.evals.sets import Item, ItemResult, JsonlSet, hash_split
from tansuo.verifiers.facts import Facts, facts

MATCH = 0.65  # cosine (all-MiniLM-L6-v2) at which a step asks a gold sub-question
PLAN_TOKENS = 320


class FanoutMissing(TansuoError):
    pass


async def plan_steps(ctx: EvalContext, question: str) -> list[str]:
    """The planner's steps for `question`, as the agent asks for them in plan mode."""
    situation = planner.Situation(question=question, today=date.today().isoformat(), can_plan=True)
    parsed, _ = await planner.ask_model(ctx.get_backend(), planner.steps_messages(situation),
                                        planner.steps_schema(), PLAN_TOKENS)
    return [s.task for s in planner.to_decision(planner.PLAN, parsed).steps]


def coverage(embedder, task: str, steps: list[str], gold: list[str]) -> tuple[float, list[float]]:
    """The share of gold sub-questions some step asks (at most MAX_STEPS of them can be asked: a plan
    has at most that many steps), and each gold sub-question's best cosine among the steps that keep
    its facts."""
    if not steps:
        return 0.0, [0.0] * len(gold)
    given = facts(task)
    step_vectors = embedder.embed(steps)
    step_facts = [facts(s) for s in steps]
    best = []
    for sub in gold:
        stated = facts(sub)
        needed = _from_task(stated, given)
        learned = stated.names - needed.names
        variants = [sub, _masked(sub, learned)] if learned else [sub]
        sims = (embedder.embed(variants) @ step_vectors.T).max(axis=0)
        keeps = [j for j, f in enumerate(step_facts) if not needed.missing_from(f)]
        best.append(max((float(sims[j]) for j in keeps), default=0.0))
    asked = sum(b >= MATCH for b in best)
    return min(1.0, asked / min(len(gold), planner.MAX_STEPS)), [round(b, 3) for b in best]


def _from_task(sub: Facts, task: Facts) -> Facts:
    """The facts of a sub-question that the task itself states."""
    named = frozenset(n for n in sub.names if not _only_name(n).missing_from(task))
    return Facts(sub.numbers & task.numbers, sub.dates & task.dates, named)


def _masked(text: str, names) -> str:
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, "them")
    return text


def _only_name(name: str) -> Facts:
    return Facts(frozenset(), frozenset(), frozenset([name]))


async def score_plan(ctx: EvalContext, item: Item, gold: list[str]) -> ItemResult:
    started = time.perf_counter()
    steps = await plan_steps(ctx, item.data["question"])
    ms = (time.perf_counter() - started) * 1000
    score, best = coverage(ctx.get_embedder(), item.data["question"], steps, gold)
    return ItemResult(item.id, item.category, score, ms, {"steps": steps, "gold": gold, "best_cosine": best})


class DecomposeSet(JsonlSet):
    name = "decompose"
    stage = "planner"
    metric = f"gold sub-questions asked by a plan step (cosine >= {MATCH})"
    description = "tasks in several parts (eval_sets/decompose): the planner's steps against gold sub-questions"
    splits = "by hash of the task: a third dev, two thirds test"

    file = "decompose/questions.jsonl"

    async def run(self, ctx: EvalContext, item: Item) -> ItemResult:
        return await score_plan(ctx, item, item.data["sub_questions"])


def fanout_path() -> Path:
    spec = importlib.util.find_spec("fanoutqa")
    if spec is None or not spec.submodule_search_locations:
        raise FanoutMissing("the fanoutqa package is not installed: .venv/bin/pip install --no-deps fanoutqa")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "fanout-final-dev.json"


class FanoutDevSet:
    name = "fanoutqa-dev"
    stage = "planner"
    metric = DecomposeSet.metric
    description = "FanOutQA dev questions (from the fanoutqa package): the planner's steps against its decomposition"
    splits = "FanOutQA's dev set, by hash of the question: a third our dev, two thirds our test"

    def items(self) -> list[Item]:
        rows = json.loads(fanout_path().read_text(encoding="utf-8"))
        return [Item(r["id"], _size(len(r["decomposition"])),
                     {"question": r["question"], "sub_questions": [d["question"] for d in r["decomposition"]]},
                     hash_split(r["question"]))
                for r in rows]

    async def run(self, ctx: EvalContext, item: Item) -> ItemResult:
        return await score_plan(ctx, item, item.data["sub_questions"])


def _size(n: int) -> str:
    return "2-4 sub-questions" if n <= 4 else "5-8 sub-questions" if n <= 8 else "9+ sub-questions"

