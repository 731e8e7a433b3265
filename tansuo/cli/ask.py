"""`tansuo ask`: one turn of the agent, its answer streamed, then its sources and its trace."""

from __future__ import annotations

import json
from typing import Any, TextIO

from tansuo.agent.events import (
    AnswerDelta,
    AnswerRevised,
    Checked,
    Event,
    Planned,
    Problem,
    Searched,
    ToolCalled,
    ToolReturned,
    TurnEnded,
    Verified,
)
from tansuo.agent.turn import TurnRequest
from tansuo.errors import TansuoError
from tansuo.server.assembly import build_agent
from tansuo.settings import Settings


async def ask(settings: Settings, question: str, *, profile: str | None, out: TextIO, err: TextIO,
              as_json: bool = False, progress=None) -> TurnEnded:
    """Run the turn; print the answer as it streams (or JSON lines of every event), then the rest."""
    from tansuo.retrieval.hits import IndexMismatch
    from tansuo.retrieval.storage import IndexCorrupt

    try:
        agent = await build_agent(settings, progress=progress)
    except (IndexMismatch, IndexCorrupt) as exc:
        raise TansuoError(str(exc)) from None
    trace: list[Event] = []
    try:
        async for event in agent.run(TurnRequest(question, profile=profile)):
            trace.append(event)
            if as_json:
                out.write(json.dumps(event.to_dict(), default=str, ensure_ascii=False) + "\n")
            elif isinstance(event, AnswerDelta):
                out.write(event.text)
            elif isinstance(event, AnswerRevised):
                out.write("\n\n(a check found a problem; the answer is written again)\n\n" if event.restart
                          else event.text)
            out.flush()
    finally:
        await agent.deps.backend.aclose()
    end = trace[-1] if trace else None
    if not isinstance(end, TurnEnded):  # the agent always ends with TurnEnded or raises: a bug if not
        raise RuntimeError("the turn ended without its last event")
    if not as_json:
        print_summary(end, trace, out, err)
    return end


def print_summary(end: TurnEnded, trace: list[Event], out: TextIO, err: TextIO) -> None:
    out.write("\n")
    if end.verdicts:
        out.write("\nChecks: " + "; ".join(verdict_line(v) for v in end.verdicts) + "\n")
    listed = end.sources or end.consulted
    if listed:
        out.write("\nSources:\n" if end.sources else "\nConsulted (the answer cites none of them):\n")
        for s in listed:
            date = f", {s.date.date().isoformat()}" if s.date else ""
            out.write(f"  [{s.n}] {s.title} ({s.source}{date}; {s.chunk_id})\n")
    err.write("\nTrace:\n")
    for event in trace:
        line = trace_line(event)
        if line:
            err.write(f"  {event.t_ms / 1000:7.2f}s  {line}\n")
    used = end.budget
    err.write(f"[{used.get('steps', 0):g} steps, {used.get('tool_calls', 0):g} tool calls, "
              f"{used.get('tokens', 0):g} tokens generated, {end.timings.get('total_ms', 0) / 1000:.2f}s in all, "
              f"{end.timings.get('model_ms', 0) / 1000:.2f}s in the model, "
              f"{end.timings.get('verify_ms', 0) / 1000:.2f}s checking"
              + ("" if end.complete else "; INCOMPLETE") + "]\n")
    out.flush()
    err.flush()


def verdict_line(verdict: dict[str, Any]) -> str:
    """'factuality pass (2 claims, 1 repointed)' — the verdict as one short phrase."""
    scores, flags = verdict.get("scores", {}), [f for f in verdict.get("flags", ()) if f]
    detail = []
    if verdict["verifier"] == "factuality":
        detail.append(f"{scores.get('claims', 0):g} claims, {scores.get('unsupported', 0):g} unsupported")
    detail += flags
    if verdict.get("stage") not in (None, "answer"):
        detail.append(verdict["stage"])
    return f"{verdict['verifier']} {verdict['action']}" + (f" ({', '.join(detail)})" if detail else "")


def trace_line(event: Event) -> str | None:
    if isinstance(event, Planned):
        return f"plan: {event.action} {_short(event.detail)}" if event.detail else f"plan: {event.action}"
    if isinstance(event, Searched):
        return f"search {event.query!r}: kept {event.kept} " + " ".join(f"[{s.n}]" for s in event.hits)
    if isinstance(event, ToolCalled):
        return f"call {event.name}({_short(event.arguments)})"
    if isinstance(event, ToolReturned):
        body = _short(event.content) if event.ok else f"ERROR {event.error}"
        return f"result {event.name} ({event.elapsed_ms:.0f} ms): {body}"
    if isinstance(event, Checked):
        return f"check step {event.step}: {'ok' if event.ok else 'not answered, retry ' + str(event.retry)}"
    if isinstance(event, Problem):
        return f"problem ({event.kind}): {event.message}"
    if isinstance(event, Verified):
        line = f"check {verdict_line(event.to_dict())}"
        return line + (f": {event.reason}" if event.reason else "") + f" ({event.elapsed_ms:.0f} ms)"
    return None


def _short(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit - 1] + "…"
