"""Dense search: exact inner product while the index is small, faiss IVF past a measured size.

Vectors are L2-normalised, so inner product is cosine similarity. Below
``approx_threshold`` chunks an exact scan is both exact and fast enough (see
bench/retrieval.py for the crossover); above it an IVF index probes a few lists.
"""

from __future__ import annotations

import math
from pathlib import Path

import faiss
import numpy as np

DEFAULT_APPROX_THRESHOLD = 50_000  # chunks; bench/retrieval.py measures the crossover
EXACT_SUBSET = 20_000  # a filter that leaves at most this many chunks is scanned exactly


class Dense:
    def __init__(self, vectors: np.ndarray, *, approx_threshold: int = DEFAULT_APPROX_THRESHOLD,
                 ivf: faiss.Index | None = None, nprobe: int | None = None) -> None:
        self.vectors = vectors
        self.approx_threshold = approx_threshold
        self.nprobe = nprobe
        self.ivf = ivf
        # One query at a time: OpenMP threads only contend with torch's on a few cores.
        faiss.omp_set_num_threads(1)

    def prepare(self) -> None:
        """Train and fill the IVF index when the size calls for one (a few seconds at 100k)."""
        n, dim = self.vectors.shape
        if n <= self.approx_threshold:
            self.ivf = None
            return
        if self.ivf is not None and self.ivf.ntotal == n:
            return
        nlist = max(16, int(math.sqrt(n)))
        quantizer = faiss.IndexFlatIP(dim)
        ivf = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        sample = self.vectors[np.random.default_rng(0).permutation(n)[: nlist * 64]]
        ivf.train(sample)
        ivf.add(self.vectors)
        self.ivf = ivf

    def search(self, query: np.ndarray, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Rows and cosine scores of the best k chunks (within the mask), best first."""
        n = len(self.vectors)
        if n == 0 or k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        query = query.reshape(-1).astype(np.float32)
        if mask is not None:
            rows = np.flatnonzero(mask)
            if self.ivf is None or len(rows) <= EXACT_SUBSET:
                return _exact(self.vectors[rows], query, k, rows)
            return self._ivf_search(query, k, faiss.IDSelectorBatch(rows.astype(np.int64)))
        if self.ivf is None:
            return _exact(self.vectors, query, k, None)
        return self._ivf_search(query, k, None)

    def _ivf_search(self, query: np.ndarray, k: int, selector) -> tuple[np.ndarray, np.ndarray]:
        # About a fifth of the lists: recall@10 against the exact scan ~0.9 at 100k (bench/retrieval.py).
        nprobe = self.nprobe or max(16, self.ivf.nlist // 5)
        params = faiss.SearchParametersIVF(nprobe=nprobe, sel=selector) if selector is not None \
            else faiss.SearchParametersIVF(nprobe=nprobe)
        scores, rows = self.ivf.search(query[None, :], k, params=params)
        keep = rows[0] >= 0
        return rows[0][keep].astype(np.int64), scores[0][keep].astype(np.float32)

    def save(self, path: Path) -> None:
        if self.ivf is not None:
            faiss.write_index(self.ivf, str(path))

    @staticmethod
    def load_ivf(path: Path) -> faiss.Index | None:
        return faiss.read_index(str(path)) if path.is_file() else None


def _exact(vectors: np.ndarray, query: np.ndarray, k: int, rows: np.ndarray | None):
    """faiss's single-query scan, not numpy's BLAS: BLAS worker threads spinning after a
    matrix-vector product slow the next torch call (a query embedding) several times over."""
    k = min(k, len(vectors))
    scores, found = faiss.knn(query[None, :], vectors, k, metric=faiss.METRIC_INNER_PRODUCT)
    found = found[0][found[0] >= 0]
    picked = rows[found] if rows is not None else found
    return picked.astype(np.int64), scores[0][: len(found)].astype(np.float32)


def top_k(scores: np.ndarray, k: int, rows: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    k = min(k, len(scores))
    if k == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    top = top[np.argsort(-scores[top], kind="stable")]
    picked = rows[top] if rows is not None else top
    return picked.astype(np.int64), scores[top].astype(np.float32)
