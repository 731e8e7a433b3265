"""Tool retrieval on a real catalogue: BFCL's functions, dense (our plugin index) against BM25.

    .venv/bin/python bench/tool_retrieval.py [--limit N] [--check]

Catalogue: every distinct function (name + description) of BFCL's `multiple` and
`live_multiple` sets, from the installed bfcl-eval package (pip install --no-deps
bfcl-eval). Each single-call question is scored on where its gold function ranks in
the whole catalogue: recall@1, recall@5, nDCG@5, for our index and for BM25 (bm25s)
in the same run. Also: how often BFCL `irrelevance` questions are abstained on at
the threshold, how often relevant questions are wrongly abstained on, build time,
and search latency over a 10,000-plugin catalogue (query embedding included).
Targets: recall@5 >= 0.85 (same name); search p50 <= 15 ms over 10,000 plugins.
Writes bench/results/tool_retrieval.json and tool_retrieval.png.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.support.checks import RESULTS, add_check, at_least, at_most, finish, run_info, targets_json  # noqa: E402
from tansuo.embedding import embedding_model_path  # noqa: E402
from tansuo.evals.bfcl import catalogue_spec, data_dir, load_catalogue  # noqa: E402
from tansuo.plugins.index import DEFAULT_THRESHOLD, PluginIndex, SentenceTransformerEmbedder, document  # noqa: E402
from tansuo.settings import load_settings  # noqa: E402

THRESHOLDS = [round(t, 2) for t in np.arange(0.10, 0.61, 0.05)]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def ranks_dense(index: PluginIndex, queries: list[str], k: int) -> tuple[list[list[int]], list[float]]:
    rows = {name: i for i, name in enumerate(index.names)}
    ranked, best = [], []
    for q in queries:
        result = index.search(q, k=k)
        ranked.append([rows[h.name] for h in result.hits])
        best.append(result.hits[0].score if result.hits else -1.0)
    return ranked, best


def ranks_bm25(docs: list[str], queries: list[str], k: int) -> list[list[int]]:
    import bm25s

    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(docs, stopwords="en", show_progress=False), show_progress=False)
    results, _ = retriever.retrieve(bm25s.tokenize(queries, stopwords="en", show_progress=False), k=k,
                                    show_progress=False)
    return [list(map(int, row)) for row in results]


def scores(ranked: list[list[int]], relevant: list[set[int]]) -> dict[str, float]:
    """recall@k: a relevant entry in the top k; nDCG@5 with binary relevance."""
    n = len(relevant)
    out = {f"recall@{k}": sum(bool(set(r[:k]) & rel) for r, rel in zip(ranked, relevant)) / n for k in (1, 5)}
    ndcg = 0.0
    for row, rel in zip(ranked, relevant):
        dcg = sum(1 / math.log2(i + 2) for i, x in enumerate(row[:5]) if x in rel)
        ndcg += dcg / sum(1 / math.log2(i + 2) for i in range(min(len(rel), 5)))
    out["ndcg@5"] = ndcg / n
    return out


def latency_10k(embedder: SentenceTransformerEmbedder, queries: list[str]) -> dict[str, float]:
    """Search over 10,000 plugins. Flat search time does not depend on what the vectors say,
    so the catalogue is 10,000 random unit vectors; the query is embedded for real."""
    rng = np.random.default_rng(0)
    index = PluginIndex(embedder)
    vectors = rng.standard_normal((10_000, embedder.dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index._set([f"p{i}" for i in range(10_000)], [""] * 10_000, vectors)
    index.search(queries[0])  # warm up
    times = []
    for q in queries[:200]:
        started = time.perf_counter()
        index.search(q, k=5)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"p50_ms": statistics.median(times), "p95_ms": times[int(0.95 * (len(times) - 1))], "n": len(times)}


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    metrics = ["recall@1", "recall@5", "ndcg@5"]
    x = np.arange(len(metrics))
    for offset, (label, key) in zip((-0.2, 0.2), (("plugin index (MiniLM + faiss)", "dense"), ("BM25", "bm25"))):
        left.bar(x + offset, [results[key][m] for m in metrics], 0.4, label=label)
    left.set_xticks(x, metrics)
    left.set_ylim(0, 1)
    left.axhline(0.85, color="grey", linestyle=":", label="target recall@5")
    left.set_title(f"BFCL tool retrieval ({results['catalogue_size']} functions, same-name relevant)")
    left.legend(loc="lower right")
    sweep = results["threshold_sweep"]
    right.plot([s["threshold"] for s in sweep], [s["irrelevance_abstain"] for s in sweep], marker="o",
               label="irrelevance questions abstained (want high)")
    right.plot([s["threshold"] for s in sweep], [s["relevant_abstain"] for s in sweep], marker="o",
               label="relevant questions abstained (want low)")
    right.axvline(results["threshold"], color="grey", linestyle=":")
    right.set_xlabel("threshold (cosine)")
    right.set_title("abstaining: 'no plugin fits'")
    right.legend()
    fig.tight_layout()
    fig.savefig(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, help="score only the first N questions")
    add_check(parser)
    args = parser.parse_args()

    functions, questions, irrelevant = load_catalogue(data_dir())
    if args.limit:
        questions = questions[:args.limit]
    specs = [catalogue_spec(i, fn) for i, fn in enumerate(functions)]
    log(f"catalogue: {len(specs)} functions; {len(questions)} single-call questions; {len(irrelevant)} irrelevance")

    embedder = SentenceTransformerEmbedder(embedding_model_path(load_settings()),
                                           progress=lambda d, t: log(f"  embedding {d}/{t}") if d % 512 < 64 or d == t else None)
    embedder.embed(["warm up"])
    index = PluginIndex(embedder)
    started = time.perf_counter()
    index.build(specs)
    build_s = time.perf_counter() - started

    queries, gold = [q for q, _, _ in questions], [g for _, g, _ in questions]
    # The model calls a function by name: entries sharing the gold's name (the same API described
    # in another BFCL item) are relevant too. "strict" counts only the gold entry itself.
    by_name: dict[str, set[int]] = {}
    for row, fn in enumerate(functions):
        by_name.setdefault(fn["name"], set()).add(row)
    relevant = [by_name[functions[g]["name"]] for g in gold]
    exact = [{g} for g in gold]
    dense_ranked, dense_best = ranks_dense(index, queries, 5)
    _, irrelevant_best = ranks_dense(index, irrelevant, 1)
    bm25_ranked = ranks_bm25([document(s) for s in specs], queries, 5)
    sweep = [{"threshold": t,
              "irrelevance_abstain": float(np.mean([b < t for b in irrelevant_best])),
              "relevant_abstain": float(np.mean([b < t for b in dense_best]))} for t in THRESHOLDS]
    chosen = next(s for s in sweep if s["threshold"] == round(DEFAULT_THRESHOLD, 2))
    results = {
        **run_info(), "catalogue_size": len(specs), "questions": len(questions), "irrelevance_questions": len(irrelevant),
        "dense": scores(dense_ranked, relevant), "bm25": scores(bm25_ranked, relevant),
        "dense_strict": scores(dense_ranked, exact), "bm25_strict": scores(bm25_ranked, exact),
        "threshold": DEFAULT_THRESHOLD, "at_threshold": chosen, "threshold_sweep": sweep,
        "build_s": build_s, "latency_10k": latency_10k(embedder, queries),
    }
    checked = [at_least("recall@5 (same name)", results["dense"]["recall@5"], 0.85),
               at_most("search p50 over 10,000 plugins", results["latency_10k"]["p50_ms"], 15, " ms")]
    results["targets"] = targets_json(checked)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "tool_retrieval.json").write_text(json.dumps(results, indent=2) + "\n")
    plot(results, RESULTS / "tool_retrieval.png")

    lat = results["latency_10k"]
    print(f"catalogue {len(specs)} BFCL functions, {len(questions)} single-call questions")
    print("| relevant | retriever | recall@1 | recall@5 | nDCG@5 |\n|---|---|---|---|---|")
    for label, suffix in (("same name", ""), ("exact entry", "_strict")):
        d, b = results["dense" + suffix], results["bm25" + suffix]
        for name, r in (("plugin index (MiniLM + faiss)", d), ("BM25 (bm25s)", b)):
            print(f"| {label} | {name} | {r['recall@1']:.3f} | {r['recall@5']:.3f} | {r['ndcg@5']:.3f} |")
        print(f"| {label} | ratio index / BM25 | {d['recall@1'] / b['recall@1']:.2f} | "
              f"{d['recall@5'] / b['recall@5']:.2f} | {d['ndcg@5'] / b['ndcg@5']:.2f} |")
    print(f"threshold {DEFAULT_THRESHOLD}: abstains on {chosen['irrelevance_abstain']:.1%} of irrelevance questions, "
          f"wrongly on {chosen['relevant_abstain']:.1%} of relevant ones")
    print(f"index build: {build_s:.1f}s for {len(specs)} plugins ({len(specs) / build_s:.0f}/s); "
          f"search over 10,000 plugins incl. query embedding: p50 {lat['p50_ms']:.1f} ms, p95 {lat['p95_ms']:.1f} ms")
    return finish("tool_retrieval", checked, args.check)


if __name__ == "__main__":
    sys.exit(main())
