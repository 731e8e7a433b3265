"""Questions over the dated news corpus (eval_sets/qa) through the whole pipeline. Right when the
answer states every fact (normalised, whole words), cites the gold document (every gold document,
for questions that need several), and its citations hold what it says: each fact is in a cited
passage and every cited passage holds one of the facts (a citation to a superseded or unrelated
document is wrong). Beside the score, `unsupported_claim`: the answer has a sentence whose numbers,
dates or names its cited sources do not hold (evals.claims, by rule). No model judges.
Split by hash of the question: a third dev, the rest test."""

from __future__ import annotations

import json
import time

from agent.turn import TurnRequest
from evals import claims
from evals.context import EVAL_SETS, EvalContext, pipeline_agent
from evals.reading import states as states_phrase
from evals.sets import Item, ItemResult, hash_split, read_jsonl


def states(answer: str, alternatives: list[str]) -> bool:
    """`answer` states one of the alternatives of a fact."""
    return any(states_phrase(answer, a) for a in alternatives)


class NewsQaSet:
    name = "qa-news"
    stage = "pipeline"
    metric = "states the facts, cites the gold document, and every cited passage holds a fact"
    description = "questions over the dated news corpus answered by a whole turn, with citation correctness"
    splits = "by hash of the question: a third dev, two thirds test"

    def items(self) -> list[Item]:
        return [Item(r["id"], r["category"], r, hash_split(r["question"]))
                for r in read_jsonl(EVAL_SETS / "qa" / "questions.jsonl")]

    async def run(self, ctx: EvalContext, item: Item) -> ItemResult:
        agent = await pipeline_agent(ctx)
        index = ctx.news_index()
        started = time.perf_counter()
        events = [e async for e in agent.run(TurnRequest(item.data["question"]))]
        ms = (time.perf_counter() - started) * 1000
        end = events[-1]
        facts = item.data["facts"]
        stated = [states(end.answer, alts) for alts in facts]
        texts = source_texts(index, events)
        cited = [s for s in end.sources if s.kind == "document"]
        documents = item.data["documents"]
        gold_docs = {s.chunk_id.rsplit("#", 1)[0] for s in cited} & set(documents)
        cites_gold = gold_docs == set(documents) if item.category == "several documents" else bool(gold_docs)
        passages = [texts.get(s.n, "") for s in cited]
        hold = bool(passages) and all(any(states(p, alts) for p in passages) for alts in facts) \
            and all(any(states(p, alts) for alts in facts) for p in passages)
        bad = claims.unsupported(end.answer, texts, item.data["question"])
        right = all(stated) and cites_gold and hold
        return ItemResult(item.id, item.category, float(right), ms,
                          {"answer": end.answer[:400], "facts_stated": all(stated), "gold_cited": cites_gold,
                           "cited_hold_facts": hold, "unsupported_claim": bool(bad),
                           "unsupported": [c.sentence[:160] for c in bad],
                           "cited": [s.chunk_id for s in cited]})


def source_texts(index, events) -> dict[int, str]:
    """The text of every source the turn numbered: a passage's chunk, a tool's result."""
    end = events[-1]
    results = {e.call_id: e.content for e in events if e.type == "tool_result"}
    out = {}
    for source in (*end.consulted, *end.sources):
        if source.kind == "tool":
            out[source.n] = json.dumps(results.get(source.chunk_id), default=str)
            continue
        doc_id, _, n = source.chunk_id.rpartition("#")
        chunk = next((c for c in index.chunks(doc_id) if str(c.n) == n), None)
        out[source.n] = f"{source.title}. {chunk.text}" if chunk is not None else source.title
    return out
