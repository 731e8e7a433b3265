"""How the two retrievers' candidates become one ranking."""

from __future__ import annotations

import numpy as np

from tansuo.retrieval.dense import top_k

RRF_K = 60  # reciprocal-rank fusion constant (Cormack et al. 2009)
# Hybrid = alpha * dense + (1 - alpha) * BM25, each min-max normalised over the candidates
# (Bruch et al. 2023, "An Analysis of Fusion Functions for Hybrid Retrieval"). On the labelled
# set it beats reciprocal-rank fusion, which fell below dense alone, on both corpora, for any
# alpha from 0.6 to 0.8; bench/retrieval.py prints both.
HYBRID_ALPHA = 0.7


def top_positive(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best rows with a positive score (a BM25 score of 0 means no query word matched)."""
    rows, values = top_k(scores, k, None)
    keep = values > 0
    return rows[keep], values[keep]


def convex(vectors: np.ndarray, query: np.ndarray, bm25_scores: np.ndarray | None,
           dense: tuple[np.ndarray, np.ndarray], bm25: tuple[np.ndarray, np.ndarray], alpha: float):
    """Every candidate of either retriever scored by both (exact cosine, its BM25 score), each
    min-max normalised over the candidates, then alpha * dense + (1 - alpha) * BM25."""
    d_rank = {int(r): i + 1 for i, r in enumerate(dense[0])}
    b_rank = {int(r): i + 1 for i, r in enumerate(bm25[0])}
    rows = np.array(sorted(set(d_rank) | set(b_rank)), np.int64)
    if not len(rows):
        return []
    d = np.einsum("ij,j->i", vectors[rows], query)  # no BLAS threads (see dense._exact)
    b = bm25_scores[rows] if bm25_scores is not None else np.zeros(len(rows), np.float32)
    fused = alpha * minmax(d) + (1 - alpha) * minmax(b)
    order = np.lexsort((-d, -fused))
    return [(int(rows[i]), float(fused[i]), (d_rank.get(int(rows[i])), b_rank.get(int(rows[i])))) for i in order]


def minmax(x: np.ndarray) -> np.ndarray:
    span = float(x.max() - x.min())
    return (x - x.min()) / span if span > 0 else np.zeros_like(x)


def fuse(dense: tuple[np.ndarray, np.ndarray], bm25: tuple[np.ndarray, np.ndarray], mode: str):
    """(row, score, (dense rank, bm25 rank)) best first: one retriever's list, or reciprocal-rank fusion."""
    d_rank = {int(r): i + 1 for i, r in enumerate(dense[0])}
    b_rank = {int(r): i + 1 for i, r in enumerate(bm25[0])}
    if mode == "dense":
        return [(int(r), float(s), (d_rank[int(r)], None)) for r, s in zip(*dense)]
    if mode == "bm25":
        return [(int(r), float(s), (None, b_rank[int(r)])) for r, s in zip(*bm25)]
    rows = set(d_rank) | set(b_rank)
    fused = {r: (1 / (RRF_K + d_rank[r]) if r in d_rank else 0) + (1 / (RRF_K + b_rank[r]) if r in b_rank else 0)
             for r in rows}
    order = sorted(rows, key=lambda r: (-fused[r], d_rank.get(r, 10**9)))
    return [(r, fused[r], (d_rank.get(r), b_rank.get(r))) for r in order]
