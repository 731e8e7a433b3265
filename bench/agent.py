"""Agent benchmark: where a turn's time goes, and what prompt lookup buys on summaries.

    .venv/bin/python bench/agent.py [--turns 30] [--summaries 12] [--baseline REF] [--check]

(a) 30 fixed turns (built-in tool requests, questions over the news eval corpus, small talk,
    a two-part question) through the real agent and the embedded model, one at a time.
    Per turn: total time, time waiting on the model, and everything else (planning overhead,
    tool routing, retrieval, tools; the verifiers are measured apart, by bench/verifiers.py).
    Target: everything else <= 10% of the turn and <= 50 ms p50.
(b) generation tokens/s on per-document summaries (the copy-heavy requests), with and without
    prompt-lookup decoding: two llama-servers, identical but for that flag, requests alternated.
Results: stdout (Markdown), bench/results/agent.json and bench/results/agent.png.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.support.checks import RESULTS, add_check, at_most, finish, run_info, targets_json  # noqa: E402
from tansuo.agent.answer import Writing, summary_request  # noqa: E402
from tansuo.agent.events import Source  # noqa: E402
from tansuo.agent.turn import TurnRequest  # noqa: E402
from tansuo.core.sources import Evidence  # noqa: E402
from tansuo.embedding import SentenceTransformerEmbedder, embedding_model_path  # noqa: E402
from tansuo.evals.sets import hash_split  # noqa: E402
from tansuo.llm.embedded import EmbeddedBackend  # noqa: E402
from tansuo.llm.factory import server_config  # noqa: E402
from tansuo.llm.llama_server import LlamaServer  # noqa: E402
from tansuo.retrieval.build import open_index  # noqa: E402
from tansuo.retrieval.loaders import load_path  # noqa: E402
from tansuo.server.assembly import build_agent  # noqa: E402
from tansuo.settings import load_settings  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NEWS = ROOT / "eval_sets" / "news"
QUESTIONS = ROOT / "eval_sets" / "retrieval" / "questions.jsonl"
CLOCK = datetime(2026, 11, 28, 12, 0)
TOOL_TURNS = [
    "What is 37 times 91?", "Solve x^2 - 5x + 6 = 0", "What is the derivative of x^3 + 2x?",
    "Convert 26.2 miles to kilometers", "How many pounds is 70 kg?", "What is 100 degrees Fahrenheit in Celsius?",
    "What weekday was 2024-02-29?", "How many days are there between 2025-01-01 and 2025-12-25?",
    "What is the integral of x^2 from 0 to 3?", "What is 2 to the power of 64?",
]
CHAT_TURNS = ["Hello! Who are you?", "Thanks, that was helpful.", "Tell me a fun fact about owls.",
              "When did the Skerry ferry come back, and what does a single adult swim cost?"]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def turns(n: int) -> list[str]:
    """Tool requests, small talk, and news questions of the retrieval set's dev split (the turns'
    answers and verdicts are written to the results, so no test question is among them)."""
    news = [json.loads(line)["question"] for line in QUESTIONS.read_text().splitlines()
            if line.strip() and json.loads(line)["corpus"] == "news"]
    news = [q for q in news if hash_split(q) == "dev"]
    items = TOOL_TURNS + news[:16] + CHAT_TURNS
    return items[:n]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def bench_turns(settings, embedder, n: int) -> dict:
    agent = await build_agent(settings, embedder=embedder, clock=lambda: CLOCK)
    rows = []
    try:
        await agent.ask(TurnRequest("warm up: what is 1 + 1?"))  # starts llama-server, warms tools
        for i, question in enumerate(turns(n), start=1):
            started = time.perf_counter()
            end = await agent.ask(TurnRequest(question))
            total = (time.perf_counter() - started) * 1000
            model, verify = end.timings["model_ms"], end.timings.get("verify_ms", 0.0)
            rows.append({"question": question, "total_ms": round(total, 1), "model_ms": model,
                         "verify_ms": verify, "other_ms": round(total - model - verify, 1),
                         "steps": end.budget["steps"],
                         "tool_calls": end.budget["tool_calls"], "complete": end.complete,
                         "answer": end.answer[:200]})
            log(f"  turn {i}/{n}: {total:7.0f} ms, model {model:7.0f} ms, other {total - model:5.0f} ms  {question}")
    finally:
        await agent.deps.backend.aclose()
    totals, others = [r["total_ms"] for r in rows], [r["other_ms"] for r in rows]
    return {"turns": rows, "total_p50_ms": pct(totals, 0.5), "total_p95_ms": pct(totals, 0.95),
            "model_p50_ms": pct([r["model_ms"] for r in rows], 0.5),
            "other_p50_ms": pct(others, 0.5), "other_p95_ms": pct(others, 0.95),
            "other_share": sum(others) / sum(totals)}


async def bench_summaries(settings, n: int) -> dict:
    """Same summary requests on two servers that differ only in prompt lookup; tokens/s per request."""
    docs = sorted(load_path(NEWS).documents, key=lambda d: -len(d.text))[:n]
    backends = {}
    for flag in (False, True):
        cfg, env = server_config(settings)
        cfg = replace(cfg, prompt_lookup=flag, parallel=1)
        backends[flag] = EmbeddedBackend(LlamaServer(cfg, env=env, log_path=settings.data_dir / f"bench-{flag}.log"))
    rates: dict[bool, list[float]] = {False: [], True: []}
    tokens: dict[bool, int] = {False: 0, True: 0}
    same = 0
    try:
        writing = Writing(summary_tokens=160)
        for backend in backends.values():  # warm both
            await backend.chat(summary_request("warm up", [_evidence(docs[0])], writing))
        for i, doc in enumerate(docs):
            request = summary_request(f"What does this say about {doc.title}?", [_evidence(doc)], writing)
            outputs = {}
            for flag in ((False, True) if i % 2 == 0 else (True, False)):
                result = await backends[flag].chat(request)
                outputs[flag] = result.content
                gen_ms = result.timings.generation_ms or result.timings.total_ms
                rates[flag].append(result.usage.completion_tokens / (gen_ms / 1000))
                tokens[flag] += result.usage.completion_tokens
            same += outputs[False] == outputs[True]
            log(f"  summary {i + 1}/{len(docs)}: {rates[False][-1]:6.1f} vs {rates[True][-1]:6.1f} tokens/s")
    finally:
        for backend in backends.values():
            await backend.aclose()
    off, on = statistics.median(rates[False]), statistics.median(rates[True])
    return {"requests": len(docs), "tokens_per_s_without": round(off, 1), "tokens_per_s_with": round(on, 1),
            "ratio": round(on / off, 3), "identical_outputs": same, "completion_tokens": tokens}


def _evidence(doc) -> Evidence:
    return Evidence(Source(n=1, title=doc.title, source=doc.source, chunk_id=f"{doc.id}#0"), doc.text, doc.id)


def plot(turn_rows: list[dict], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(11, 4))
    xs = range(1, len(turn_rows) + 1)
    model = [r["model_ms"] / 1000 for r in turn_rows]
    other = [r["other_ms"] / 1000 for r in turn_rows]
    ax.bar(xs, model, label="model")
    ax.bar(xs, other, bottom=model, label="everything else")
    ax.set_xlabel("turn")
    ax.set_ylabel("seconds")
    ax.set_title("Agent turn latency: model vs everything else (embedded SmolLM2-135M, 2 cores)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def targets(turn_stats: dict, baseline: dict | None = None) -> list:
    out = [at_most("everything but the model, share of all turn time", 100 * turn_stats["other_share"], 10, "%"),
           at_most("everything but the model, p50 per turn", turn_stats["other_p50_ms"], 50, " ms")]
    if baseline is not None:
        out.append(at_most(f"turn p50, this tree / {baseline['ref']}",
                           turn_stats["total_p50_ms"] / baseline["total_p50_ms"], 1.2, "x"))
    return out


def run_baseline(ref: str, turns: int) -> dict:
    """The same turns through another commit's code (a git worktree, this venv), in this run: its
    bench/agent.py writes its own results in the worktree, read back here."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory(prefix="tansuo-baseline-") as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(["git", "-C", str(root), "worktree", "add", "--detach", str(tree), ref], check=True,
                       capture_output=True)
        try:
            subprocess.run([sys.executable, str(tree / "bench" / "agent.py"), "--turns", str(turns),
                            "--summaries", "1"], cwd=tree, check=True)
            stats = json.loads((tree / "bench" / "results" / "agent.json").read_text())["turns"]
        finally:
            subprocess.run(["git", "-C", str(root), "worktree", "remove", "--force", str(tree)], check=False)
    return {"ref": ref, "total_p50_ms": stats["total_p50_ms"], "model_p50_ms": stats["model_p50_ms"],
            "other_share": stats["other_share"]}


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=30)
    parser.add_argument("--summaries", type=int, default=12)
    parser.add_argument("--baseline", metavar="REF", help="also run the turns on this commit first; target: "
                                                            "turn p50 within 1.2x of it")
    add_check(parser)
    args = parser.parse_args()
    baseline = None
    if args.baseline:
        log(f"baseline: the same {args.turns} turns on {args.baseline}")
        baseline = run_baseline(args.baseline, args.turns)
    with tempfile.TemporaryDirectory(prefix="tansuo-bench-agent-") as tmp:
        settings = load_settings(data_dir=Path(tmp), default_corpus=False, n_ctx=4096, parallel=1)
        embedder = SentenceTransformerEmbedder(embedding_model_path(settings))
        log("indexing the news eval corpus")
        open_index(settings, embedder=embedder).add(load_path(NEWS).documents)
        log(f"(a) {args.turns} turns")
        turn_stats = await bench_turns(settings, embedder, args.turns)
        log("(b) summaries with and without prompt lookup")
        summary_stats = await bench_summaries(settings, args.summaries)
    RESULTS.mkdir(parents=True, exist_ok=True)
    checked = targets(turn_stats, baseline)
    report = {**run_info(), "turns": turn_stats, "summaries": summary_stats, "baseline": baseline,
              "targets": targets_json(checked)}
    (RESULTS / "agent.json").write_text(json.dumps(report, indent=2))
    plot(turn_stats["turns"], RESULTS / "agent.png")
    t, s = turn_stats, summary_stats
    print("| measure | value | target |\n|---|---|---|")
    print(f"| turn p50 / p95 | {t['total_p50_ms']:.0f} / {t['total_p95_ms']:.0f} ms | |")
    if baseline:
        print(f"| turn p50 on {baseline['ref']} (same run, before) | {baseline['total_p50_ms']:.0f} ms | "
              f"this tree within 1.2x: x{t['total_p50_ms'] / baseline['total_p50_ms']:.2f} |")
    print(f"| model p50 | {t['model_p50_ms']:.0f} ms | |")
    print(f"| everything else p50 / p95 | {t['other_p50_ms']:.1f} / {t['other_p95_ms']:.1f} ms | <= 50 ms p50 |")
    print(f"| everything else, share of all turn time | {t['other_share']:.1%} | <= 10% |")
    print(f"| summary generation without / with prompt lookup | {s['tokens_per_s_without']} / "
          f"{s['tokens_per_s_with']} tokens/s (x{s['ratio']}) | |")
    print(f"| summaries identical with and without | {s['identical_outputs']} of {s['requests']} | |")
    return finish("agent", checked, args.check)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
