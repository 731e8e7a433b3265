"""`tansuo ask`: one turn of the agent, its answer streamed, then its sources and its trace."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, TextIO

import httpx

from tansuo.agent.events import AnswerDelta, AnswerRevised, Event, TurnEnded
from tansuo.agent.turn import TurnRequest
from tansuo.cli.running import running_service
from tansuo.errors import TansuoError
from tansuo.server.assembly import build_agent
from tansuo.settings import Settings

RESTARTED = "\n\n(a check found a problem; the answer is written again)\n\n"
END_FIELDS = ("answer", "sources", "consulted", "budget", "complete", "timings", "verdicts")


async def ask(settings: Settings, question: str, *, profile: str | None, out: TextIO, err: TextIO,
              as_json: bool = False, progress=None, local: bool = False) -> bool:
    """Run the turn; print the answer as it streams (or JSON lines of every event), then the rest.
    A `tansuo serve` running on the same data dir answers it, unless `local`. True: the turn completed."""
    url = None if local else running_service(settings)
    if url is not None:  # called here, not in a thread: Ctrl-C stops it at once
        err.write(f"tansuo: asked the service running at {url} (--local runs the turn in this process)\n")
        return ask_service(url, question, profile=profile, out=out, err=err, as_json=as_json,
                           timeout_s=settings.turn_timeout_s + 60)
    return (await ask_here(settings, question, profile=profile, out=out, err=err, as_json=as_json,
                           progress=progress)).complete


async def ask_here(settings: Settings, question: str, *, profile: str | None, out: TextIO, err: TextIO,
                   as_json: bool = False, progress=None) -> TurnEnded:
    """The turn in this process: the model server, the embedder and the index started for it."""
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
                out.write(RESTARTED if event.restart else event.text)
            out.flush()
    finally:
        await agent.deps.backend.aclose()
    end = trace[-1] if trace else None
    if not isinstance(end, TurnEnded):  # the agent always ends with TurnEnded or raises: a bug if not
        raise RuntimeError("the turn ended without its last event")
    if not as_json:
        print_summary(end.to_dict(), [e.to_dict() for e in trace], out, err)
    return end


def ask_service(url: str, question: str, *, profile: str | None, out: TextIO, err: TextIO, as_json: bool,
                timeout_s: float) -> bool:
    """The turn on a running service, streamed with its trace; printed as `ask_here` prints it."""
    body: dict[str, Any] = {"model": "tansuo", "stream": True, "tansuo_events": True, "profile": profile,
                            "messages": [{"role": "user", "content": question}]}
    reading = _Reading(out, as_json, url)
    try:  # 127.0.0.1 directly: never through a proxy the environment names
        with httpx.Client(trust_env=False, timeout=httpx.Timeout(10.0, read=timeout_s)) as client, \
                client.stream("POST", f"{url}v1/chat/completions", json=body) as reply:
            if reply.status_code != 200:
                raise TansuoError(f"the service at {url} answered {reply.status_code}: {_refusal(reply)}")
            for line in reply.iter_lines():
                if line.startswith("data: {"):
                    reading.chunk(json.loads(line[6:]))
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise TansuoError(f"the service at {url} stopped answering: {exc or type(exc).__name__}") from None
    end = reading.end
    if end is None:
        raise TansuoError(f"the service at {url} ended the answer early")
    reading.unstreamed(end)
    if as_json:
        last = {"type": "turn_ended", "t_ms": (end.get("timings") or {}).get("total_ms", 0.0),
                **{k: end.get(k) for k in END_FIELDS}}
        out.write(json.dumps(last, default=str, ensure_ascii=False) + "\n")
        return bool(end.get("complete", True))
    if end.get("cached"):
        err.write(f"tansuo: from the answer cache (asked before as \u201c{end['cached'].get('question')}\u201d)\n")
    print_summary(end, reading.trace, out, err)
    return bool(end.get("complete", True))


@dataclass
class _Reading:
    """The service's stream as `tansuo ask` prints it: answer text as it comes (JSON lines of every event
    with --json), the trace kept for the summary, the extras of the last chunk."""

    out: TextIO
    as_json: bool
    url: str
    trace: list[dict[str, Any]] = field(default_factory=list)
    streamed: bool = False
    echo: str | None = None  # a revision's text, which the service sends again as content
    end: dict[str, Any] | None = None

    def chunk(self, chunk: dict[str, Any]) -> None:
        if "error" in chunk:
            raise TansuoError(f"the service at {self.url}: {chunk['error'].get('message', chunk['error'])}")
        event = (chunk.get("tansuo") or {}).get("event")
        choice = (chunk.get("choices") or [{}])[0]
        text = choice.get("delta", {}).get("content")
        if event is not None:
            self._event(event)
        elif text:
            self._text(text)
        if choice.get("finish_reason"):
            self.end = {**chunk["tansuo"], "answer": chunk["tansuo"].get("answer", "")}
        self.out.flush()

    def _event(self, event: dict[str, Any]) -> None:
        self.trace.append(event)
        if event["type"] == "answer_revised":
            self.echo = event.get("text") or None
        if self.as_json:
            self.out.write(json.dumps(event, ensure_ascii=False) + "\n")
        elif event["type"] == "answer_revised" and event.get("restart"):
            self.out.write(RESTARTED)

    def _text(self, text: str) -> None:
        self.streamed = True
        if self.echo is not None and text == self.echo:  # the revision's text: its event carried it
            self.echo = None
            if not self.as_json:
                self.out.write(text)
            return
        self.out.write(json.dumps({"type": "answer_delta", "text": text}, ensure_ascii=False) + "\n"
                       if self.as_json else text)

    def unstreamed(self, end: dict[str, Any]) -> None:
        """An answer that came whole on the last chunk (a cached one), printed as if streamed."""
        if not self.streamed and end.get("answer"):
            self._text(end["answer"])


def _refusal(reply: httpx.Response) -> str:
    reply.read()
    try:
        return str(reply.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return reply.text[:200]


def print_summary(end: dict[str, Any], trace: list[dict[str, Any]], out: TextIO, err: TextIO) -> None:
    """The checks, the sources and the trace, from the turn's wire form (TurnEnded.to_dict(), or the
    service's extras on its last chunk) and its events' wire forms."""
    out.write("\n")
    if end.get("verdicts"):
        out.write("\nChecks: " + "; ".join(verdict_line(v) for v in end["verdicts"]) + "\n")
    listed = end.get("sources") or end.get("consulted") or []
    if listed:
        out.write("\nSources:\n" if end.get("sources") else "\nConsulted (the answer cites none of them):\n")
        for s in listed:
            date = f", {str(s['date'])[:10]}" if s.get("date") else ""
            out.write(f"  [{s['n']}] {s['title']} ({s['source']}{date}; {s['chunk_id']})\n")
    err.write("\nTrace:\n")
    for event in trace:
        line = trace_line(event)
        if line:
            err.write(f"  {event.get('t_ms', 0) / 1000:7.2f}s  {line}\n")
    used, timings = end.get("budget") or {}, end.get("timings") or {}
    err.write(f"[{used.get('steps', 0):g} steps, {used.get('tool_calls', 0):g} tool calls, "
              f"{used.get('tokens', 0):g} tokens generated, {timings.get('total_ms', 0) / 1000:.2f}s in all, "
              f"{timings.get('model_ms', 0) / 1000:.2f}s in the model, "
              f"{timings.get('verify_ms', 0) / 1000:.2f}s checking"
              + ("" if end.get("complete", True) else "; INCOMPLETE") + "]\n")
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


def trace_line(event: dict[str, Any]) -> str | None:
    """One line of the trace for an event's wire form; None for what the answer itself shows."""
    kind = event.get("type")
    if kind == "plan":
        detail = event.get("detail")
        return f"plan: {event['action']} {_short(detail)}" if detail else f"plan: {event['action']}"
    if kind == "search":
        return f"search {event['query']!r}: kept {event['kept']} " + " ".join(f"[{s['n']}]" for s in event["hits"])
    if kind == "tool_call":
        return f"call {event['name']}({_short(event['arguments'])})"
    if kind == "tool_result":
        body = _short(event.get("content")) if event["ok"] else f"ERROR {event.get('error')}"
        return f"result {event['name']} ({event.get('elapsed_ms', 0):.0f} ms): {body}"
    if kind == "check":
        said = "ok" if event["ok"] else f"not answered, retry {event.get('retry')}"
        return f"check step {event['step']}: {said}"
    if kind == "problem":
        return f"problem ({event['kind']}): {event['message']}"
    if kind == "verdict":
        reason = f": {event['reason']}" if event.get("reason") else ""
        return f"check {verdict_line(event)}{reason} ({event.get('elapsed_ms', 0):.0f} ms)"
    return None


def _short(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit - 1] + "…"
