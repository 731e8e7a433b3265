"""Benchmark corpus and embedding caches (under the data dir), shared by bench/retrieval.py.

Embedding is the one slow stage of ingestion (about 12 chunks/s for full 900-character
chunks on this 2-core machine, compute-bound), so the benchmark embeds each text once and
keeps the vectors: the 1k/10k/100k latency indexes are built from cached vectors, and
ingestion throughput is measured separately with the model in the loop.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tansuo.embedding import SentenceTransformerEmbedder
from tansuo.retrieval.corpus import default_corpus, installed_packages
from tansuo.retrieval.documents import Document, iso, parse_date


def progress_line(stage: str, done: int, total: int) -> None:
    end = "\n" if done >= total else ""
    print(f"\r  {stage}: {done}/{total}", end=end, file=sys.stderr, flush=True)


def load_corpus(cache: Path) -> list[Document]:
    """Every installed package's docstrings plus the reference topics (read once, then from JSONL)."""
    path = cache / "corpus-all.jsonl"
    if not path.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        docs = list(default_corpus(installed_packages(), progress=progress_line))
        tmp = path.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as f:
            for d in docs:
                f.write(json.dumps({"id": d.id, "title": d.title, "source": d.source, "text": d.text,
                                    "published": iso(d.published), "metadata": d.metadata}) + "\n")
        tmp.replace(path)
    out = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            out.append(Document(id=r["id"], title=r["title"], source=r["source"], text=r["text"],
                                published=parse_date(r["published"]), metadata=r["metadata"]))
    return out


class CachedEmbedder:
    """A real MiniLM embedder whose vectors are kept on disk by text hash.

    ``max_tokens`` below the model's 256 embeds only each text's start: used for the
    latency indexes at 10k-100k chunks, whose full embedding would take hours here.
    """

    def __init__(self, model_path: Path, cache_file: Path, *, max_tokens: int | None = None) -> None:
        self.inner = SentenceTransformerEmbedder(model_path, batch_size=64)
        self.dim = self.inner.dim
        self.max_tokens = max_tokens
        self.cache_file = cache_file
        self.vectors: dict[str, np.ndarray] = {}
        self.misses = 0
        if cache_file.is_file():
            with np.load(cache_file, allow_pickle=False) as data:
                self.vectors = dict(zip(data["keys"].tolist(), data["vectors"]))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        keys = [hashlib.sha1(t.encode()).hexdigest()[:20] for t in texts]
        todo = [i for i, k in enumerate(keys) if k not in self.vectors]
        if todo:
            model = self.inner._load()
            if self.max_tokens:
                model.max_seq_length = self.max_tokens
            fresh = self.inner.embed([texts[i] for i in todo]) if len(todo) > 1 else \
                self.inner.embed([texts[todo[0]], texts[todo[0]]])[:1]
            for i, v in zip(todo, fresh):
                self.vectors[keys[i]] = v
            self.misses += len(todo)
        return np.vstack([self.vectors[k] for k in keys]).astype(np.float32)

    def save(self) -> None:
        self.cache_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.cache_file.with_suffix(".tmp.npz")
        np.savez(tmp, keys=np.array(list(self.vectors), dtype="U20"),
                 vectors=np.vstack(list(self.vectors.values())) if self.vectors else np.zeros((0, self.dim)))
        os.replace(tmp, self.cache_file)


LATENCY_TOKENS = 32
SIZES = (1_000, 10_000, 100_000)


def latency_docs(cache: Path, size: int):
    """The first documents (in a fixed shuffled order) that reach `size` chunks, and their chunk texts."""
    import random

    from tansuo.retrieval.chunking import ChunkConfig, chunk_text, embedding_text

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


def warm(cache: Path, embedder: CachedEmbedder, step: int = 4096) -> None:
    """Fill the latency corpus's vector cache (about 25 minutes the first time on 2 cores; resumable,
    and nothing to do once full)."""
    _, texts = latency_docs(cache, max(SIZES))
    for start in range(0, len(texts), step):
        embedder.embed(texts[start:start + step])
        if embedder.misses:
            embedder.save()
        progress_line(f"embedding ({LATENCY_TOKENS}-token prefixes, cached)", min(start + step, len(texts)),
                      len(texts))
