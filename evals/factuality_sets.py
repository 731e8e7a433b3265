"""The factuality check on labelled answers (eval_sets/factuality/items.jsonl, built without
`verifiers/` code): right when it flags an answer with an unsupported claim (flagged unsupported or
re-pointed to another source) and passes a supported one. Categories are the kinds of item (planted
changed numbers, swapped facts, wrong citations; answers the model wrote); `flagged` per category
is the recall on the unsupported kinds and the false-flag rate on the supported ones. The check is
built as the service builds it from the settings (the model judges only where `auto` says so)."""

from __future__ import annotations

import time

from tansuo.evals.context import EVAL_SETS, EvalContext
from tansuo.evals.sets import Item, ItemResult, JsonlSet


class FactualitySet(JsonlSet):
    name = "factuality"
    stage = "verifiers"
    metric = "accuracy (unsupported answers flagged, supported ones passed)"
    description = ("the factuality check on answers citing news documents: planted errors (changed numbers, "
                   "swapped facts, wrong citations) and answers the embedded model wrote, labelled by rule")
    splits = "by hash of the question, like qa-news: a third dev, two thirds test"

    file, category_field = "factuality/items.jsonl", "kind"

    async def run(self, ctx: EvalContext, item: Item) -> ItemResult:
        facts = ctx.shared("factuality", lambda: _checker(ctx))
        book = _book(ctx, item.data["sources"])
        started = time.perf_counter()
        verdict, _ = await facts.check(item.data["answer"], book, final=True)
        ms = (time.perf_counter() - started) * 1000
        flagged = any(c["status"] in ("unsupported", "repointed") for c in verdict.evidence)
        truth = item.data["label"] == "unsupported"
        return ItemResult(item.id, item.category, float(flagged == truth), ms,
                          {"flagged": flagged, "unsupported": truth})


def _checker(ctx: EvalContext):
    from tansuo.verifiers.build import build_verifiers

    settings = ctx.settings.model_copy(update={"verifiers": ["factuality"], "data_dir": ctx.work_dir / "data"})
    return build_verifiers(settings, embedder=ctx.get_embedder(), backend=ctx.get_backend()).factuality


def _book(ctx: EvalContext, doc_ids: list[str]):
    from tansuo.core.sources import SourceBook
    from tansuo.retrieval.hits import Hit

    docs = ctx.shared("news-documents", lambda: _documents())
    book = SourceBook()
    for doc_id in doc_ids:
        d = docs[doc_id]
        book.add_hit(Hit(f"{d.id}#0", d.id, d.title, d.source, d.text, 0, len(d.text), d.published, d.updated,
                         "metadata", {}, 1.0))
    return book


def _documents():
    from tansuo.retrieval.loaders import load_path

    return {d.id: d for d in load_path(EVAL_SETS / "news").documents}
