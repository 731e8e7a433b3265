"""Built-in tool questions with exact answers (eval_sets/tools), through the whole pipeline. Right
when a tool computed the gold value (a table step that answers the question, not the table echoed)
and the answer states that value as its result: the gold value is stated and no other result is
(numbers the question gave, citation markers and dates do not count; "234.33" states 234.3333 to
the places written). The dev split is questions.jsonl; the test split, test.jsonl, was written
apart from training and is never tuned on."""

from __future__ import annotations

import re
import time
from datetime import date
from typing import Any

from tansuo.agent.turn import TurnRequest
from tansuo.evals.context import EVAL_SETS, EvalContext, pipeline_agent
from tansuo.evals.reading import WEEKDAYS, dates, decimals, numbers, same_number, states, strip_citations, weekdays
from tansuo.evals.sets import Item, ItemResult, read_jsonl
from tansuo.evals.tool_values import answers

FILES = {"dev": "questions.jsonl", "test": "test.jsonl"}


def stated(answer: str, question: str, expected: dict[str, Any]) -> bool:
    """The answer gives the gold value as its result, and no other."""
    text = strip_citations(answer)
    if expected["numeric"] is not None:
        want, tolerance = expected["numeric"], expected["tolerance"]
        given = [f.value for f in numbers(question)]
        found = [(f.value, decimals(text, f)) for f in numbers(text)]
        gold = [v for v, places in found if same_number(v, want, tolerance, places)]
        others = [v for v, places in found if not same_number(v, want, tolerance, places) and v not in given]
        return bool(gold) and not others
    gold_text = expected["answer"]
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", gold_text):
        said = {f.value for f in dates(text)} - {f.value for f in dates(question)}
        return said == {date.fromisoformat(gold_text)}
    if gold_text.lower() in WEEKDAYS:
        said = set(weekdays(text)) - set(weekdays(question))
        return said == {gold_text.lower()}
    rivals = [r for r in row_names(expected, question) if r.lower() != gold_text.lower()]
    return states(text, gold_text) and not any(states(text, r) for r in rivals)


def row_names(expected: dict[str, Any], question: str) -> list[str]:
    """The key column's values of the question's table (an answer naming them all names none)."""
    if expected.get("rows"):
        return list(expected["rows"])
    lines = [line for line in question.splitlines() if "," in line]  # the header, then the rows
    return [line.split(",", 1)[0].strip() for line in lines[1:]]


def computed(events: list, expected: dict[str, Any]) -> bool:
    """A tool result holds the gold value."""
    calls = {e.call_id: e for e in events if e.type == "tool_call"}
    for result in (e for e in events if e.type == "tool_result" and e.ok):
        call = calls.get(result.call_id)
        values = answers(result.name, call.arguments if call else {}, result.content)
        if any(_equal(v, expected) for v in values):
            return True
    return False


def _equal(value: Any, expected: dict[str, Any]) -> bool:
    if expected["numeric"] is not None:
        return isinstance(value, float) and same_number(value, expected["numeric"], expected["tolerance"], 0)
    if isinstance(value, date):
        return value.isoformat() == expected["answer"]
    return isinstance(value, str) and value == expected["answer"].lower()


class ToolQuestionsSet:
    name = "tools"
    stage = "pipeline"
    metric = "a tool computed the exact value and the answer states it as its result"
    description = "built-in tool questions (math, units, dates, tables) answered by a whole turn"
    splits = "dev: questions.jsonl (158); test: test.jsonl (159), written apart from training"

    def items(self) -> list[Item]:
        return [Item(r["id"], r["category"], r, split) for split, name in FILES.items()
                for r in read_jsonl(EVAL_SETS / "tools" / name)]

    async def run(self, ctx: EvalContext, item: Item) -> ItemResult:
        agent = await pipeline_agent(ctx)
        started = time.perf_counter()
        events = [e async for e in agent.run(TurnRequest(item.data["question"]))]
        ms = (time.perf_counter() - started) * 1000
        end = events[-1]
        called = [e.name for e in events if e.type == "tool_call"]
        by_tool = computed(events, item.data)
        in_answer = stated(end.answer, item.data["question"], item.data)
        return ItemResult(item.id, item.category, float(by_tool and in_answer), ms,
                          {"answer": end.answer[:300], "expected": item.data["answer"], "tools": called,
                           "right_tool": item.data["tool"] in called, "computed": by_tool, "stated": in_answer,
                           "complete": end.complete})
