"""Tool calling on requests made by the training generator with seeds training never uses
(eval_sets/toolcalls): the held-out values of the training wordings, the hidden wordings, and the
dev wordings (where settings such as the adapter's scales are chosen, so the hidden set stays a test).
Each request runs as a whole turn; a call is right when its tool is the gold one and its result
equals the gold call's result (so "lb" and "pound", "12*7" and "7*12" are both right), or, for a
tool that cannot run here (a web plugin offline), when its arguments equal the gold ones. The
negatives are right when the turn calls no tool (and searches, for a question about documents)."""

from __future__ import annotations

import json
import time
from typing import Any

from agent.turn import TurnRequest
from evals.context import EVAL_SETS, EvalContext, pipeline_agent
from evals.sets import Item, ItemResult, read_jsonl

_SPLITS = {"heldout": ("tool-calls", "held-out values"), "hidden": ("tool-calls-hidden", "hidden wordings"),
           "dev": ("tool-calls-dev", "dev wordings, for choosing settings")}  # split -> set name, what it holds
_VOLATILE = ("file",)  # result fields that differ between two runs of the same call (a plot's file name)


class ToolCallSet:
    stage = "pipeline"
    metric = "right tool and arguments (same result as the gold call)"

    def __init__(self, split: str) -> None:
        self.split = split
        self.name, what = _SPLITS[split]
        self.description = f"generated tool requests ({what}), built-in tools, plugins and negatives, through a whole turn"

    def items(self) -> list[Item]:
        rows = read_jsonl(EVAL_SETS / "toolcalls" / f"{self.split}.jsonl")
        return [Item(r["id"], r["tool"] if r["kind"] in ("call", "multi") else r["kind"], r) for r in rows]

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
            if result is not None and result.ok and _same(result.content, expected.content):
                return True
        elif _normal(call.arguments) == _normal(gold["arguments"]):
            return True
    return False


def _same(a: Any, b: Any) -> bool:
    return _normal(_stable(a)) == _normal(_stable(b))


def _stable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if k not in _VOLATILE}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


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
