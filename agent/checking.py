"""Checking: the request's harmlessness before any work, the question's time-sensitivity before the
answer, and the answer itself after it, with one revision sent back to the model when a check asks."""

from __future__ import annotations

from tansuo.agent import answering
from tansuo.agent.budget import Budget
from tansuo.agent.deps import AgentDeps
from tansuo.agent.events import AnswerDelta, Planned
from tansuo.agent.turn import Turn
from tansuo.core.sources import check_citations


async def check_input(deps: AgentDeps, turn: Turn) -> bool:
    """The request's harmlessness before any work; False when it is refused (the answer is then the
    refusal). A caution is said before the answer."""
    if deps.verifiers is None:
        return True
    with turn.timed("verify"):
        verdict = await deps.verifiers.check_input(turn.request.question)
    if verdict is None:
        return True
    turn.verdict(verdict)
    if verdict.action == "block":
        turn.answer = verdict.message or "I can't help with that."
        turn.emit(AnswerDelta, text=turn.answer)
        return False
    if verdict.message:
        turn.notice = verdict.message
        turn.emit(AnswerDelta, text=verdict.message + "\n\n")
    return True


async def classify_time(deps: AgentDeps, turn: Turn) -> None:
    """Whether the question is time-sensitive, before the answer is written (it shapes the prompt)."""
    if deps.verifiers is None:
        return
    with turn.timed("verify"):
        turn.recency = await deps.verifiers.classify(turn.request.question, deps.options.clock().date())


async def verify_answer(deps: AgentDeps, turn: Turn) -> None:
    """Check the written answer; a revise verdict sends its reason back to the model once (within the
    turn's budget), and the answer then stands as the verifiers leave it."""
    verifiers = deps.verifiers
    if verifiers is None or turn.answer is None:
        return
    revisions = 0 if turn.copied else verifiers.policy.revisions  # copied sentences are not rewritten
    check = await _check(deps, turn, final=revisions == 0)
    while check.revise and not check.blocked and revisions > 0 and _can_revise(turn.budget):
        for verdict in check.verdicts:
            turn.verdict(verdict)
        revisions -= 1
        turn.feedback = check.feedback()
        turn.budget.step()
        turn.emit(Planned, action="revise", detail={"reason": turn.feedback})
        turn.restart_answer(turn.feedback)
        turn.answer = await answering.write_answer(deps, turn)
        check = await _check(deps, turn, final=revisions == 0)
    if check.revise and not check.blocked:
        check = await _check(deps, turn, final=True)
    for verdict in check.verdicts:
        turn.verdict(verdict)
    turn.answer = check.text


def _can_revise(budget: Budget) -> bool:
    """A revision is a step and needs tokens: with either spent, the answer stands as checked."""
    return budget.steps < budget.limits.steps and budget.tokens_left() > 0


async def _check(deps: AgentDeps, turn: Turn, *, final: bool):
    cited = check_citations(turn.answer or "", turn.book).numbers
    with turn.timed("verify"):
        check = await deps.verifiers.check_answer(turn.request.question, turn.answer or "", turn.book, cited,
                                                  turn.recency, deps.options.clock().date(), final=final)
    return check
