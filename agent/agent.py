"""The run loop of a turn: plan, act (search, tools, or a plan of steps), answer, and end with an
answer or a clear error, never a hang. The steps live in `planning`, `searching`,
`tool_calls`, `answering`, `checking` and `decompose`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace

from tansuo.agent import answering, checking, extract, planning, searching, tool_calls
from tansuo.agent.answer import result_lines
from tansuo.agent.budget import Budget, BudgetExceeded, RepeatedCall, canonical
from tansuo.agent.decompose import run_plan
from tansuo.agent.deps import AgentDeps
from tansuo.agent.events import Event, TurnEnded, TurnStarted
from tansuo.agent.extract import CopyOptions
from tansuo.agent.profile import modes_for
from tansuo.agent.queries import needed
from tansuo.agent.turn import Turn, TurnRequest
from tansuo.core.sources import check_citations
from tansuo.errors import BackendUnavailable, LLMError, TansuoError

MIN_ANSWER_S = 1.0  # a turn that reaches its answer with less time left still gets this long


class Agent:
    """One chat turn in, a stream of trace events out (the last one is `TurnEnded`)."""

    def __init__(self, deps: AgentDeps) -> None:
        self.deps = deps

    async def run(self, request: TurnRequest) -> AsyncIterator[Event]:
        """The turn's events. Raises `TansuoError` for a bad request and `BackendUnavailable` when
        there is no model to talk to; every other failure ends the stream with an answer saying so."""
        turn = self._new_turn(request)
        task = asyncio.create_task(self._drive(turn))
        try:
            while (event := await turn.queue.get()) is not None:
                yield event
            await task  # re-raises a bug in the loop rather than ending quietly
        finally:
            if not task.done():  # the consumer went away (a client disconnected): stop working
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def ask(self, request: TurnRequest) -> TurnEnded:
        """Run a turn to its end and return the last event."""
        last = None
        async for event in self.run(request):
            last = event
        if not isinstance(last, TurnEnded):  # `run` always ends with TurnEnded or raises: a bug if not
            raise RuntimeError("the turn ended without its last event")
        return last

    def _new_turn(self, request: TurnRequest) -> Turn:
        if not request.question.strip():
            raise TansuoError("the question is empty")
        profile = request.profile or self.deps.profile
        try:
            modes = modes_for(profile)
        except ValueError as exc:
            raise TansuoError(str(exc)) from None
        if self.deps.index is None:
            modes = tuple(m for m in modes if m != "search")
        options = self.deps.options
        return Turn(request, profile, modes, Budget(options.limits), today=options.clock().date().isoformat())

    async def _drive(self, turn: Turn) -> None:
        try:
            await self._turn(turn)
        finally:  # the consumer always learns the stream ended; a bug re-raises from `run`
            turn.queue.put_nowait(None)

    async def _turn(self, turn: Turn) -> None:
        turn.emit(TurnStarted, question=turn.request.question, profile=turn.profile, modes=turn.modes)
        if not await checking.check_input(self.deps, turn):  # refused before any work
            self._end(turn, complete=True)
            return
        complete, may_answer = True, True
        try:
            async with asyncio.timeout(turn.budget.remaining_s):
                await self._act(turn)
        except TimeoutError:
            complete, may_answer = False, False
            turn.problem("budget", f"the turn ran out of time (limit {turn.budget.limits.seconds:g}s)")
        except (BudgetExceeded, RepeatedCall) as exc:
            complete = False
            may_answer = not (isinstance(exc, BudgetExceeded) and exc.limit in ("tokens", "seconds"))
            turn.problem("budget", str(exc))
        except BackendUnavailable:
            raise  # no model at all: the caller's error to report (a 503, a one-line CLI error), not an answer
        except LLMError as exc:
            complete, may_answer = False, False
            turn.problem("model", f"the model failed: {exc}")
        if may_answer:
            complete = await self._answer(turn) and complete
        if turn.answer is None:
            turn.answer = await asyncio.to_thread(fallback_answer, turn, self.deps)
        elif turn.notice:
            turn.answer = f"{turn.notice}\n\n{turn.answer}"
        self._end(turn, complete=complete)

    @staticmethod
    def _end(turn: Turn, *, complete: bool) -> None:
        turn.settle_answer()
        final: dict[str, object] = {}
        for verdict in turn.verdicts:  # the last verdict of each verifier at each stage stands
            final[f"{verdict.verifier}/{verdict.stage}"] = verdict.to_dict()
        turn.emit(TurnEnded, answer=turn.answer, sources=tuple(cited_sources(turn)),
                  consulted=tuple(turn.book.sources), budget=turn.budget.used(), complete=complete,
                  timings={"model_ms": round(turn.model_ms, 1), "verify_ms": round(turn.verify_ms, 1),
                           "total_ms": turn.t_ms()},
                  verdicts=tuple(final.values()))

    async def _act(self, turn: Turn) -> None:
        deps, question = self.deps, turn.request.question
        offers = await asyncio.to_thread(planning.offers_for, deps, turn, question)
        hits = await asyncio.to_thread(searching.search_hits, deps, turn, question) if "search" in turn.modes else []
        preview = searching.preview(hits, deps.options.search_threshold)
        offers = planning.tools_for_weak_model(deps, turn, offers, hits, preview)
        decision = await planning.plan(deps, turn, offers, preview, search_score=searching.best_similarity(hits))
        retried = False
        while decision.action == "call":
            done = {canonical({"n": o.name, "a": o.arguments}) for o in turn.outcomes if o.ok}
            if all(canonical({"n": c.name, "a": c.arguments}) in done for c in decision.calls):
                return  # asking again for results it already has: the model is done with tools
            failed = [o for o in await tool_calls.call_tools(turn, decision.calls, offers, deps) if not o.ok]
            if turn.profile == "tools" and (not failed or retried):
                return  # a weak model answers from the results; it gets one chance to fix an error
            retried = retried or bool(failed)
            decision = await planning.plan(deps, turn, offers, preview, [o.line() for o in turn.outcomes],
                                        search_score=searching.best_similarity(hits))
        if decision.action == "answer" and preview and not turn.outcomes and answering.copying(deps, turn):
            decision = replace(decision, action="search", queries=())  # a weak model does not answer unsourced
        if decision.action == "search":
            context = " ".join(str(m.get("content", "")) for m in turn.request.history)
            await searching.search(deps, turn, needed(question, decision.queries, context), {question: hits})
        elif decision.action == "plan":
            await run_plan(deps, turn, decision.steps)

    async def _answer(self, turn: Turn) -> bool:
        """Write the answer, then verify it, each within the turn's time left (at least MIN_ANSWER_S);
        an answer that cannot be written is built without the model."""
        return (await self._in_time(turn, self._write, "the answer could not be finished in time")
                and await self._in_time(turn, self._check, "the answer could not be checked in time"))

    async def _write(self, turn: Turn) -> None:
        await checking.classify_time(self.deps, turn)
        turn.answer = await answering.write_answer(self.deps, turn)

    async def _check(self, turn: Turn) -> None:
        await checking.verify_answer(self.deps, turn)

    @staticmethod
    async def _in_time(turn: Turn, step, late: str) -> bool:
        try:
            async with asyncio.timeout(max(turn.budget.remaining_s, MIN_ANSWER_S)):
                await step(turn)
            return True
        except TimeoutError:
            turn.problem("budget", late)
        except (BudgetExceeded, RepeatedCall) as exc:  # the answer is then built without the model
            turn.problem("budget", str(exc))
        except BackendUnavailable:
            raise
        except LLMError as exc:
            turn.problem("model", f"the model failed while answering: {exc}")
        return False


def cited_sources(turn: Turn) -> list:
    """The sources the answer cites, in number order."""
    numbers = set(check_citations(turn.answer or "", turn.book).numbers)
    return [s for s in turn.book.sources if s.n in numbers]


def fallback_answer(turn: Turn, deps: AgentDeps | None = None) -> str:
    """An answer built without the model, from what the turn found: the tool results read as
    sentences and the best source sentences by rank, cited; then what went wrong."""
    found = result_lines(turn.book)
    documents = [s for s in turn.book.sources if s.kind == "document"]
    if documents and deps is not None and deps.index is not None:
        options, current = deps.options.copy or CopyOptions(), turn.about_now
        ranked = extract.ranked_sentences(turn.book, [turn.request.question, *turn.found], deps.index.embedder,
                                          current=current, options=options, period=turn.period)
        if ranked and max(s.dense for s in ranked) >= options.floor:
            found.append(extract.compose(extract.by_rank(turn.request.question, ranked, options, current=current)))
    elif documents:
        found.append("Sources that may help: " + "; ".join(f"[{s.n}] {s.title}" for s in documents[:5]) + ".")
    problem = "I could not complete this request: " + "; ".join(turn.notes) + "."
    return " ".join(found) + "\n\n" + problem if found else problem
