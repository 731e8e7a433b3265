"""Calling tools: the planner's calls run concurrently under the budget; each result is a numbered
source that reads as a sentence, and a plugin's text is cleaned like any retrieved text."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from tansuo.agent import searching
from tansuo.agent.deps import AgentDeps
from tansuo.agent.events import ToolCalled, ToolReturned
from tansuo.agent.planner import Call
from tansuo.agent.router import Offer
from tansuo.agent.turn import Outcome, Turn
from tansuo.plugins import readout


async def call_tools(turn: Turn, calls: Sequence[Call], offers: Sequence[Offer],
                     deps: AgentDeps | None = None) -> list[Outcome]:
    """Run the calls concurrently; each is counted against the budget before it starts. Plugin results
    are cleaned of instructions (with `deps.verifiers`) before anything reads them."""
    by_name = {o.spec.name: o for o in offers}
    for call in calls:
        turn.budget.tool_call(call.name, call.arguments)
    outcomes = await asyncio.gather(*(_call_one(turn, i, call, by_name.get(call.name), deps)
                                      for i, call in enumerate(calls)))
    turn.outcomes += outcomes
    return list(outcomes)


async def _call_one(turn: Turn, i: int, call: Call, offer: Offer | None, deps: AgentDeps | None) -> Outcome:
    call_id = f"call_{turn.budget.tool_calls}_{i}"
    turn.emit(ToolCalled, call_id=call_id, name=call.name, arguments=call.arguments)
    if offer is None:  # the schema only names offered tools; a scripted or foreign reply may not
        ok, content, error, elapsed = False, None, f"{call.name!r} was not offered in this turn", 0.0
    else:
        timeout = max(0.1, min(offer.spec.timeout_s + 1, turn.budget.remaining_s))
        try:
            result = await asyncio.wait_for(offer.call(call.arguments), timeout)
            ok, content, error, elapsed = result.ok, result.content, result.error, result.elapsed_ms
        except TimeoutError:
            ok, content, error, elapsed = False, None, f"no result within {timeout:.0f}s", timeout * 1000
        if ok and deps is not None and offer.kind == "plugin":  # built-in tools compute; plugins relay text
            content = await searching.clean_content(deps, turn, content, f"the {call.name} result")
        elif not ok and offer.kind == "plugin" and error:  # so does a plugin's error: data, like its results
            cleaned = error if deps is None else await searching.clean_content(deps, turn, error,
                                                                               f"the {call.name} error")
            error = fenced_error(cleaned)
    turn.emit(ToolReturned, call_id=call_id, name=call.name, ok=ok, content=content, error=error,
              elapsed_ms=round(elapsed, 1))
    reading = readout.read(offer.reads if offer else None, call.name, call.arguments, content) if ok else ""
    n = turn.book.add_tool_result(call_id, call.name, call.arguments, content, reading) if ok else None
    if not ok:
        outside = offer is not None and offer.kind == "plugin"
        # the trace keeps what the plugin said; the answer and its prompt get our summary of it
        turn.problem("tool_error", f"the {call.name} tool failed: {error}",
                     shown=f"the {call.name} plugin gave no result" if outside else None)
    return Outcome(call.name, call.arguments, ok, content, error, n)


def fenced_error(text: str, limit: int = 300) -> str:
    """A plugin's error text as data for the model: one line, bounded, inside a fence it cannot close."""
    line = " ".join(str(text).split())[:limit].replace("<", "\u2039").replace(">", "\u203a")
    return f"<plugin_error>{line}</plugin_error>"
