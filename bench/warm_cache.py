"""Fill the benchmark's embedding cache for the 100k-chunk latency corpus (resumable).

    .venv/bin/python bench/warm_cache.py
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.corpus_cache import CachedEmbedder, load_corpus, progress_line  # noqa: E402
from retrieval.chunking import ChunkConfig, chunk_text  # noqa: E402
from retrieval.index import embedding_text  # noqa: E402
from tansuo.embedding import embedding_model_path  # noqa: E402
from tansuo.settings import load_settings  # noqa: E402

LATENCY_TOKENS = 32
SIZES = (1_000, 10_000, 100_000)


def latency_docs(cache: Path, size: int):
    """The first documents (in a fixed shuffled order) that reach `size` chunks, and their chunk texts."""
    docs = load_corpus(cache)
    random.Random(0).shuffle(docs)
    picked, texts = [], []
    for doc in docs:
        chunks = chunk_text(doc.id, doc.text, ChunkConfig())
        picked.append(doc)
        texts += [embedding_text(doc.title, c.text) for c in chunks]
        if len(texts) >= size:
            break
    return picked, texts


def main() -> None:
    settings = load_settings()
    cache = settings.data_dir / "bench-cache"
    _, texts = latency_docs(cache, max(SIZES))
    embedder = CachedEmbedder(embedding_model_path(settings), cache / f"vectors-{LATENCY_TOKENS}.npz",
                              max_tokens=LATENCY_TOKENS)
    step = 4096
    for start in range(0, len(texts), step):
        embedder.embed(texts[start:start + step])
        embedder.save()
        progress_line(f"embedding ({LATENCY_TOKENS}-token prefixes)", min(start + step, len(texts)), len(texts))


if __name__ == "__main__":
    main()
