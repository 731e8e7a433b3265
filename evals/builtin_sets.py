"""The project's sets that need no model: retrieval recall over the news corpus, the answer
cache's question pairs, and the harmlessness check on harmful and benign prompts."""

from __future__ import annotations

import hashlib
import json
import time

from tansuo.evals.context import EVAL_SETS, EvalContext
from tansuo.evals.sets import Item, ItemResult, JsonlSet


class RetrievalSet(JsonlSet):
    name = "retrieval-news"
    stage = "retrieval"
    description = "hybrid search over the dated news corpus: the share of the labelled documents in the top 5"
    metric = "recall@5"
    splits = "by hash of the question: a third dev, two thirds test"
    k = 5

    file = "retrieval/questions.jsonl"

    def rows(self) -> list[dict]:
        return [r for r in super().rows() if r["corpus"] == "news"]

    def category(self, row: dict) -> str:
        return "one document" if len(row["relevant"]) == 1 else "several documents"

    async def run(self, ctx: EvalContext, item: Item) -> ItemResult:
        index = ctx.news_index()
        started = time.perf_counter()
        hits = index.search(item.data["question"], k=self.k)
        ms = (time.perf_counter() - started) * 1000
        found = [h.doc_id for h in hits]
        relevant = set(item.data["relevant"])
        score = len(relevant & set(found)) / len(relevant)
        return ItemResult(item.id, item.category, score, ms, {"found": found, "relevant": sorted(relevant)})


class CachePairsSet(JsonlSet):
    name = "cache-pairs"
    stage = "cache"
    description = "answer cache on labelled question pairs: served when the meaning is the same, never otherwise"
    metric = "accuracy (hit on same meaning, miss on different)"
    splits = ("dev: the pairs the cache's guards and threshold were written against, and later pairs that nearly "
              "repeat one (232); test: the rest of those written after (49)")

    file, category_field = "cache/pairs.jsonl", "kind"

    async def run(self, ctx: EvalContext, item: Item) -> ItemResult:
        from tansuo.server.cache import AnswerCache, CacheOptions
        from tansuo.server.store import MemoryStore

        cache = AnswerCache(MemoryStore(), ctx.get_embedder(), document_hash=lambda _: None,
                            options=CacheOptions(similarity=ctx.settings.answer_cache_similarity))
        await cache.store_answer(item.data["a"], {"answer": "stored"})
        found = await cache.lookup(item.data["b"])
        hit = found.hit is not None
        return ItemResult(item.id, item.category, float(hit == item.data["same"]), found.elapsed_ms,
                          {"hit": hit, "same": item.data["same"], "reason": found.reason,
                           "similarity": round(found.nearest or 0.0, 4)})


class HarmSet:
    name = "harm"
    stage = "verifiers"
    description = ("the request check on harmful prompts (Do-Not-Answer, AdvBench, when their packages are "
                   "installed) and benign ones (the project's): flagged (blocked or cautioned) when harmful, "
                   "passed when not; a caution counts the same on both sides")
    metric = "accuracy (flagged: blocked or cautioned)"
    splits = ("by hash of the prompt: the dev third trains the request classifier; test prompts that nearly "
              "repeat a dev prompt or an exemplar are left out (eval_sets/harm/near_twins.json)")

    def items(self) -> list[Item]:
        return [Item(f"{p.set}-{i:04d}", p.set, {"text": p.text, "harmful": p.harmful}, split)
                for i, (p, split) in enumerate(harm_prompts())]

    async def run(self, ctx: EvalContext, item: Item) -> ItemResult:
        from tansuo.verifiers.build import build_harmlessness

        harm = ctx.shared("harm", lambda: build_harmlessness(ctx.settings, ctx.get_embedder()))
        verdict = await harm.check_input(item.data["text"])
        blocked = verdict.action == "block"
        cautioned = not blocked and "caution" in verdict.flags
        return ItemResult(item.id, item.category, float((blocked or cautioned) == item.data["harmful"]),
                          verdict.elapsed_ms, {"action": verdict.action, "flags": list(verdict.flags),
                                               "harmful": item.data["harmful"], "blocked": blocked,
                                               "cautioned": cautioned})


def harm_prompts(*, benign_questions: bool = False) -> list[tuple]:
    """The harm and benign prompts that are installed, each with its split; test prompts that are
    near-twins of a dev prompt or an exemplar (eval_sets/harm/build.py) are left out. With
    `benign_questions`, TruthfulQA's and NQ-open's questions too (the verifier benchmark's)."""
    from tansuo.verifiers import external

    prompts = external.benign(EVAL_SETS) if benign_questions else external.project_questions(EVAL_SETS)
    for loader in (external.do_not_answer, external.advbench):
        try:
            prompts += loader()
        except external.DataSetMissing:
            pass  # `make harm-data` installs them; the project's own prompts still run
    twins = {r["sha1"] for r in json.loads((EVAL_SETS / "harm" / "near_twins.json").read_text())["removed"]}
    out = []
    for p in prompts:
        split = external.split_of(p.text)
        if split == "test" and hashlib.sha1(p.text.encode()).hexdigest() in twins:
            continue
        out.append((p, split))
    return out
