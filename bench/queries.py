"""Query quality: recall@5 of the turn's search with the model's rewritten queries against the
question as asked, side by side, on the retrieval set's questions (the news corpus).

    .venv/bin/python bench/queries.py [--split dev|test] [--limit N] [--check]

Both arms go through the turn's own search step (`agent.searching.search`: each query's relevant hits,
`search_k` per query, numbered in order found); they differ only in the queries: the question alone,
or `agent.queries.needed(question, the embedded model's queries)`. Per split only aggregates are
printed and stored. Target: rewritten recall@5 >= as asked (and the same for MRR is reported).
Writes bench/results/queries-<split>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.support.checks import RESULTS, add_check, at_least, finish, run_info, targets_json  # noqa: E402
from tansuo.agent import planner, searching  # noqa: E402
from tansuo.agent.budget import Budget  # noqa: E402
from tansuo.agent.queries import needed  # noqa: E402
from tansuo.agent.turn import Turn, TurnRequest  # noqa: E402
from tansuo.evals.context import EVAL_SETS, EvalContext, pipeline_agent  # noqa: E402
from tansuo.evals.sets import hash_split, read_jsonl  # noqa: E402
from tansuo.settings import load_settings  # noqa: E402


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


async def model_queries(deps, question: str, today: str) -> list[str]:
    situation = planner.Situation(question=question, today=today, can_search=True, preview=["documents"])
    parsed, _ = await planner.ask_model(deps.backend, planner.queries_messages(situation), planner.queries_schema(),
                                        deps.options.plan_tokens)
    return list(planner.to_decision(planner.SEARCH, parsed).queries)


async def found_documents(deps, question: str, queries: list[str]) -> list[str]:
    """The documents the turn's search step keeps for these queries, in the order it numbers them."""
    turn = Turn(TurnRequest(question), "tools", ("search",), Budget(deps.options.limits), today="")
    numbers = await searching.search(deps, turn, queries)
    docs = [turn.book.get(n).doc_id for n in numbers]
    return list(dict.fromkeys(docs))[:5]


def recall(found: list[str], relevant: list[str]) -> float:
    return len(set(found) & set(relevant)) / len(relevant)


def mrr(found: list[str], relevant: list[str]) -> float:
    return next((1 / i for i, d in enumerate(found, start=1) if d in relevant), 0.0)


async def measure(split: str, limit: int | None) -> dict:
    rows = [r for r in read_jsonl(EVAL_SETS / "retrieval" / "questions.jsonl") if hash_split(r["question"]) == split]
    rows = rows[:limit] if limit else rows
    with tempfile.TemporaryDirectory() as work:
        ctx = EvalContext(load_settings(), Path(work))
        try:
            deps = (await pipeline_agent(ctx)).deps
            asked, rewritten, asked_rr, rewritten_rr, extra = [], [], [], [], []
            for i, row in enumerate(rows, start=1):
                question, relevant = row["question"], row["relevant"]
                kept = needed(question, await model_queries(deps, question, "2026-12-05"))
                a = await found_documents(deps, question, [question])
                b = await found_documents(deps, question, kept)
                asked.append(recall(a, relevant))
                rewritten.append(recall(b, relevant))
                asked_rr.append(mrr(a, relevant))
                rewritten_rr.append(mrr(b, relevant))
                extra.append(len(kept) - 1)
                log(f"  {split} {i}/{len(rows)}")
        finally:
            await ctx.aclose()
    return {"split": split, "questions": len(rows), "recall5_as_asked": round(statistics.mean(asked), 4),
            "recall5_rewritten": round(statistics.mean(rewritten), 4),
            "mrr_as_asked": round(statistics.mean(asked_rr), 4),
            "mrr_rewritten": round(statistics.mean(rewritten_rr), 4),
            "model_queries_kept_per_question": round(statistics.mean(extra), 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=("dev", "test"), default="dev")
    parser.add_argument("--limit", type=int, default=None)
    add_check(parser)
    args = parser.parse_args()
    result = asyncio.run(measure(args.split, args.limit))
    targets = [at_least(f"recall@5 rewritten vs as asked ({args.split})",
                        result["recall5_rewritten"] - result["recall5_as_asked"], 0.0)]
    print(json.dumps(result, indent=2))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"queries-{args.split}.json").write_text(json.dumps(
        {"run": run_info(), **result, "targets": targets_json(targets)}, indent=2) + "\n")
    return finish("queries", targets, args.check)


if __name__ == "__main__":
    sys.exit(main())
