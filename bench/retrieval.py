"""Retrieval benchmark: ingestion throughput, query latency at 1k/10k/100k chunks, memory, quality.

    .venv/bin/python bench/retrieval.py [--check]   # or: make bench-retrieval

Everything is measured side by side in one run on this machine:
1. Ingestion throughput with the embedding model in the loop (1k chunks), and without it
   (chunking, BM25 tokens, segment writes, search-structure build) at 1k, 10k and 100k.
2. Query latency p50/p95 for dense-only, BM25-only and hybrid at 1k, 10k and 100k chunks,
   the live query embedding included (dense and hybrid).
3. Exact scan vs IVF for dense search at growing sizes (latency, IVF recall@10): the
   measured crossover behind DEFAULT_APPROX_THRESHOLD.
4. Memory and restart time of the 100k index (a fresh process opens it).
5. Quality: recall@5 and MRR of dense, BM25 and hybrid on eval_sets/retrieval/questions.jsonl
   over the news eval corpus plus the default corpus (full-length embeddings).

The latency indexes take their document vectors from a cache in the data dir (MiniLM on each
chunk's first 32 tokens), filled by the first run (about 25 minutes; embedding 100k full chunks
would take over two hours on two cores). Quality is reported per split of the labelled questions
(dev and test, by hash of the question) and over all of them.
Targets: hybrid p50 <= 25 ms at 100k chunks; hybrid recall@5 at least the better single retriever's
on the test split.
Results: stdout, bench/results/retrieval.json and retrieval.png.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.support.checks import add_check, at_least, at_most, finish, run_info, targets_json  # noqa: E402
from bench.support.corpus_cache import LATENCY_TOKENS, SIZES, CachedEmbedder, latency_docs, progress_line, warm  # noqa: E402
from tansuo.embedding import SentenceTransformerEmbedder, embedding_model_path  # noqa: E402
from tansuo.evals.sets import hash_split  # noqa: E402
from tansuo.retrieval.corpus import default_corpus  # noqa: E402
from tansuo.retrieval.dense import EXACT_SUBSET, Dense  # noqa: E402
from tansuo.retrieval.index import DocumentIndex  # noqa: E402
from tansuo.retrieval.loaders import load_path  # noqa: E402
from tansuo.settings import load_settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
QUESTIONS = ROOT / "eval_sets" / "retrieval" / "questions.jsonl"
NEWS = ROOT / "eval_sets" / "news"
MODES = ("dense", "bm25", "hybrid")


class BenchEmbedder:
    """Documents from the vector cache, queries (one text) through the live model."""

    def __init__(self, cached: CachedEmbedder, live: SentenceTransformerEmbedder) -> None:
        self.cached, self.live = cached, live
        self.dim, self.name = live.dim, live.name

    def embed(self, texts):
        return self.live.embed(texts) if len(texts) == 1 else self.cached.embed(texts)


def questions() -> list[dict]:
    return [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]


def percentiles(samples: list[float]) -> dict[str, float]:
    ms = np.array(samples) * 1000
    return {"p50_ms": round(float(np.percentile(ms, 50)), 2), "p95_ms": round(float(np.percentile(ms, 95)), 2)}


def time_queries(index: DocumentIndex, queries: list[str], mode: str) -> dict[str, float]:
    for q in queries[:10]:
        index.search(q, 5, mode=mode)  # warm caches
    samples = []
    for q in queries:
        t = time.perf_counter()
        index.search(q, 5, mode=mode)
        samples.append(time.perf_counter() - t)
    return percentiles(samples)


def ingest_with_model(live: SentenceTransformerEmbedder, cache: Path) -> dict[str, float]:
    docs, _ = latency_docs(cache, 1_000)
    with tempfile.TemporaryDirectory() as tmp:
        index = DocumentIndex(Path(tmp), live)
        t = time.perf_counter()
        report = index.add(docs, progress=progress_line)
        index.prepare()
        seconds = time.perf_counter() - t
    return {"chunks": report.chunks, "seconds": round(seconds, 1), "chunks_per_s": round(report.chunks / seconds, 1)}


def latency_at(size: int, embedder: BenchEmbedder, cache: Path, queries: list[str], keep: Path | None):
    docs, _ = latency_docs(cache, size)
    folder = Path(tempfile.mkdtemp(dir=keep.parent)) if keep else Path(tempfile.mkdtemp())
    index = DocumentIndex(folder, embedder)
    t = time.perf_counter()
    report = index.add(docs, progress=progress_line)
    ingest_s = time.perf_counter() - t
    t = time.perf_counter()
    index.prepare()
    build_s = time.perf_counter() - t
    row = {"chunks": report.chunks, "documents": len(docs), "dense_index": index.stats()["dense"],
           "ingest_without_embedding_chunks_per_s": round(report.chunks / ingest_s, 1),
           "search_structures_build_s": round(build_s, 1), "disk_mib": round(index.stats()["disk_bytes"] / 2**20, 1)}
    for mode in MODES:
        row[mode] = time_queries(index, queries, mode)
    print(f"  {size:>7} chunks: " + ", ".join(f"{m} p50 {row[m]['p50_ms']} ms" for m in MODES), file=sys.stderr)
    if keep:
        folder.rename(keep)
        return row, keep
    return row, folder


def exact_vs_ivf(vectors: np.ndarray, query_sets: dict[str, np.ndarray]) -> list[dict]:
    """Latency of both, and how many of the exact top 10 IVF returns, for two query sets: the
    labelled questions (mostly about topics absent from this corpus) and excerpts of its own chunks."""
    rows = []
    for n in (10_000, 25_000, 50_000, len(vectors)):
        sub = np.ascontiguousarray(vectors[:n])
        exact = Dense(sub, approx_threshold=10**9)
        ivf = Dense(sub, approx_threshold=0)
        t = time.perf_counter()
        ivf.prepare()
        row = {"chunks": n, "ivf_build_s": round(time.perf_counter() - t, 1), "ivf_lists": ivf.ivf.nlist}
        times: dict[str, list[float]] = {"exact": [], "ivf": []}
        for name, query_vectors in query_sets.items():
            recall = []
            for q in query_vectors:
                t = time.perf_counter()
                truth = exact.search(q, 10)[0]
                times["exact"].append(time.perf_counter() - t)
                t = time.perf_counter()
                found = ivf.search(q, 10)[0]
                times["ivf"].append(time.perf_counter() - t)
                recall.append(len(set(truth) & set(found)) / 10)
            row[f"ivf_recall_at_10_{name}"] = round(float(np.mean(recall)), 3)
        row["exact"], row["ivf"] = percentiles(times["exact"]), percentiles(times["ivf"])
        rows.append(row)
        print(f"  dense {n}: exact p50 {row['exact']['p50_ms']} ms, ivf p50 {row['ivf']['p50_ms']} ms, recall@10 "
              + ", ".join(f"{k[17:]} {v}" for k, v in row.items() if k.startswith("ivf_recall")), file=sys.stderr)
    return rows


def chunk_excerpts(index: DocumentIndex, n: int = 150) -> list[str]:
    """A dozen words from the body of n random chunks: queries in the corpus's own domain."""
    texts = index._table.texts
    picks = np.random.default_rng(1).choice(len(texts), n, replace=False)
    return [" ".join(texts[i].split("\n\n", 1)[-1].split()[:12]) for i in picks]


