"""Planning a step: the model routes (answer, search, a tool, a plan) under a schema, then fills in
what the choice needs; which tools a weak model is offered at all."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from tansuo.agent import answering, planner, searching
from tansuo.agent.deps import AgentDeps
from tansuo.agent.events import Planned
from tansuo.agent.model_calls import constrained
from tansuo.agent.planner import Decision
from tansuo.agent.router import Offer
from tansuo.agent.turn import Turn
from tansuo.llm import TOOLS_ADAPTER
from tansuo.retrieval.hits import Hit


async def plan(deps: AgentDeps, turn: Turn, offers: Sequence[Offer], preview: Sequence[str],
               results: Sequence[str] = (), *, allow_plan: bool = True, task: str | None = None,
               search_score: float = 0.0) -> Decision:
    """Route, then fill in what the chosen option needs; one step of the budget."""
    turn.budget.step()
    s = planner.Situation(question=task or turn.request.question, today=turn.today, history=turn.request.history,
                          offers=offers, preview=preview, search_score=search_score,
                          can_search="search" in turn.modes,
                          can_plan=allow_plan and "agent" in turn.modes, results=results,
                          single_tool=turn.profile == "tools")
    choices = planner.options(s)
    if deps.router is not None and deps.router.demos is not None and len(choices) > 1:
        # In a worker thread: the first request embeds the whole bank (seconds), off the event loop.
        s = replace(s, route_demos=await asyncio.to_thread(deps.router.demos.routes, s.question, choices))
    if choices == [planner.ANSWER]:  # nothing to choose between: no model call
        decision = planner.to_decision(planner.ANSWER, None)
    else:
        routed = await constrained(deps.backend, turn, planner.route_messages(s, choices),
                                   planner.route_schema(choices), max_tokens=deps.options.plan_tokens,
                                   adapter=(TOOLS_ADAPTER, deps.options.route_scale))
        decision = planner.to_decision(routed["use"], await _fill(deps, turn, s, routed["use"]))
    turn.emit(Planned, action=decision.action, detail={"options": choices, **planner.describe(decision)})
    return decision


async def _fill(deps: AgentDeps, turn: Turn, s: planner.Situation, choice: str) -> dict[str, Any] | None:
    if choice == planner.ANSWER:
        return None
    if choice == planner.SEARCH:
        return await constrained(deps.backend, turn, planner.queries_messages(s), planner.queries_schema(),
                                 max_tokens=deps.options.plan_tokens)
    if choice == planner.PLAN:
        return await constrained(deps.backend, turn, planner.steps_messages(s), planner.steps_schema(),
                                 max_tokens=deps.options.plan_tokens)
    chosen = next(o for o in s.offers if o.spec.name == choice)
    callable_offers = [chosen] if s.single_tool else [chosen, *(o for o in s.offers if o is not chosen)]
    return await constrained(deps.backend, turn, planner.calls_messages(s, chosen),
                             planner.calls_schema(callable_offers), max_tokens=deps.options.plan_tokens,
                             adapter=(TOOLS_ADAPTER, deps.options.calls_scale))


def offers_for(deps: AgentDeps, turn: Turn, request: str) -> list[Offer]:
    return deps.router.offers(request, turn.modes) if deps.router is not None else []


def tools_for_weak_model(deps: AgentDeps, turn: Turn, offers: Sequence[Offer], hits: Sequence[Hit],
                         preview: Sequence[str]) -> list[Offer]:
    """A weak model is offered a built-in tool only when the tool matches the request about as well as
    the documents do: "Is bool a subtype of int?" matches the reference far better than the math
    tool, and a 135M model offered both sometimes computes something anyway."""
    if not preview or not answering.copying(deps, turn):
        return list(offers)
    floor = searching.best_similarity(hits) - deps.options.tool_margin
    return [o for o in offers if o.kind != "tool" or o.score >= floor]
