"""Tool calling on requests with gold calls (eval_sets/toolcalls), each run as a whole turn.

Splits: dev is every request the training generator wrote with seeds training never uses (held-out
values of the training wordings, and its hidden and dev wordings: all read while tuning); test is
test.jsonl, requests written apart from the generator and kept clear of training by the wall check
(evals.wall), never tuned on.

A call is right when its tool is the gold one and its result has the gold call's essence (the same
converted value whether "lb" or "pound" was written, the same product for "12*7" and "7*12"; see
evals.tool_values), or, for a tool that cannot run here (a web plugin offline), when its arguments
equal the gold ones (a free-text query: when it holds every word of the gold query). Negatives are
right when the turn calls no tool (and searches, for a question about documents, and only then)."""

from __future__ import annotations

import json
import re
import time
from typing import Any

from tansuo.agent.turn import TurnRequest
from tansuo.evals.context import EVAL_SETS, EvalContext, pipeline_agent
from tansuo.evals.sets import Item, ItemResult, read_jsonl
from tansuo.evals.tool_values import essence

FILES = {"heldout.jsonl": "dev", "hidden.jsonl": "dev", "dev.jsonl": "dev", "test.jsonl": "test"}


class ToolCallSet:
    name = "tool-calls"
    stage = "pipeline"
    metric = "right tool and arguments (same result as the gold call)"
    description = ("tool requests (built-in tools, plugins, small talk, searches, requests no tool fits) "
                   "through a whole turn")
    splits = ("dev: the generator's held-out, hidden and dev requests (802); test: test.jsonl (220), written "
              "apart from training")

    def items(self) -> list[Item]:
        out = []
        for name, split in FILES.items():
            for r in read_jsonl(EVAL_SETS / "toolcalls" / name):
                category = r["tool"] if r["kind"] in ("call", "multi") else r["kind"]
                out.append(Item(r["id"], category, r, split))
        return out

    async def run(self, ctx: EvalContext, item: Item) -> ItemResult:
        agent = await pipeline_agent(ctx)
        data = item.data
        plugin = bool(data["tool"]) and data["template"].startswith("plugin.")
        started = time.perf_counter()
        events = [e async for e in agent.run(TurnRequest(data["request"], profile="plugins" if plugin else None))]
        ms = (time.perf_counter() - started) * 1000
        called = [e for e in events if e.type == "tool_call"]
        returned = {e.call_id: e for e in events if e.type == "tool_result"}
        searched = any(e.type == "plan" and e.action == "search" for e in events)
        made = [{"name": c.name, "arguments": c.arguments} for c in called]
        if data["kind"] in ("answer", "decline", "search"):
            right = not called and (searched if data["kind"] == "search" else not searched)
            return ItemResult(item.id, item.category, float(right), ms, {"calls": made, "searched": searched,
                                                                        "right_tool": right})
        right_tool = bool(called) and called[0].name == data["tool"]
        results = [(c, returned.get(c.call_id)) for c in called]
        matched = [await _matches(agent, gold, results) for gold in data["calls"]]
        right = right_tool and all(matched)
        return ItemResult(item.id, item.category, float(right), ms,
                          {"calls": made, "gold": data["calls"], "right_tool": right_tool, "matched": matched})


async def _matches(agent, gold: dict[str, Any], results) -> bool:
    """A made call with the gold call's tool and the same result (or the same arguments when the gold
    call cannot run here)."""
    offer = agent.deps.router.find(gold["name"])
    expected = await offer.call(gold["arguments"]) if offer is not None else None
    for call, result in results:
        if call.name != gold["name"]:
            continue
        if expected is not None and expected.ok:
            if result is not None and result.ok and _same(essence(call.name, result.content),
                                                          essence(call.name, expected.content)):
                return True
        elif _same_arguments(call.arguments, gold["arguments"]):
            return True
    return False


def _same_arguments(made: dict[str, Any], gold: dict[str, Any]) -> bool:
    if _normal(made) == _normal(gold):
        return True
    query = gold.get("query")
    if isinstance(query, str) and set(gold) == {"query"} and isinstance(made.get("query"), str):
        return set(_words(query)) <= set(_words(made["query"]))
    return False


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _same(a: Any, b: Any) -> bool:
    return _normal(a) == _normal(b)


def _normal(value: Any) -> str:
    """Key order, case and float noise do not matter."""
    def fix(v: Any) -> Any:
        if isinstance(v, float):
            return round(v, 6)
        if isinstance(v, str):
            return v.strip().lower()
        if isinstance(v, dict):
            return {k: fix(x) for k, x in v.items()}
        if isinstance(v, list):
            return [fix(x) for x in v]
        return v
    return json.dumps(fix(value), sort_keys=True, default=str)