MEMORY_PROBE = """
import json, sys, time
from pathlib import Path
from tansuo.retrieval.index import DocumentIndex
from tansuo.embedding import SentenceTransformerEmbedder
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) * 1024
emb = SentenceTransformerEmbedder(Path(sys.argv[2]))
emb.embed(["warm up the model"])
before = rss()
t = time.perf_counter()
index = DocumentIndex(Path(sys.argv[1]), emb)
index.prepare()
hits = index.search("how do I parse a configuration file", 5)
print(json.dumps({"rss_mib": round((rss() - before) / 2**20, 1), "open_s": round(time.perf_counter() - t, 2),
                  "hits": len(hits)}))
"""


def memory_and_restart(folder: Path, model_path: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(folder), str(model_path)], capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def quality(live: SentenceTransformerEmbedder, cache: Path, settings) -> dict:
    full = CachedEmbedder(embedding_model_path(settings), cache / "vectors-full.npz")
    embedder = BenchEmbedder(full, live)
    docs = load_path(NEWS).documents + list(default_corpus(settings.corpus_packages))
    with tempfile.TemporaryDirectory() as tmp:
        index = DocumentIndex(Path(tmp), embedder)
        index.add(docs, progress=progress_line)
        full.save()
        index.prepare()
        result: dict = {"documents": len(index.document_ids()), "chunks": len(index)}
        qs = questions()
        for corpus in ("news", "python", "all"):
            for split in ("dev", "test", "all"):
                subset = [q for q in qs if corpus in ("all", q["corpus"]) and split in ("all", hash_split(q["question"]))]
                name = corpus if split == "all" else f"{corpus} ({split})"
                result[name] = {"questions": len(subset)}
                for mode in MODES + ("rrf",):
                    result[name][mode] = score(index, subset, mode)
    return result


