"""Built-in tool questions with exact answers (eval_sets/tools), through the whole pipeline: the
turn's answer must state the right value (numbers within a relative tolerance, "1,000" = "1000";
weekdays, names and dates as text, dates in any common spelling)."""

from __future__ import annotations

import re
import time

from agent.turn import TurnRequest
from evals.context import EVAL_SETS, EvalContext, pipeline_agent
from evals.sets import Item, ItemResult, read_jsonl
from verifiers.facts import find_dates

_NUMBER = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?")


def numbers_in(text: str) -> list[float]:
    return [float(m.group().replace(",", "")) for m in _NUMBER.finditer(text)]


def answer_matches(answer: str, expected: dict) -> bool:
    if expected["numeric"] is not None:
        want, tol = expected["numeric"], expected["tolerance"]
        return any(abs(x - want) <= tol * max(1.0, abs(want)) for x in numbers_in(answer))
    text = expected["answer"]
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return text in answer or text in {d.isoformat() for d in find_dates(answer)[0]}
    return text.lower() in answer.lower()


class ToolQuestionsSet:
    name = "tools"
    stage = "pipeline"
    metric = "exact answer (numbers within tolerance)"
    description = "built-in tool questions (math, units, dates, tables) answered by a whole turn"

    def items(self) -> list[Item]:
        return [Item(r["id"], r["category"], r) for r in read_jsonl(EVAL_SETS / "tools" / "questions.jsonl")]

    async def run(self, ctx: EvalContext, item: Item) -> ItemResult:
        agent = await pipeline_agent(ctx)
        started = time.perf_counter()
        events = [e async for e in agent.run(TurnRequest(item.data["question"]))]
        ms = (time.perf_counter() - started) * 1000
        end = events[-1]
        called = [e.name for e in events if e.type == "tool_call"]
        right = answer_matches(end.answer, item.data)
        return ItemResult(item.id, item.category, float(right), ms,
                          {"answer": end.answer[:300], "expected": item.data["answer"], "tools": called,
                           "right_tool": item.data["tool"] in called, "complete": end.complete})
