"""`tansuo ask`: one turn of the agent, its answer streamed, then its sources and its trace."""

from __future__ import annotations

import json
from typing import Any, TextIO

from agent.events import (
    AnswerDelta,
    Checked,
    Event,
    Planned,
    Problem,
    Searched,
    ToolCalled,
    ToolReturned,
    TurnEnded,
)
from agent.service import build_agent
from agent.turn import TurnRequest
from tansuo.errors import TansuoError
from tansuo.settings import Settings


async def ask(settings: Settings, question: str, *, profile: str | None, out: TextIO, err: TextIO,
              as_json: bool = False, progress=None) -> TurnEnded:
    """Run the turn; print the answer as it streams (or JSON lines of every event), then the rest."""
    from retrieval.index import IndexMismatch
    from retrieval.storage import IndexCorrupt

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
            out.flush()
    finally:
        await agent.deps.backend.aclose()
    end = trace[-1]
    assert isinstance(end, TurnEnded)
    if not as_json:
        print_summary(end, trace, out, err)
    return end


def print_summary(end: TurnEnded, trace: list[Event], out: TextIO, err: TextIO) -> None:
    streamed = "".join(e.text for e in trace if isinstance(e, AnswerDelta)).strip()
    if not streamed:  # no model answer (a fallback after a failure): print the final text
        out.write(end.answer)
    elif end.answer != streamed:  # citations were checked or added after streaming
        out.write("\n\nWith citations: " + end.answer)
    out.write("\n")
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
              f"{end.timings.get('model_ms', 0) / 1000:.2f}s in the model"
              + ("" if end.complete else "; INCOMPLETE") + "]\n")
    out.flush()
    err.flush()


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
    return None


def _short(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit - 1] + "…"
