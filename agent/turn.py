"""The state of one turn, shared by its steps: budget, sources, tool outcomes, and the event stream."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from tansuo.agent.budget import Budget
from tansuo.agent.events import AnswerDelta, AnswerRevised, Event, Problem, Verified
from tansuo.agent.planner import dumps
from tansuo.core.sources import SourceBook
from tansuo.llm import Message
from tansuo.retrieval.hits import Filters


@dataclass
class TurnRequest:
    question: str
    history: list[Message] = field(default_factory=list)
    profile: str | None = None  # None: the configured profile
    filters: Filters | None = None  # what the caller limits the documents to (dates, sources)


@dataclass
class Outcome:
    """A tool call and what came of it, as the planner and the answer see it."""

    name: str
    arguments: dict[str, Any]
    ok: bool
    content: Any = None
    error: str | None = None
    source_n: int | None = None

    def line(self) -> str:
        result = dumps(self.content) if self.ok else f"ERROR: {self.error}"
        cite = f"[{self.source_n}] " if self.source_n else ""
        return f"{cite}{self.name}({dumps(self.arguments)}) -> {result}"



@dataclass
class Timer:
    started: float = field(default_factory=time.perf_counter)
    ms: float = 0.0  # set when the timed work ends


@dataclass
class Turn:
    request: TurnRequest
    profile: str
    modes: tuple[str, ...]
    budget: Budget
    today: str
    book: SourceBook = field(default_factory=SourceBook)
    outcomes: list[Outcome] = field(default_factory=list)
    found: dict[str, list[int]] = field(default_factory=dict)  # search query -> the sources it kept
    notes: list[str] = field(default_factory=list)  # what could not be done, for the answer
    answer: str | None = None
    model_ms: float = 0.0  # time spent waiting on the model, for the overhead split
    verify_ms: float = 0.0  # time spent in the verifiers (their model judgements included)
    recency: Any = None  # the question's time-sensitivity (verifiers.recency), when checked
    notice: str | None = None  # said before the answer (a caution from the input check)
    draft: str = ""  # the answer text streamed since the last restart
    feedback: str | None = None  # a verifier's reason to rewrite the answer
    copied: bool = False  # the answer is source sentences chosen by the model (agent.extract)
    verdicts: list[Any] = field(default_factory=list)  # verifiers.verdict.Verdict, in order
    queue: asyncio.Queue[Event | None] = field(default_factory=asyncio.Queue)
    started: float = field(default_factory=time.perf_counter)

    @property
    def about_now(self) -> bool:
        """The question asks about the current state of things (the recency classifier said so)."""
        return self.recency is not None and self.recency.current

    @property
    def period(self) -> tuple[date, date] | None:
        """The past time the question names ("in 2024"), first to last day, if any."""
        mention = self.recency.period if self.recency is not None and self.recency.sensitive else None
        return (mention.start, mention.end) if mention is not None else None

    def t_ms(self) -> float:
        return round((time.perf_counter() - self.started) * 1000, 1)

    def emit(self, event_type: type[Event], **fields: Any) -> Event:
        event = event_type(t_ms=self.t_ms(), **fields)
        if isinstance(event, AnswerDelta):
            self.draft += event.text
        self.queue.put_nowait(event)
        return event

    def restart_answer(self, reason: str) -> None:
        """The draft shown so far is withdrawn: a new one streams."""
        self.draft = ""
        self.emit(AnswerRevised, text="", restart=True, reason=reason)

    def settle_answer(self) -> None:
        """When the answer as it stands is not what streamed (citations re-pointed, a claim removed,
        a note added, or nothing streamed at all), say what to show after the draft: the rest of the
        answer when the draft is its start, else the answer in full, marked as checked."""
        final, shown = self.answer or "", self.draft
        if final == shown or not final.strip():
            return
        if final.startswith(shown):
            text = final[len(shown):]
        else:
            text = ("\n\nChecked answer: " if shown.strip() else "") + final
        self.draft = final
        self.emit(AnswerRevised, text=text, reason="checked")

    def problem(self, kind: str, message: str, *, note: bool = True, shown: str | None = None) -> None:
        """Record what went wrong in the trace and, when `note`, in the answer (as `shown`, when the
        message holds text from outside that the user and the answer prompt must not get verbatim)."""
        self.emit(Problem, kind=kind, message=message)
        said = shown or message
        if note and said not in self.notes:
            self.notes.append(said)

    def verdict(self, verdict: Any) -> None:
        """Record a verifier's verdict on the trace."""
        self.verdicts.append(verdict)
        self.emit(Verified, verifier=verdict.verifier, action=verdict.action, stage=verdict.stage,
                  reason=verdict.reason, message=verdict.message, flags=verdict.flags, scores=verdict.scores,
                  evidence=verdict.evidence, elapsed_ms=round(verdict.elapsed_ms, 1))

    @contextlib.contextmanager
    def timed(self, kind: Literal["model", "verify"]) -> Iterator[Timer]:
        """Time a piece of work and add it to the turn's model or verifier time."""
        timer = Timer()
        try:
            yield timer
        finally:
            timer.ms = (time.perf_counter() - timer.started) * 1000
            if kind == "model":
                self.model_ms += timer.ms
            else:
                self.verify_ms += timer.ms
