"""The document index on both engines, side by side in one run: the embedded store and Milvus (a
milvus-lite gRPC server started here, standing in for a Milvus server; pymilvus talks to it over the
network as it would to Milvus Standalone).

    .venv/bin/python bench/milvus.py [--check]

Both index the same documents (the news eval corpus and the default Python corpus) with the same
vectors (the full-length embedding cache of bench/retrieval.py, so embedding time is left out and
both engines write the same numbers). Reported for each engine: ingestion time, recall@5 and MRR of
hybrid, dense and BM25 on eval_sets/retrieval/questions.jsonl (per corpus, dev and test by hash of
the question), and hybrid query latency p50/p95 (the live query embedding included).
Targets: dense rankings the same on both engines (recall@5 equal); hybrid recall@5 on Milvus within
0.05 of the embedded store's on every corpus (the engines normalise scores before fusing each
their own way: docs/retrieval.md).
Results: stdout, bench/results/milvus.json.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.retrieval import BenchEmbedder, percentiles, questions, score  # noqa: E402
from bench.support.checks import add_check, at_most, finish, run_info, targets_json  # noqa: E402
from bench.support.corpus_cache import CachedEmbedder, progress_line  # noqa: E402
from tansuo.embedding import SentenceTransformerEmbedder, embedding_model_path  # noqa: E402
from tansuo.evals.sets import hash_split  # noqa: E402
from tansuo.llm.llama_server import free_port  # noqa: E402
from tansuo.retrieval.corpus import default_corpus  # noqa: E402
from tansuo.retrieval.index import DocumentIndex  # noqa: E402
from tansuo.retrieval.loaders import load_path  # noqa: E402
from tansuo.retrieval.milvus import MilvusIndex  # noqa: E402
from tansuo.settings import load_settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
MODES = ("dense", "bm25", "hybrid")


def start_milvus(data: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(data), "--host",
                             "127.0.0.1", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("milvus-lite did not start") from None
            time.sleep(0.1)


class Memo:
    """Each question searched once per mode; the per-subset scores reuse those rankings."""

    def __init__(self, index) -> None:
        self.index, self.seen = index, {}

    def search(self, query: str, k: int, *, mode: str):
        if (query, mode) not in self.seen:
            self.seen[query, mode] = self.index.search(query, k, mode=mode)
        return self.seen[query, mode][:k]


def measure(index, docs, qs: list[dict]) -> dict:
    started = time.perf_counter()
    index.add(docs, progress=progress_line)
    index.prepare()
    row: dict = {"ingest_s": round(time.perf_counter() - started, 1), "chunks": len(index)}
    times = []
    for q in qs:
        t = time.perf_counter()
        index.search(q["question"], 5)
        times.append(time.perf_counter() - t)
    row["hybrid_query"] = percentiles(times)
    memo = Memo(index)
    for corpus in ("news", "python", "all"):
        for split in ("dev", "test", "all"):
            subset = [q for q in qs if corpus in ("all", q["corpus"]) and split in ("all", hash_split(q["question"]))]
            name = corpus if split == "all" else f"{corpus} ({split})"
            row[name] = {"questions": len(subset), **{mode: score(memo, subset, mode) for mode in MODES}}
    return row


def targets(results: dict) -> list:
    out = []
    for corpus in ("news", "python"):
        embedded, milvus = results["embedded"][corpus], results["milvus"][corpus]
        out.append(at_most(f"{corpus}: dense recall@5, |embedded - Milvus|",
                           abs(embedded["dense"]["recall@5"] - milvus["dense"]["recall@5"]), 0.0))
        out.append(at_most(f"{corpus}: hybrid recall@5, embedded - Milvus",
                           embedded["hybrid"]["recall@5"] - milvus["hybrid"]["recall@5"], 0.05))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_check(parser)
    args = parser.parse_args()
    settings = load_settings()
    model_path = embedding_model_path(settings)
    live = SentenceTransformerEmbedder(model_path)
    full = CachedEmbedder(model_path, settings.data_dir / "bench-cache" / "vectors-full.npz")
    embedder = BenchEmbedder(full, live)
    docs = load_path(ROOT / "eval_sets" / "news").documents + list(default_corpus(settings.corpus_packages))
    qs = questions()
    results: dict = {**run_info(), "documents": len(docs), "questions": len(qs)}
    with tempfile.TemporaryDirectory() as tmp:
        print("1. the embedded store", file=sys.stderr)
        results["embedded"] = measure(DocumentIndex(Path(tmp) / "embedded", embedder), docs, qs)
        full.save()
        print("2. Milvus (milvus-lite over gRPC)", file=sys.stderr)
        proc, uri = start_milvus(Path(tmp) / "milvus")
        try:
            index = MilvusIndex(uri, embedder, name=f"bench_{uuid.uuid4().hex[:8]}")
            results["milvus"] = measure(index, docs, qs)
        finally:
            proc.terminate()
            proc.wait(30)
    print(f"\n| {len(qs)} questions, recall@5 / MRR | embedded | Milvus |\n|---|---|---|")
    for name in [k for k, v in results["embedded"].items() if isinstance(v, dict) and "questions" in v]:
        for mode in MODES:
            e, m = results["embedded"][name][mode], results["milvus"][name][mode]
            print(f"| {name}, {mode} | {e['recall@5']:.3f} / {e['mrr']:.3f} | {m['recall@5']:.3f} / {m['mrr']:.3f} |")
    for key, label in (("ingest_s", "ingest (s, vectors cached)"), ("hybrid_query", "hybrid query p50 / p95 (ms)")):
        e, m = results["embedded"][key], results["milvus"][key]
        show = (lambda v: f"{v['p50_ms']} / {v['p95_ms']}") if isinstance(e, dict) else str
        print(f"| {label} | {show(e)} | {show(m)} |")
    found = targets(results)
    results["targets"] = targets_json(found)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "milvus.json").write_text(json.dumps(results, indent=2, default=float))
    return finish("milvus", found, args.check)


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
