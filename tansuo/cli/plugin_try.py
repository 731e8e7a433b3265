"""`tansuo plugins try NAME "a request"`: what a user's request does with one plugin, step by step:
where the plugin index ranks it, whether the router offers it to the model, the call the model
writes, the call's result, and the sentence of the answer that cites it. One real turn (profile
`plugins`) on the configured model; nothing is stored."""

from __future__ import annotations

import json
import re
from typing import Any, TextIO

from tansuo.agent.events import Planned, ToolCalled, ToolReturned, TurnEnded
from tansuo.agent.turn import TurnRequest
from tansuo.errors import TansuoError
from tansuo.server.assembly import build_agent
from tansuo.settings import Settings


async def try_plugin(settings: Settings, name: str, request: str, out: TextIO) -> bool:
    """Print each step; True when the model called the plugin and the call succeeded."""
    agent = await build_agent(settings.model_copy(update={"default_corpus": False}))
    try:
        router = agent.deps.router
        if name not in router.plugins:
            known = ", ".join(sorted(router.plugins)) or "none"
            raise TansuoError(f"no plugin named {name!r} (plugins: {known}; see `tansuo plugins list`)")
        _index_line(router, name, request, out)
        offered = [o.spec.name for o in router.offers(request, ("plugins",))]
        out.write(f"router:  {'offers it' if name in offered else 'does not offer it'} "
                  f"(offered: {', '.join(offered) or 'nothing'})\n")
        events = [e async for e in agent.run(TurnRequest(request, profile="plugins"))]
    finally:
        await agent.deps.backend.aclose()
    return _turn_lines(events, name, out)


def _index_line(router: Any, name: str, request: str, out: TextIO) -> None:
    index = router.plugin_index
    result = index.search(request, k=len(router.plugins))
    rank = next((i for i, hit in enumerate(result.hits, 1) if hit.name == name), None)
    score = next((hit.score for hit in result.hits if hit.name == name), float("nan"))
    out.write(f"index:   rank {rank} of {len(result.hits)}, score {score:.3f} "
              f"(the index abstains below {index.threshold:.2f})\n")


def _turn_lines(events: list[Any], name: str, out: TextIO) -> bool:
    for event in events:
        if isinstance(event, Planned):
            out.write(f"planner: {event.action} {json.dumps(event.detail, ensure_ascii=False, default=str)}\n")
    calls = [e for e in events if isinstance(e, ToolCalled) and e.name == name]
    results = {e.call_id: e for e in events if isinstance(e, ToolReturned)}
    if not calls:
        out.write(f"call:    the model did not call {name}\n")
    for call in calls:
        out.write(f"call:    {name}({json.dumps(call.arguments, ensure_ascii=False)})\n")
        result = results.get(call.call_id)
        shown = json.dumps(result.content, ensure_ascii=False, default=str) if result and result.ok \
            else f"ERROR {result.error if result else 'no result'}"
        out.write(f"result:  {shown[:300]}\n")
    end = next((e for e in events if isinstance(e, TurnEnded)), None)
    answer = end.answer if end else ""
    cited = [s.n for s in (end.sources if end else ()) if s.source == f"tool:{name}"]
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", answer) if any(f"[{n}]" in s for n in cited)]
    out.write(f"answer:  {' '.join(sentences) if sentences else answer}\n")
    return bool(calls) and all(results.get(c.call_id) and results[c.call_id].ok for c in calls)
