"""One chat turn as the service runs it: history from the store, the answer cache, the bounded
queue, the agent, then the turn saved and (when it may be) cached. The API layer only translates
what this yields into OpenAI's JSON or SSE."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tansuo.agent.agent import Agent
from tansuo.agent.events import AnswerDelta, Event, Searched, ToolReturned, TurnEnded
from tansuo.agent.related import related_questions
from tansuo.agent.turn import TurnRequest
from tansuo.retrieval.background import CorpusBuild
from tansuo.retrieval.milvus import IndexUnavailable
from tansuo.server.cache import AnswerCache
from tansuo.server.conversations import ANONYMOUS, DEGRADED_NOTICE, Conversations
from tansuo.server.gate import Gate, QueueFull
from tansuo.server.metrics import Metrics
from tansuo.server.protocol import CompletionRequest
from tansuo.server.search_options import filters_of
from tansuo.server.store import StoreUnavailable


@dataclass
class TurnStep:
    """What a turn yields: an agent event while it runs, then its end."""

    kind: str  # "event" | "end"
    event: Event | None = None
    answer: str = ""
    extras: dict[str, Any] = field(default_factory=dict)
    finish: str = "stop"
    usage: dict[str, int] = field(default_factory=dict)


@dataclass
class ChatService:
    agent: Agent
    conversations: Conversations
    cache: AnswerCache | None
    gate: Gate
    metrics: Metrics
    document_hash: Callable[[str], str | None]
    max_question_chars: int = 8000
    corpus: CorpusBuild | None = None  # the default corpus, while it is built in the background
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)  # "now" for a recency filter

    async def turn(self, request: CompletionRequest, *, owner: str = ANONYMOUS) -> AsyncIterator[TurnStep]:
        """One turn for `owner` (the caller's key, or ANONYMOUS when keys are off): only the owner's
        conversation is continued and only the owner's cached answers are served."""
        question = request.messages[-1].text().strip()
        conversation = request.conversation_id or uuid.uuid4().hex
        notice = None
        if request.conversation_id:
            loaded = await self.conversations.load(owner, conversation)
            history, notice = loaded.messages, DEGRADED_NOTICE if loaded.degraded else None
            if loaded.degraded:
                self.metrics.count("tansuo_store_errors_total", "store calls that failed")
        else:  # stateless, as with OpenAI: the request carries the conversation so far
            history = [{"role": m.role, "content": m.text()} for m in request.messages[:-1]
                       if m.role in ("user", "assistant")]
        filters = filters_of(request, self.clock())
        incomplete = self.corpus is not None and not self.corpus.complete  # answers may miss documents: not cached
        use_cache = (self.cache is not None and request.cache and not history and notice is None and not incomplete
                     and filters is None)  # an answer from filtered documents is not the question's answer
        if use_cache:
            hit = await self._cached(question, conversation, owner)
            if hit is not None:
                yield await self._related(request, question, hit)
                return
        async with self.gate.enter():
            started = time.perf_counter()
            end = None
            searched = tool_answered = False
            turn = TurnRequest(question, history=history, profile=request.profile, filters=filters)
            async for event in self.agent.run(turn):
                if isinstance(event, TurnEnded):
                    end = event
                else:
                    searched = searched or isinstance(event, Searched)
                    tool_answered = tool_answered or (isinstance(event, ToolReturned) and event.ok)
                    yield TurnStep("event", event)
            self.gate.observe(time.perf_counter() - started)
        if end is None:  # the agent always ends with TurnEnded or raises: a bug if not
            raise RuntimeError("the turn ended without its last event")
        # a turn that searched, or that no tool answered (perhaps because nothing was indexed yet)
        documents = searched or not tool_answered
        partial = self.corpus.notice() if documents and self.corpus is not None else None
        notice = " ".join(n for n in (notice, partial) if n) or None
        final = await self._finish(question, conversation, end, notice, owner, cacheable=use_cache)
        yield await self._related(request, question, final)

    async def _related(self, request: CompletionRequest, question: str, step: TurnStep) -> TurnStep:
        """The end step with `related_questions` when the request asked for them."""
        if request.return_related_questions and step.finish != "content_filter":
            titles = [s.get("title", "") for s in step.extras.get("sources", []) if s.get("kind") == "document"]
            try:
                async with self.gate.enter():  # a model call like any other: it waits its turn in the queue
                    step.extras["related_questions"] = await related_questions(self.agent.deps.backend, question,
                                                                               step.answer, titles)
            except QueueFull:  # the answer stands; follow-ups are not worth a refusal
                step.extras["related_questions"] = []
        return step

    async def _cached(self, question: str, conversation: str, owner: str) -> TurnStep | None:
        try:
            lookup = await self.cache.lookup(question, owner=owner)
        except IndexUnavailable:  # a cached answer's sources cannot be checked now: answer afresh
            return None
        except StoreUnavailable:
            self.metrics.count("tansuo_store_errors_total", "store calls that failed")
            return None
        self.metrics.count("tansuo_answer_cache_total", "answer cache lookups", result=lookup.reason
                           if lookup.reason in ("hit", "empty", "no near question") else "refused")
        if lookup.hit is None:
            return None
        payload = dict(lookup.hit.payload)
        extras = {**payload["extras"], "conversation_id": conversation,
                  "cached": {"question": lookup.hit.question, "similarity": round(lookup.hit.similarity, 4),
                             "age_s": round(lookup.hit.age_s, 1), "lookup_ms": lookup.elapsed_ms}}
        await self._save(owner, conversation, question, payload["answer"], extras)
        return TurnStep("end", answer=payload["answer"], extras=extras, finish=payload.get("finish", "stop"),
                    usage={"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0})

    async def _finish(self, question: str, conversation: str, end: TurnEnded, notice: str | None, owner: str, *,
                      cacheable: bool) -> TurnStep:
        blocked = any(v["action"] == "block" for v in end.verdicts)
        answer = f"{notice}\n\n{end.answer}" if notice else end.answer
        tokens = int(end.budget.get("tokens", 0))
        usage = {"prompt_tokens": 0, "completion_tokens": tokens, "total_tokens": tokens}
        self.metrics.count("tansuo_tokens_total", "tokens generated by the model", tokens)
        wire = end.to_dict()
        extras = {"conversation_id": conversation, "sources": wire["sources"], "consulted": wire["consulted"],
                  "verdicts": list(end.verdicts), "complete": end.complete, "timings": end.timings,
                  "budget": end.budget, "notice": notice, "cached": None, "badges": badges(end)}
        step = TurnStep("end", answer=answer, extras=extras, finish="content_filter" if blocked else "stop",
                        usage=usage)
        saved = await self._save(owner, conversation, question, answer, extras)
        if cacheable and saved and end.complete and not blocked:
            await self._remember(question, step, end, owner)
        return step

    async def _save(self, owner: str, conversation: str, question: str, answer: str, extras: dict[str, Any]) -> bool:
        record = {"content": answer, "sources": extras.get("sources", []), "badges": extras.get("badges", []),
                  "cached": extras.get("cached") is not None}
        saved = await self.conversations.save(owner, conversation, question, record)
        if not saved:
            self.metrics.count("tansuo_store_errors_total", "store calls that failed")
            extras["notice"] = extras.get("notice") or DEGRADED_NOTICE
        return saved

    async def _remember(self, question: str, step: TurnStep, end: TurnEnded, owner: str) -> None:
        documents = {}
        for source in end.sources:
            if source.kind == "document":
                doc_id = source.chunk_id.rsplit("#", 1)[0]
                try:
                    digest = self.document_hash(doc_id)
                except IndexUnavailable:  # the answer stands; it is only not cached
                    return
                if digest is None:
                    return  # a source that is not in the index (a web page): nothing to invalidate it by
                documents[doc_id] = digest
        extras = {k: v for k, v in step.extras.items() if k not in ("conversation_id", "notice")}
        try:
            await self.cache.store_answer(question, {"answer": step.answer, "extras": extras, "finish": step.finish},
                                          kind=recency_kind(end), documents=documents, owner=owner)
        except StoreUnavailable:
            self.metrics.count("tansuo_store_errors_total", "store calls that failed")


def recency_kind(end: TurnEnded) -> str:
    """The question's recency class, from the recency verifier's verdict ("timeless" when none)."""
    for verdict in end.verdicts:
        if verdict["verifier"] == "recency":
            for item in verdict.get("evidence", ()):
                ts = item.get("time_sensitivity") if isinstance(item, dict) else None
                if ts and ts.get("sensitive"):
                    return ts.get("kind") or "news"
    return "timeless"


def badges(end: TurnEnded) -> list[str]:
    """The web page's verifier badges: supported, unsupported, stale, blocked, caution."""
    out = []
    for v in end.verdicts:
        flags = set(v.get("flags", ()))
        if v["action"] == "block":
            out.append("blocked")
        elif v["verifier"] == "factuality":
            out.append("unsupported" if v.get("scores", {}).get("unsupported") else "supported")
        elif v["verifier"] == "recency" and flags & {"stale", "disagreement", "before_period", "newer_source"}:
            out.append("stale")
        elif "caution" in flags:
            out.append("caution")
    return list(dict.fromkeys(out))


def is_delta(step: TurnStep) -> bool:
    return step.kind == "event" and isinstance(step.event, AnswerDelta)
