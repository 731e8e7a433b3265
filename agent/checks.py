"""What the agent asks of its checks, as a protocol it owns: the verifiers (`tansuo.verifiers.pipeline.
Verifiers`) are one implementation, wired in by whoever builds the agent (`tansuo.server.assembly`), so
the agent never imports them. Results are read by their fields only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, Protocol

from tansuo.core.fences import Cleaned
from tansuo.core.sources import SourceBook
from tansuo.core.verdict import Verdict


class Revisions(Protocol):
    revisions: int  # times a revise verdict goes back to the model


class AnswerCheck(Protocol):
    verdicts: list[Verdict]
    text: str  # the answer as it should stand
    blocked: bool

    @property
    def revise(self) -> list[Verdict]: ...

    def feedback(self) -> str: ...


class Checks(Protocol):
    policy: Revisions

    async def check_input(self, question: str) -> Verdict | None: ...

    async def clean(self, text: str) -> Cleaned: ...

    async def classify(self, question: str, today: date) -> Any: ...  # time-sensitivity (see Turn.recency)

    async def check_answer(self, question: str, answer: str, book: SourceBook, cited: Sequence[int],
                           ts: Any, today: date, *, final: bool) -> AnswerCheck: ...
