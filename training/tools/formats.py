"""Samples as the conversations the model will see, built with the same code that builds them at
run time, so training and serving prompts cannot drift apart:
- route: the planner's choice among the options the router offers for this request
  (`planner.route_messages`) -> {"use": ...};
- fill: the chosen tool's call(s) (`planner.calls_messages`) -> {"calls": [...]};
- tools: the backend's generic tool prompt for a request with tools (`tansuo.llm.output`, what an
  OpenAI-style `tools` request and BFCL use) -> {"name": ..., "arguments": ...} or {"content": ...}.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from tansuo.agent import planner
from tansuo.agent.router import ToolRouter
from tansuo.llm.output import plan_output
from tansuo.llm.types import ChatRequest, Message, Tool
from tansuo.plugins.tool import ToolSpec
from tansuo.training.tools.data import Sample

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
        out += _tool_prompts(sample, router, rng)
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


# Every sample but the searches is also shown in the generic tool prompt: at 0.4 (and 6% declines) the
# adapter declined functions it had not been trained on (BFCL simple 0.51 untuned -> 0.29; 0.59 now).
TOOL_PROMPT_SHARE = 1.0
MISMATCH_SHARE = 0.03  # of the tool requests also shown with only tools that do not fit (-> a reply, no call)
PARALLEL_SHARE = 0.3  # of the other generic prompts asked with parallel_tool_calls (-> {"calls": [...]})
# Tools that can do part of another's job: never offered as the "wrong" tool for it.
_OVERLAPS = {"table": {"math"}, "math": {"table"}, "plot": {"math"}}


def _tool_prompts(sample: Sample, router: ToolRouter, rng: random.Random) -> list[Conversation]:
    out = []
    if sample.kind == "multi" or rng.random() < TOOL_PROMPT_SHARE:  # few requests have several calls: all of them
        out.append(_tool_prompt(sample, router, rng, fits=True))
    if sample.tool is not None and rng.random() < MISMATCH_SHARE:
        out.append(_tool_prompt(sample, router, rng, fits=False))
    return [c for c in out if c is not None]


def _tool_prompt(sample: Sample, router: ToolRouter, rng: random.Random, *, fits: bool) -> Conversation | None:
    """The generic tool prompt. `fits`: the gold tool among up to two others; small talk and
    out-of-reach requests are shown with one or two tools and get a reply, not a call. Else only
    tools that cannot serve the request, so the reply declines: a model that only ever saw a fitting
    tool calls whatever it is given (BFCL's irrelevance category)."""
    if sample.kind == "search":
        return None
    calls_for = fits and sample.tool is not None
    unfit = _OVERLAPS.get(sample.tool or "", set()) | {sample.tool}
    specs = [o.spec for o in router.offers(sample.request, ("tools", "plugins"))]
    if not calls_for:  # the offered tools first (those most like the request), then any other
        others = list(router.toolbox.specs) if router.toolbox else []
        specs += rng.sample(others, len(others))
    # Extra tools only with short schemas: a long one pushes the prompt past the limit and the sample is lost.
    specs = [s for s in {s.name: s for s in specs if s.name not in unfit}.values() if _short(s)]
    tools = [_tool(spec) for spec in specs][: rng.randint(0 if calls_for else 1, 2)]
    if calls_for:
        tools.insert(rng.randint(0, len(tools)), _tool(router.find(sample.tool).spec))
    if not tools:
        return None
    parallel = (fits and sample.kind == "multi") or rng.random() < PARALLEL_SHARE
    request = ChatRequest(messages=[{"role": "user", "content": sample.request}], tools=tools, tool_choice="auto",
                          parallel_tool_calls=parallel)
    messages = plan_output(request).messages
    if sum(len(str(m.get("content") or "")) for m in messages) > MAX_TOOL_PROMPT_CHARS:
        return None
    calls = [{"name": n, "arguments": a} for n, a in sample.calls] if fits else []
    if not calls:
        target = planner.dumps({"content": _REPLIES["answer" if sample.kind == "answer" else "decline"]})
    elif parallel:
        target = planner.dumps({"calls": calls})
    else:
        target = planner.dumps(calls[0])
    return Conversation(tuple(messages), target, "tools", sample.template)


def _short(spec: ToolSpec) -> bool:
    return len(spec.model_description) + len(json.dumps(spec.input_schema)) < MAX_TOOL_PROMPT_CHARS // 3


def _tool(spec: ToolSpec) -> Tool:
    return Tool(spec.name, spec.model_description, spec.input_schema)