def score(index: DocumentIndex, qs: list[dict], mode: str) -> dict[str, float]:
    """Document-level recall@5 (share of the relevant documents in the top 5) and MRR."""
    recalls, rr = [], []
    for q in qs:
        ranked = list(dict.fromkeys(h.doc_id for h in index.search(q["question"], 30, mode=mode)))[:10]
        relevant = set(q["relevant"])
        recalls.append(len(relevant & set(ranked[:5])) / len(relevant))
        first = next((i for i, d in enumerate(ranked, start=1) if d in relevant), None)
        rr.append(1 / first if first else 0.0)
    return {"recall@5": round(float(np.mean(recalls)), 3), "mrr": round(float(np.mean(rr)), 3)}


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    sizes = [r["chunks"] for r in results["latency"]]
    width = 0.25
    for i, mode in enumerate(MODES):
        p50 = [r[mode]["p50_ms"] for r in results["latency"]]
        p95 = [r[mode]["p95_ms"] for r in results["latency"]]
        xs = np.arange(len(sizes)) + (i - 1) * width
        ax1.bar(xs, p50, width, label=f"{mode} p50")
        ax1.errorbar(xs, p50, yerr=[np.zeros(len(p50)), np.array(p95) - np.array(p50)], fmt="none", ecolor="black",
                     capsize=3)
    ax1.axhline(25, color="red", linestyle="--", linewidth=1, label="target: hybrid p50 25 ms")
    ax1.set_xticks(np.arange(len(sizes)), [f"{s:,}" for s in sizes])
    ax1.set_xlabel("chunks in the index")
    ax1.set_ylabel("query latency, ms (bar p50, whisker p95)")
    ax1.set_title("Query latency incl. query embedding")
    ax1.legend(fontsize=8)
    q = results["quality"]["all"]
    metrics = ["recall@5", "mrr"]
    for i, mode in enumerate(MODES):
        ax2.bar(np.arange(2) + (i - 1) * width, [q[mode][m] for m in metrics], width, label=mode)
    ax2.set_xticks(np.arange(2), metrics)
    ax2.set_ylim(0, 1)
    ax2.set_title(f"Quality on {q['questions']} labelled questions")
    ax2.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def targets(results: dict) -> list:
    at_100k = results["latency"][-1]
    q = results["quality"]["all (test)"]
    best_single = max(q["dense"]["recall@5"], q["bm25"]["recall@5"])
    return [at_most(f"hybrid query p50 at {at_100k['chunks']:,} chunks", at_100k["hybrid"]["p50_ms"], 25, " ms"),
            at_least("hybrid recall@5 minus the better single retriever's (test split)",
                     q["hybrid"]["recall@5"] - best_single, 0.0)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_check(parser)
    args = parser.parse_args()
    settings = load_settings()
    cache = settings.data_dir / "bench-cache"
    model_path = embedding_model_path(settings)
    live = SentenceTransformerEmbedder(model_path)
    cached = CachedEmbedder(model_path, cache / f"vectors-{LATENCY_TOKENS}.npz", max_tokens=LATENCY_TOKENS)
    embedder = BenchEmbedder(cached, live)
    queries = [q["question"] for q in questions()]
    results: dict = {**run_info(), "queries": len(queries)}

    print("0. the latency corpus's vectors (cached after the first run)", file=sys.stderr)
    warm(cache, cached)

    print("1. ingestion with the model in the loop (1k chunks)", file=sys.stderr)
    results["ingest_with_model"] = ingest_with_model(live, cache)

    print("2. latency at 1k, 10k, 100k chunks", file=sys.stderr)
    keep = Path(tempfile.mkdtemp()) / "index-100k"
    results["latency"] = []
    for size in SIZES:
        row, folder = latency_at(size, embedder, cache, queries, keep if size == max(SIZES) else None)
        results["latency"].append(row)
    cached.save()

    print("3. exact scan vs IVF", file=sys.stderr)
    big = DocumentIndex(keep, embedder)
    big.prepare()
    query_sets = {"questions": live.embed(queries), "excerpts": live.embed(chunk_excerpts(big))}
    results["exact_vs_ivf"] = exact_vs_ivf(big._table.vectors, query_sets)
    results["exact_subset_limit"] = EXACT_SUBSET

    print("4. memory and restart at 100k", file=sys.stderr)
    results["memory_100k"] = memory_and_restart(keep, model_path)

    print("5. quality", file=sys.stderr)
    results["quality"] = quality(live, cache, settings)

    checked = targets(results)
    results["targets"] = targets_json(checked)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "retrieval.json").write_text(json.dumps(results, indent=2) + "\n")
    plot(results, RESULTS / "retrieval.png")
    print(json.dumps({k: v for k, v in results.items() if k != "targets"}, indent=2))
    return finish("retrieval", checked, args.check)


if __name__ == "__main__":
    sys.exit(main())
