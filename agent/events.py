"""The trace: every step of a turn is an event on one stream.

The CLI, the server's streaming API and the eval runner all consume the same events;
``to_dict`` is their wire form (``{"type": ..., ...}``), so adding a field never breaks
a consumer that ignores it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from tansuo.core.sources import Source


@dataclass(frozen=True)
class Event:
    type: ClassVar[str] = "event"
    t_ms: float  # since the turn started

    def to_dict(self) -> dict[str, Any]:
        body = asdict(self)
        return {"type": self.type, **{k: _plain(v) for k, v in body.items()}}


@dataclass(frozen=True)
class TurnStarted(Event):
    type: ClassVar[str] = "turn_started"
    question: str
    profile: str
    modes: tuple[str, ...]


@dataclass(frozen=True)
class Planned(Event):
    type: ClassVar[str] = "plan"
    action: str  # answer | search | tools | plugins | agent
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Searched(Event):
    type: ClassVar[str] = "search"
    query: str
    hits: tuple[Source, ...]
    kept: int  # hits judged relevant


@dataclass(frozen=True)
class ToolCalled(Event):
    type: ClassVar[str] = "tool_call"
    call_id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class ToolReturned(Event):
    type: ClassVar[str] = "tool_result"
    call_id: str
    name: str
    ok: bool
    content: Any = None
    error: str | None = None
    elapsed_ms: float = 0.0


@dataclass(frozen=True)
class Checked(Event):
    """A plan step's result checked before the next step (mode 3)."""

    type: ClassVar[str] = "check"
    step: int
    task: str
    ok: bool
    retry: str | None = None


@dataclass(frozen=True)
class AnswerDelta(Event):
    type: ClassVar[str] = "answer_delta"
    text: str


@dataclass(frozen=True)
class AnswerRevised(Event):
    """The answer shown so far is not the answer as it stands: every consumer (the command line, the
    API's stream, the chat page) shows `text` next, after the draft, or after withdrawing the draft
    when `restart` (a check sent the answer back to the model and a new draft streams)."""

    type: ClassVar[str] = "answer_revised"
    text: str
    restart: bool = False
    reason: str = ""


@dataclass(frozen=True)
class Problem(Event):
    """Something the turn could not do (a tool timed out, a budget ran out); the answer says so."""

    type: ClassVar[str] = "problem"
    kind: str
    message: str


@dataclass(frozen=True)
class Verified(Event):
    """A verifier's verdict (verifiers.verdict.Verdict) on the input, a source or the answer."""

    type: ClassVar[str] = "verdict"
    verifier: str
    action: str  # pass | revise | block
    stage: str  # input | sources | answer
    reason: str = ""
    message: str | None = None
    flags: tuple[str, ...] = ()
    scores: dict[str, float] = field(default_factory=dict)
    evidence: tuple[dict[str, Any], ...] = ()
    elapsed_ms: float = 0.0


@dataclass(frozen=True)
class TurnEnded(Event):
    type: ClassVar[str] = "turn_ended"
    answer: str
    sources: tuple[Source, ...] = ()  # what the answer cites
    consulted: tuple[Source, ...] = ()  # every source the turn found, cited or not
    budget: dict[str, float] = field(default_factory=dict)
    complete: bool = True  # False when a limit or failure cut the turn short
    timings: dict[str, float] = field(default_factory=dict)  # model_ms, verify_ms, total_ms
    verdicts: tuple[dict[str, Any], ...] = ()  # the verifiers' final verdicts (Verified events carry all)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
