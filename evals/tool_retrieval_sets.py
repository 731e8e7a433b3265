"""Tool retrieval over BFCL's catalogue: every distinct function of BFCL's `multiple` and
`live_multiple` sets indexed as plugins (the plugin index the agent uses), each single-call
question scored on whether a function with its gold name is among the top 5 (the model calls by
name; BFCL describes one API in several items with small wording changes)."""

from __future__ import annotations

import time

from tansuo.evals.bfcl import catalogue_spec, data_dir, load_catalogue
from tansuo.evals.context import EvalContext
from tansuo.evals.sets import Item, ItemResult, hash_split

K = 5


class ToolRetrievalSet:
    name = "tool-retrieval-bfcl"
    stage = "retrieval"
    metric = f"recall@{K} (a function with the gold name in the top {K})"
    description = "the plugin index over BFCL's 1,418-function catalogue, single-call questions"
    splits = "by hash of the question: a third dev, two thirds test"

    def items(self) -> list[Item]:
        functions, questions, _ = load_catalogue(data_dir())
        return [Item(f"{category}-{i:04d}", category, {"question": q, "gold": functions[row]["name"]}, hash_split(q))
                for i, (q, row, category) in enumerate(questions)]

    async def run(self, ctx: EvalContext, item: Item) -> ItemResult:
        index, names = ctx.shared("bfcl-catalogue", lambda: _catalogue_index(ctx))
        started = time.perf_counter()
        hits = index.search(item.data["question"], k=K).hits
        ms = (time.perf_counter() - started) * 1000
        found = [names[h.name] for h in hits]
        return ItemResult(item.id, item.category, float(item.data["gold"] in found), ms,
                          {"found": found, "gold": item.data["gold"]})


def _catalogue_index(ctx: EvalContext):
    """The catalogue in the plugin index (about 50 s to embed on 2 cores, once per run), and each
    entry's BFCL name."""
    from tansuo.plugins.index import PluginIndex

    functions, _, _ = load_catalogue(data_dir())
    specs = [catalogue_spec(i, fn) for i, fn in enumerate(functions)]
    index = PluginIndex(ctx.get_embedder())
    index.build(specs)
    return index, {spec.name: fn["name"] for spec, fn in zip(specs, functions, strict=True)}
