"""Questions through the whole pipeline: over the dated news corpus (eval_sets/qa, `qa-news`) and over
the default corpus, the Python reference topics (eval_sets/pydocs, `qa-pydocs`). Right when the
answer states every fact (normalised, whole words), cites the gold document (every gold document,
for questions that need several), and its citations hold what it says: each fact is in a cited
passage and every cited passage holds one of the facts (a citation to a superseded or unrelated
document is wrong). Beside the score, `unsupported_claim`: the answer has a sentence whose numbers,
dates or names its cited sources do not hold (evals.claims, by rule). No model judges.
Split by hash of the question: a third dev, the rest test."""

from __future__ import annotations

import json
import time

from tansuo.agent.turn import TurnRequest
from tansuo.evals import claims
from tansuo.evals.context import EvalContext, default_corpus_agent, pipeline_agent
from tansuo.evals.reading import states as states_phrase
from tansuo.evals.sets import Item, ItemResult, JsonlSet


def states(answer: str, alternatives: list[str]) -> bool:
    """`answer` states one of the alternatives of a fact."""
    return any(states_phrase(answer, a) for a in alternatives)


class NewsQaSet(JsonlSet):
    name = "qa-news"
    stage = "pipeline"
    metric = "states the facts, cites the gold document, and every cited passage holds a fact"
    description = "questions over the dated news corpus answered by a whole turn, with citation correctness"
    splits = "by hash of the question: a third dev, two thirds test"
    file = "qa/questions.jsonl"

    async def agent_and_index(self, ctx: EvalContext):
        return await pipeline_agent(ctx), ctx.news_index()

    async def run(self, ctx: EvalContext, item: Item) -> ItemResult:
        agent, index = await self.agent_and_index(ctx)
        started = time.perf_counter()
        events = [e async for e in agent.run(TurnRequest(item.data["question"]))]
        ms = (time.perf_counter() - started) * 1000
        return score(item, events, source_texts(index, events), ms)


class PydocsQaSet(NewsQaSet):
    name = "qa-pydocs"
    metric = ("states the facts (yes or no first for yes/no), cites the gold topic (or a passage holding its "
              "answer sentence), and every cited passage holds a fact")
    description = "questions about the default corpus (the Python reference topics) answered by a whole turn"
    file = "pydocs/questions.jsonl"

    async def agent_and_index(self, ctx: EvalContext):
        agent = await default_corpus_agent(ctx)
        return agent, agent.deps.index


def score(item: Item, events, texts: dict[int, str], ms: float) -> ItemResult:
    """Right when the answer states every fact, cites the gold document(s), and its citations hold
    what it says; beside it, whether a shown sentence is unsupported by rule, the answer's length,
    and whether a benign question was refused."""
    end = events[-1]
    facts = item.data["facts"]
    yes_no = item.category == "yes/no"
    stated = [states(end.answer, alts) for alts in facts]
    if yes_no:  # yes or no comes first
        stated[0] = states(" ".join(end.answer.split()[:2]), facts[0])
    cited = [s for s in end.sources if s.kind == "document"]
    documents = item.data["documents"]
    passages = [texts.get(s.n, "") for s in cited]
    reference = item.data.get("reference")
    gold_docs = {s.chunk_id.rsplit("#", 1)[0] for s in cited} & set(documents)
    if reference:  # a larger topic that holds the same sentence is as good a source
        gold_docs |= {"reference"} if any(_holds_sentence(p, reference) for p in passages) else set()
    cites_gold = gold_docs >= set(documents) if item.category == "several documents" else bool(gold_docs)
    checked = facts[1:] if yes_no else facts
    hold = bool(passages) and all(any(states(p, alts) for p in passages) for alts in checked) \
        and all(any(states(p, alts) for alts in checked) for p in passages)
    bad = claims.unsupported(end.answer, texts, item.data["question"])
    right = all(stated) and cites_gold and hold
    read = {s.chunk_id.rsplit("#", 1)[0] for s in (*end.consulted, *cited) if s.kind == "document"}
    refused = any(v["verifier"] == "harmlessness" and v["action"] == "block" for v in end.verdicts)
    return ItemResult(item.id, item.category, float(right), ms,
                      {"answer": end.answer[:400], "facts_stated": all(stated), "gold_cited": cites_gold,
                       "cited_hold_facts": hold, "unsupported_claim": bool(bad), "refused": refused,
                       "words": len(end.answer.split()),
                       "gold_read": bool(read & set(documents)), "unsupported": [c.sentence[:160] for c in bad],
                       "cited": [s.chunk_id for s in cited]})


def _holds_sentence(passage: str, sentence: str) -> bool:
    return " ".join(sentence.lower().split())[:120] in " ".join(passage.lower().split())


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
