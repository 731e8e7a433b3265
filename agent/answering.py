"""Writing the answer: tool results as sentences, then the documents' answer: by copy for a weak
model (its chosen source sentences, cited), else the model's prose, streamed with citations."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from datetime import date

from tansuo.agent import extract
from tansuo.agent.answer import answer_messages, result_lines, stream_answer, summarise, too_long
from tansuo.agent.budget import BudgetExceeded
from tansuo.agent.deps import AgentDeps
from tansuo.agent.events import AnswerDelta, Planned
from tansuo.agent.evidence import Sentence
from tansuo.agent.queries import parts as question_parts
from tansuo.agent.turn import Turn
from tansuo.core.sources import SourceBook, check_citations, order_newest_first


async def write_answer(deps: AgentDeps, turn: Turn) -> str:
    """Tool results first, each a sentence rendered from its output by the tool's reading; then the
    answer from the documents: by copy for a weak model (its chosen source sentences, cited), else
    the model's prose, streamed (per-document summaries first when the sources are longer than the
    context budget). A search that found nothing is said in one sentence with what was searched."""
    lines = result_lines(turn.book)
    text = " ".join(lines) if all("\n" not in line for line in lines) else "\n".join(lines)
    if text:
        turn.emit(AnswerDelta, text=text)
    documents = any(e.source.kind == "document" for e in turn.book.items)
    if copying(deps, turn) and (documents or (turn.found and not lines)):
        prose = await copy_answer(deps, turn) if documents else ""
        prose = prose or nothing_found(turn)
        turn.emit(AnswerDelta, text=(" " if text else "") + prose)
        return _with_notes(turn, " ".join(p for p in (text, prose) if p))
    parts = disjoint_parts(turn.found.items())
    if len(parts) > 1 and not lines:  # sub-queries that found different sources: one answer from each set
        for queries, numbers in parts:
            book = SourceBook([e for e in turn.book.items if e.source.n in numbers])
            question = f"{turn.request.question} Answer only the part about: {'; '.join(queries)}."
            prose = await _model_answer(deps, turn, lead="\n\n" if text else "", book=book, question=question,
                                        max_tokens=deps.options.answer_tokens // len(parts))
            text = "\n\n".join(p for p in (text, prose) if p)
    elif not lines or documents or turn.profile != "tools":
        prose = await _model_answer(deps, turn, lead="\n\n" if text else "")
        text = "\n\n".join(p for p in (text, prose) if p)
    return _with_notes(turn, text)


def _with_notes(turn: Turn, text: str) -> str:
    if not turn.notes:
        return text
    note = "\n\nNot done: " + "; ".join(turn.notes) + "."  # said plainly, whatever the model wrote
    turn.emit(AnswerDelta, text=note)
    return text + note


def copying(deps: AgentDeps, turn: Turn) -> bool:
    return deps.options.copy is not None and turn.profile in deps.options.copy_profiles and deps.index is not None


async def copy_answer(deps: AgentDeps, turn: Turn) -> str:
    """The answer by copy (`agent.extract`): the source sentences that answer, chosen by the model
    among the best ranked, each cited; a yes/no question gets yes or no first. Empty when no
    sentence is close enough to the question."""
    options, question = deps.options.copy, turn.request.question
    questions = list(dict.fromkeys([question, *turn.found]))
    current = turn.about_now
    everything = await asyncio.to_thread(extract.ranked_sentences, turn.book, questions, deps.index.embedder,
                                         current=False, options=options, period=turn.period)
    ranked, topics = everything, {}
    if current:  # superseded sentences out; the passages' topics are kept for the parts
        topics = await asyncio.to_thread(extract.passage_topics, turn.book, deps.index.embedder)
        ranked = extract.newest(everything, turn.book, deps.index.embedder, options, topics)
    if not ranked or max(s.dense for s in ranked) < options.floor:
        return ""
    try:
        turn.budget.step()
    except BudgetExceeded:  # no step left for a model choice: the ranking's choice, no lead
        chosen = extract.by_rank(question, ranked, options, current=current)
        return extract.compose(chosen)
    chosen = await extract.choose(deps.backend, turn, question, ranked, options, current=current)
    chosen = await answer_parts(deps, turn, extract.complete(question, chosen, ranked, options), everything, topics)
    lead = extract.yes_or_no(question, chosen) if extract.is_yes_no(question) else ""
    turn.copied = True
    turn.emit(Planned, action="copy", detail={"candidates": len(ranked), "chosen": [s.n for s in chosen],
                                              "sentences": [s.text for s in chosen], "lead": lead})
    return extract.compose(chosen, lead)


async def answer_parts(deps: AgentDeps, turn: Turn, chosen: list[Sentence], everything: list[Sentence],
                       topics: dict[tuple[str, str], float]) -> list[Sentence]:
    """A two-part question gets the best sentence of each part, in the question's order, each part
    ranked with the past period it names; for a question about now, a newer sentence supersedes an
    older one only where it ranks close for the same part (the marathon's results do not supersede
    its road closures). (Sub-queries are not parts: on the dev splits, adding the best sentence of
    each sub-query's sources added off-topic sentences and won nothing.)"""
    question, options = turn.request.question, deps.options.copy
    asked = question_parts(question)
    if not asked:
        return chosen
    named = turn.recency.periods if turn.recency is not None else ()
    periods = extract.part_periods(asked, named, date.fromisoformat(turn.today))
    embedder = deps.index.embedder
    by_part = await asyncio.to_thread(extract.rank_parts, everything, asked, embedder, periods)
    if turn.about_now:
        by_part = [extract.newest(part, turn.book, embedder, options, topics) for part in by_part]
    return extract.per_part(chosen, by_part, options)


def nothing_found(turn: Turn) -> str:
    """One sentence: nothing relevant was found, and what was searched."""
    searched = "; ".join(f"\u201c{q}\u201d" for q in turn.found) or f"\u201c{turn.request.question}\u201d"
    return f"I found nothing in the documents that answers this (searched for {searched})."


def disjoint_parts(found: Iterable[tuple[str, Sequence[int]]]) -> list[tuple[list[str], set[int]]]:
    """Sub-queries with their source sets, merged where they share a source (two queries for one
    thing are one part)."""
    parts: list[tuple[list[str], set[int]]] = []
    for query, numbers in found:
        queries, group = [query], set(numbers)
        if not group:
            continue
        for other in [p for p in parts if p[1] & group]:
            parts.remove(other)
            queries, group = other[0] + queries, group | other[1]
        parts.append((queries, group))
    return parts


async def _model_answer(deps: AgentDeps, turn: Turn, lead: str = "", question: str | None = None,
                        book: SourceBook | None = None, max_tokens: int | None = None) -> str:
    writing = deps.options.writing
    question = question or turn.request.question
    book = turn.book if book is None else book
    if too_long(book, writing):
        turn.budget.step()
        with turn.timed("model"):
            book, tokens = await summarise(deps.backend, question, book, writing)
        turn.budget.generated(tokens)
        turn.emit(Planned, action="summarise", detail={"documents": len(book.items)})
    if turn.about_now:
        # newest first, same numbers: no words added to the prompt (a 135M model told to prefer the newest
        # source, or to say its date, answered with a bare date); the check states the evidence's date
        book = order_newest_first(book)
    messages = answer_messages(question, turn.request.history, book, turn.today, turn.notes, turn.feedback)
    max_tokens = max(1, min(max_tokens or deps.options.answer_tokens, turn.budget.tokens_left()))
    copy = writing.copy_options if len(book) else None
    parts = []
    with turn.timed("model"):
        async for piece in stream_answer(deps.backend, messages, max_tokens, copy):
            if isinstance(piece, str):
                turn.emit(AnswerDelta, text=(lead if not parts else "") + piece)
                parts.append(piece)
            else:
                turn.budget.tokens += piece.usage.completion_tokens  # the answer is never cut for the budget
    cited = check_citations("".join(parts).strip(), turn.book)
    if cited.dropped:
        turn.problem("citation", f"removed citations to sources that do not exist: {list(cited.dropped)}",
                     note=False)
    return cited.text
