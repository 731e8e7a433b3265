"""Document embedding as `tansuo index add` runs it: the torch embedder issue 28 started from against
the ONNX embedder shipped now, side by side in one run.

    .venv/bin/python bench/embedding.py [--documents 300] [--rounds 2] [--check]

The same documents (the default corpus's first ones: the installed packages' docs) go through
`DocumentIndex.add` into a new index with each embedder, alternating, `--rounds` times: chunking,
embedding, BM25 tokens and segment writes, as ingestion runs them. Reported: chunks per second
(median), the ratio, the lowest cosine between the two embedders' vectors of a chunk (recall cannot
change when the vectors do not), and the arithmetic rate the encoder reaches (about 23 MFLOP a
token for MiniLM-L6 at this length: 10.6 M multiply-adds in its projections, plus attention), to set
against what two AVX2 cores can do in float32 (2 × 32 FLOP a cycle, about 150–190 GFLOP/s).
Target (issue 28): ≥ 4× with recall unchanged.
Results: stdout and bench/results/embedding.json.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.support.checks import add_check, at_least, run_info, save_and_finish  # noqa: E402
from tansuo.embedding import OnnxEmbedder, SentenceTransformerEmbedder, embedding_model_path  # noqa: E402
from tansuo.encoders import load_tokenizer, max_tokens  # noqa: E402
from tansuo.retrieval.build import corpus_documents  # noqa: E402
from tansuo.retrieval.index import DocumentIndex  # noqa: E402
from tansuo.settings import Settings  # noqa: E402

FLOPS_PER_TOKEN = 22.6e6  # 6 layers × (4 × 384² + 2 × 384 × 1,536) multiply-adds × 2, plus attention


def ingest(embedder, documents) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as folder:
        index = DocumentIndex(Path(folder), embedder)
        started = time.perf_counter()
        report = index.add(documents)
        return time.perf_counter() - started, report.chunks


def chunk_texts(documents, limit: int = 400) -> list[str]:
    """The chunks' texts as the index embeds them (read back from an index with a recording embedder)."""
    texts: list[str] = []

    class Recording:
        dim, name = 384, "recording"

        def embed(self, batch):
            texts.extend(batch)
            return np.ones((len(batch), 384), np.float32) / np.sqrt(384)

    ingest(Recording(), documents)
    return texts[:limit]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    add_check(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, data_dir=Path(tmp) / "data", cache_dir=Path(tmp) / "cache")
        model = embedding_model_path(settings)
        documents = list(itertools.islice(corpus_documents(settings), args.documents))
        embedders = {"torch (before)": SentenceTransformerEmbedder(model),
                     "ONNX (now)": OnnxEmbedder(model, settings.cache_dir / "onnx")}
        texts = chunk_texts(documents)
        vectors = {name: e.embed(texts) for name, e in embedders.items()}  # loads both, untimed
        cosine = float((vectors["torch (before)"] * vectors["ONNX (now)"]).sum(1).min())
        tokenizer = load_tokenizer(model, max_tokens(model))
        tokenizer.no_padding()
        tokens = sum(len(e.ids) for e in tokenizer.encode_batch(texts)) / len(texts)
        rates: dict[str, list[float]] = {name: [] for name in embedders}
        chunks = 0
        for _ in range(args.rounds):
            for name, embedder in embedders.items():
                seconds, chunks = ingest(embedder, documents)
                rates[name].append(chunks / seconds)
                print(f"  {name}: {chunks} chunks in {seconds:.1f} s", file=sys.stderr)
    median = {name: statistics.median(r) for name, r in rates.items()}
    ratio = median["ONNX (now)"] / median["torch (before)"]
    gflops = median["ONNX (now)"] * tokens * FLOPS_PER_TOKEN / 1e9
    print(f"| {len(documents)} documents, {chunks} chunks, median of {args.rounds} | chunks/s |\n|---|---|")
    for name, value in median.items():
        print(f"| {name} | {value:.1f} |")
    print(f"| ONNX ÷ torch | {ratio:.2f}× |\n| lowest cosine, torch vs ONNX vectors of a chunk | {cosine:.6f} |")
    print(f"| encoder arithmetic, ONNX | {gflops:.0f} GFLOP/s ({tokens:.0f} tokens a chunk) |")
    found = [at_least("document embedding, ONNX ÷ torch", ratio, 4.0, "×"),
             at_least("lowest cosine to the torch vectors", cosine, 0.9999)]
    results = {**run_info(), "documents": len(documents), "chunks": chunks, "tokens_per_chunk": round(tokens, 1),
               "chunks_per_s": {k: [round(x, 1) for x in v] for k, v in rates.items()},
               "median_chunks_per_s": {k: round(v, 1) for k, v in median.items()}, "ratio": round(ratio, 2),
               "lowest_cosine": round(cosine, 6), "encoder_gflops": round(gflops, 1)}
    return save_and_finish("embedding", results, found, args.check)


if __name__ == "__main__":
    sys.exit(main())
