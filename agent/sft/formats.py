"""Samples as the conversations the model will see, built with the same code that builds them at
run time, so training and serving prompts cannot drift apart:
- route: the planner's choice among the options the router offers for this request
  (`planner.route_messages`) -> {"use": ...};
- fill: the chosen tool's call(s) (`planner.calls_messages`) -> {"calls": [...]};
- tools: the backend's generic tool prompt for a request with tools (`tansuo.llm.output`, what an
  OpenAI-style `tools` request and BFCL use) -> {"name": ..., "arguments": ...} or {"content": ...}.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from agent import planner
from agent.router import Offer, ToolRouter
from agent.sft.data import Sample
from tansuo.llm.output import plan_output
from tansuo.llm.types import ChatRequest, Message, Tool

# Document titles for the search option's preview, in the shape `steps.preview` gives them.
_TITLES = ("'Council approves new timetable' (news)", "'Library opening hours change' (notice)",
           "'Harbour works delayed' (news)", "'Ticket prices from July' (notice)", "'New mayor elected' (news)",
           "'Road closed after storm' (news)", "'Festival moves to October' (news)", "'Python tutorial' (docs)")
_REPLIES = {"answer": "Hello! I can search documents and use tools for maths, units, dates, tables and plots. "
                      "What would you like to know?",
            "decline": "Sorry, I can't do that: none of my tools can."}
# Long schemas (math, calendar, table) make the generic prompt over a thousand tokens, too slow to
# train on two cores: the generic format is learnt on the tools with short schemas.
MAX_TOOL_PROMPT_CHARS = 2800


@dataclass(frozen=True)
class Conversation:
    messages: tuple[Message, ...]
    target: str  # the assistant's reply: the JSON the constrained decoder would produce
    format: str  # route | fill | tools
    template: str


def conversations(samples: Sequence[Sample], router: ToolRouter, *, seed: int) -> list[Conversation]:
    rng = random.Random(seed)
    out: list[Conversation] = []
    for sample in samples:
        situation = _situation(sample, router, rng)
        out += _route_and_fill(sample, situation)
        tools = _tool_prompt(sample, router, rng)
        if tools is not None:
            out.append(tools)
    return out


def _situation(sample: Sample, router: ToolRouter, rng: random.Random) -> planner.Situation:
    plugin = sample.tool is not None and router.find(sample.tool) is not None and \
        router.find(sample.tool).kind == "plugin"
    modes = ("tools", "plugins", "search") if plugin else ("tools", "search")
    offers = router.offers(sample.request, modes)
    searchable = sample.kind == "search" or rng.random() < 0.5  # tool requests learn to pass search by
    preview = tuple(rng.sample(_TITLES, 3)) if searchable else ()
    today = date(2025, 1, 1) + timedelta(days=rng.randint(0, 700))
    return planner.Situation(question=sample.request, today=today.isoformat(), offers=offers, preview=preview,
                             search_score=0.5 if sample.kind == "search" else rng.uniform(0.1, 0.35),
                             can_search=bool(preview), single_tool=not plugin)


def _route_and_fill(sample: Sample, s: planner.Situation) -> list[Conversation]:
    choices = planner.options(s)
    wanted = {"call": sample.tool, "multi": sample.tool, "search": planner.SEARCH}.get(sample.kind, planner.ANSWER)
    if wanted not in choices or len(choices) < 2:
        return []  # the router did not offer it: nothing the model could learn here
    out = [Conversation(tuple(planner.route_messages(s, choices)), planner.dumps({"use": wanted}), "route",
                        sample.template)]
    if sample.kind in ("call", "multi"):
        chosen = next(o for o in s.offers if o.spec.name == sample.tool)
        calls = [{"name": n, "arguments": a} for n, a in sample.calls]
        out.append(Conversation(tuple(planner.calls_messages(s, chosen)), planner.dumps({"calls": calls}), "fill",
                                sample.template))
    return out


TOOL_PROMPT_SHARE = 0.4  # of the samples also shown in the generic tool prompt (the planner's formats matter most)


def _tool_prompt(sample: Sample, router: ToolRouter, rng: random.Random) -> Conversation | None:
    if sample.kind == "search" or rng.random() > TOOL_PROMPT_SHARE:
        return None
    offers: list[Offer] = router.offers(sample.request, ("tools", "plugins"))
    tools = [_tool(o) for o in offers if o.spec.name != sample.tool][: rng.randint(0, 2)]
    if sample.tool is not None:
        gold = router.find(sample.tool)
        tools.insert(rng.randint(0, len(tools)), _tool(gold))
    if not tools:
        return None
    request = ChatRequest(messages=[{"role": "user", "content": sample.request}], tools=tools, tool_choice="auto")
    messages = plan_output(request).messages
    if sum(len(str(m.get("content") or "")) for m in messages) > MAX_TOOL_PROMPT_CHARS:
        return None
    if sample.calls:
        name, arguments = sample.calls[0]
        target = planner.dumps({"name": name, "arguments": arguments})
    else:
        target = planner.dumps({"content": _REPLIES[sample.kind]})
    return Conversation(tuple(messages), target, "tools", sample.template)


def _tool(offer: Offer) -> Tool:
    return Tool(offer.spec.name, offer.spec.model_description, offer.spec.input_schema)
