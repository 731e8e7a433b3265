"""The plugin index: descriptions embedded with all-MiniLM-L6-v2, searched with faiss.

Only the best few plugins for a request reach the model (mode 2). The index is
persisted under the data dir and re-embeds only the plugins whose text changed.
"""

from __future__ import annotations

import hashlib
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from tansuo.embedding import Embedder, HashingEmbedder, SentenceTransformerEmbedder
from tansuo.plugins.tool import ToolSpec

__all__ = ["Embedder", "HashingEmbedder", "SentenceTransformerEmbedder", "PluginIndex", "document"]

DEFAULT_THRESHOLD = 0.35  # cosine; chosen on BFCL irrelevance, see bench/tool_retrieval.py


def document(spec: ToolSpec) -> str:
    """What is embedded for a plugin: name, descriptions, example requests and argument descriptions
    (the arguments add 8 points of recall@5 on BFCL's catalogue)."""
    parts = [spec.name.replace("_", " "), spec.description]
    if spec.model_description != spec.description:
        parts.append(spec.model_description)
    parts += spec.examples + [c.request for c in spec.example_calls if c.request not in spec.examples]
    properties = spec.input_schema.get("properties")
    if isinstance(properties, dict) and properties:
        described = [f"{name}: {p.get('description', '')}".strip(": ") if isinstance(p, dict) else name
                     for name, p in properties.items()]
        parts.append("Arguments: " + "; ".join(described))
    return "\n".join(parts)


@dataclass(frozen=True)
class Hit:
    name: str
    score: float


@dataclass(frozen=True)
class SearchResult:
    hits: list[Hit]
    abstained: bool  # the best score is below the threshold: no plugin fits


class PluginIndex:
    def __init__(self, embedder: Embedder, *, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.embedder = embedder
        self.threshold = threshold
        self.names: list[str] = []
        self.hashes: list[str] = []
        self.vectors = np.zeros((0, embedder.dim), np.float32)
        self._faiss = faiss.IndexFlatIP(embedder.dim)
        self.last_embedded = 0
        # Searches are one query at a time: faiss's OpenMP threads only contend with torch's
        # here (search p50 over 10,000 plugins 17 -> 12 ms on 2 cores).
        faiss.omp_set_num_threads(1)

    def build(self, specs: Iterable[ToolSpec]) -> bool:
        """(Re)index; only plugins whose document changed are embedded again. True if anything changed."""
        specs = list(specs)
        docs = [document(s) for s in specs]
        hashes = [hashlib.sha256(d.encode()).hexdigest() for d in docs]
        known = dict(zip(self.hashes, self.vectors))
        todo = [i for i, h in enumerate(hashes) if h not in known]
        fresh = self.embedder.embed([docs[i] for i in todo]) if todo else None
        fresh_by_index = dict(zip(todo, fresh)) if fresh is not None else {}
        rows = [fresh_by_index[i] if i in fresh_by_index else known[h] for i, h in enumerate(hashes)]
        changed = bool(todo) or hashes != self.hashes
        self._set([s.name for s in specs], hashes,
                  np.vstack(rows).astype(np.float32) if rows else np.zeros((0, self.embedder.dim), np.float32))
        self.last_embedded = len(todo)
        return changed

    def search(self, query: str, k: int = 5) -> SearchResult:
        if not self.names:
            return SearchResult([], True)
        return self.search_vector(self.embedder.embed([query])[0], k)

    def search_vector(self, vector: np.ndarray, k: int = 5) -> SearchResult:
        """As `search`, for a query the caller has embedded already (with this index's embedder)."""
        if not self.names:
            return SearchResult([], True)
        scores, rows = self._faiss.search(np.asarray(vector, dtype=np.float32).reshape(1, -1),
                                          min(k, len(self.names)))
        hits = [Hit(self.names[r], float(s)) for s, r in zip(scores[0], rows[0]) if r >= 0]
        return SearchResult(hits, not hits or hits[0].score < self.threshold)

    def save(self, folder: Path) -> None:
        """Write then rename, so a crash mid-save leaves the previous index readable."""
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, suffix=".npz", delete=False) as tmp:
            np.savez(tmp, vectors=self.vectors, names=np.array(self.names, dtype=str),
                     hashes=np.array(self.hashes, dtype=str))
        Path(tmp.name).replace(folder / "index.npz")

    def load(self, folder: Path) -> bool:
        path = folder / "index.npz"
        if not path.is_file():
            return False
        try:
            with np.load(path, allow_pickle=False) as data:
                vectors, names, hashes = data["vectors"], list(data["names"]), list(data["hashes"])
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            return False  # unreadable: the caller rebuilds it from the manifests
        if vectors.shape[1:] != (self.embedder.dim,) or not len(names) == len(hashes) == len(vectors):
            return False  # another embedder made it, or it is inconsistent: rebuild
        self._set(names, hashes, vectors.astype(np.float32))
        return True

    def _set(self, names: list[str], hashes: list[str], vectors: np.ndarray) -> None:
        self.names, self.hashes, self.vectors = names, hashes, vectors
        self._faiss = faiss.IndexFlatIP(self.embedder.dim)
        if len(vectors):
            self._faiss.add(vectors)
