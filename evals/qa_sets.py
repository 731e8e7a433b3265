"""Questions over the dated news corpus (eval_sets/qa) through the whole pipeline: the answer must
state the facts (normalised, whole words) and cite the gold document (every gold document, for
questions that need several); whether a cited gold passage holds a fact is reported beside. No
model judges."""

from __future__ import annotations

import re
import time

from agent.turn import TurnRequest
from evals.context import EVAL_SETS, EvalContext, pipeline_agent
from evals.sets import Item, ItemResult, read_jsonl


def normalise(text: str) -> str:
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text.lower())  # 102,300 -> 102300
    return " ".join(text.replace("–", "-").split())


def states(answer: str, alternatives: list[str]) -> bool:
    text = normalise(answer)
    return any(re.search(rf"(?<![\w.]){re.escape(normalise(a))}(?![\w]|[.,]\d)", text) for a in alternatives)


class NewsQaSet:
    name = "qa-news"
    stage = "pipeline"
    metric = "answer states the facts and cites the gold document"
    description = "questions over the dated news corpus answered by a whole turn, with citation correctness"

    def items(self) -> list[Item]:
        return [Item(r["id"], r["category"], r) for r in read_jsonl(EVAL_SETS / "qa" / "questions.jsonl")]

    async def run(self, ctx: EvalContext, item: Item) -> ItemResult:
        agent = await pipeline_agent(ctx)
        index = ctx.news_index()
        started = time.perf_counter()
        end = (await agent.ask(TurnRequest(item.data["question"])))
        ms = (time.perf_counter() - started) * 1000
        facts = [states(end.answer, alts) for alts in item.data["facts"]]
        cited = [s for s in end.sources if s.kind == "document"]
        documents = item.data["documents"]
        gold = [s for s in cited if s.chunk_id.rsplit("#", 1)[0] in documents]
        gold_docs = {s.chunk_id.rsplit("#", 1)[0] for s in gold}
        passage_holds = any(_passage_states(index, s.chunk_id, item.data["facts"]) for s in gold)
        cites_gold = gold_docs == set(documents) if item.category == "several documents" else bool(gold)
        right = all(facts) and cites_gold
        return ItemResult(item.id, item.category, float(right), ms,
                          {"answer": end.answer[:400], "facts_stated": facts, "cited": [s.chunk_id for s in cited],
                           "gold_cited": cites_gold, "cited_passage_holds_answer": passage_holds})


def _passage_states(index, chunk_id: str, facts: list[list[str]]) -> bool:
    doc_id, _, n = chunk_id.rpartition("#")
    chunk = next((c for c in index.chunks(doc_id) if str(c.n) == n), None)
    return chunk is not None and any(states(chunk.text, alts) for alts in facts)
