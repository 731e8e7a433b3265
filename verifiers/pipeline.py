"""The verifiers a turn runs, under one policy: which are on, which may block, how many revisions.

Order in a turn: the input's harmlessness before any work; each retrieved passage and tool result
cleaned of instructions (prompt injection) as it arrives; the question's time-sensitivity before
the answer is written; then the answer's harmlessness, factuality and recency. A verdict that asks
for a revision sends its reason back to the model once; what still fails after that is
removed (factuality) or noted (recency), and a block replaces the answer with a safe message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from tansuo.core.fences import Cleaned, fenced_only
from tansuo.core.sources import SourceBook
from tansuo.core.verdict import VERIFIERS, Verdict
from tansuo.verifiers.factuality import Factuality
from tansuo.verifiers.harm import Harmlessness
from tansuo.verifiers.recency import Recency, TimeSensitivity

NOTHING_BACKED = "I could not find this stated in the sources I found."
UNVERIFIABLE = ("I could not verify an answer from the sources I found, so I am not giving one. Try rephrasing "
                "the question or adding documents that cover it.")


@dataclass(frozen=True)
class Policy:
    enabled: frozenset[str] = frozenset(VERIFIERS)
    may_block: frozenset[str] = frozenset({"harmlessness"})
    revisions: int = 1  # times a revise verdict goes back to the model
    block_unsupported_share: float = 0.5  # factuality blocks (when allowed) above this share of bad claims


@dataclass
class AnswerCheck:
    verdicts: list[Verdict] = field(default_factory=list)
    text: str = ""  # the answer as it should stand (re-pointed, unsupported removed, a note) or the block message
    blocked: bool = False

    @property
    def revise(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.action == "revise"]

    def feedback(self) -> str:
        return "; ".join(v.reason for v in self.revise)


class Verifiers:
    def __init__(self, *, harmlessness: Harmlessness | None = None, factuality: Factuality | None = None,
                 recency: Recency | None = None, policy: Policy | None = None) -> None:
        self.policy = policy or Policy()
        on = self.policy.enabled
        self.harmlessness = harmlessness if "harmlessness" in on else None
        self.factuality = factuality if "factuality" in on else None
        self.recency = recency if "recency" in on else None

    async def check_input(self, question: str) -> Verdict | None:
        if self.harmlessness is None:
            return None
        verdict = await self.harmlessness.check_input(question)
        return verdict if verdict.action != "block" or "harmlessness" in self.policy.may_block else _demote(verdict)

    async def clean(self, text: str) -> Cleaned:
        """A passage or tool result without instruction-like sentences, and those removed."""
        if not text.strip():
            return Cleaned(text, [], [])
        if self.harmlessness is None:  # fence breaks and forged citations are cut even so
            return fenced_only(text)
        return await asyncio.to_thread(self.harmlessness.clean, text)

    async def classify(self, question: str, today: date) -> TimeSensitivity | None:
        return await self.recency.classify(question, today) if self.recency is not None else None

    async def check_answer(self, question: str, answer: str, book: SourceBook, cited: Sequence[int],
                           ts: TimeSensitivity | None, today: date, *, final: bool) -> AnswerCheck:
        out = AnswerCheck(text=answer)
        if self.harmlessness is not None:
            verdict = await self.harmlessness.check_output(question, answer)
            if verdict.action == "block" and "harmlessness" not in self.policy.may_block:
                verdict = _demote(verdict)
            out.verdicts.append(verdict)
            if verdict.action == "block":
                out.text, out.blocked = verdict.message or UNVERIFIABLE, True
                return out
        if self.factuality is not None:
            verdict, out.text = await self.factuality.check(answer, book, final=final)
            if final and self._factuality_blocks(verdict):
                verdict = Verdict("factuality", "block", reason=verdict.reason or "most claims are unsupported",
                                  message=UNVERIFIABLE, flags=verdict.flags, scores=verdict.scores,
                                  evidence=verdict.evidence, elapsed_ms=verdict.elapsed_ms)
                out.verdicts.append(verdict)
                out.text, out.blocked = UNVERIFIABLE, True
                return out
            out.verdicts.append(verdict)
            if final and not out.text.strip():  # every claim was removed: say so rather than show nothing
                out.text = NOTHING_BACKED
        if self.recency is not None and ts is not None and out.text != NOTHING_BACKED:
            verdict = await self.recency.check(ts, out.text, book, cited, today, final=final)
            out.verdicts.append(verdict)
            if final and verdict.message:
                out.text = f"{out.text}\n\n{verdict.message}"
        return out

    def _factuality_blocks(self, verdict: Verdict) -> bool:
        claims = verdict.scores.get("claims", 0)
        return ("factuality" in self.policy.may_block and claims > 0
                and verdict.scores.get("unsupported", 0) / claims > self.policy.block_unsupported_share)


def _demote(verdict: Verdict) -> Verdict:
    """A verifier not allowed to block still reports what it found."""
    return Verdict(verdict.verifier, "pass", reason=f"would block: {verdict.reason}", flags=verdict.flags,
                   scores=verdict.scores, evidence=verdict.evidence, stage=verdict.stage, elapsed_ms=verdict.elapsed_ms)
