"""Scoring a text by embedding similarity to labelled groups of exemplar texts (harm categories,
kinds of time-sensitive question): the mean cosine of its k nearest exemplars in each group."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tansuo.core.data import shipped
from tansuo.embedding import Embedder
from tansuo.verifiers.calibration import Logistic, fit_logistic


def load_data(name: str) -> dict[str, Any]:
    """A shipped exemplar file (verifiers/data/NAME.yaml), parsed once."""
    return shipped("tansuo.verifiers", name)


class VectorCache:
    """Embeddings of texts seen before (passages of sources come back in revisions and later turns)."""

    def __init__(self, embedder: Embedder, size: int = 2048) -> None:
        self.embedder = embedder
        self.size = size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            vectors = self.embedder.embed(missing)
            with self._lock:
                for text, vector in zip(missing, vectors, strict=True):
                    self._cache[text] = vector
                while len(self._cache) > self.size:
                    self._cache.popitem(last=False)
        with self._lock:
            found = [self._cache.get(t) for t in texts]
        # a text evicted meanwhile (another thread filled the cache) is embedded again
        return np.vstack([v if v is not None else self.embedder.embed([t])[0]
                          for t, v in zip(texts, found, strict=True)])


class ExemplarScorer:
    """Group name -> exemplars; the vectors are computed on first use, once per process."""

    def __init__(self, embedder: Embedder, groups: Mapping[str, Sequence[str]], *, k: int = 3,
                 cache_dir: Path | None = None) -> None:
        self.embedder = embedder
        self.cache_dir = cache_dir
        self.groups = {name: list(texts) for name, texts in groups.items()}
        self.k = k
        self.cache = VectorCache(embedder)
        self._vectors: dict[str, np.ndarray] | None = None
        self._lock = threading.Lock()

    def vectors(self) -> dict[str, np.ndarray]:
        with self._lock:
            if self._vectors is None:
                names = list(self.groups)
                flat = [t for n in names for t in self.groups[n]]
                matrix = self._load_or_embed(flat)
                self._vectors, start = {}, 0
                for n in names:
                    self._vectors[n] = matrix[start:start + len(self.groups[n])]
                    start += len(self.groups[n])
            return self._vectors

    def _load_or_embed(self, flat: list[str]) -> np.ndarray:
        """The exemplars' vectors, kept on disk per model and exemplar text (a few seconds to embed)."""
        key = hashlib.sha1(json.dumps([self.embedder.name, flat]).encode()).hexdigest()[:16]
        path = self.cache_dir / f"exemplars-{key}.npy" if self.cache_dir else None
        if path is not None and path.exists():
            with contextlib.suppress(OSError, ValueError):
                cached = np.load(path)
                if cached.shape == (len(flat), self.embedder.dim):
                    return cached
        matrix = self.embedder.embed(flat)
        if path is not None:
            with contextlib.suppress(OSError):
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".{os.getpid()}.tmp")
                with open(tmp, "wb") as f:
                    np.save(f, matrix)
                os.replace(tmp, path)  # written then renamed: a reader never sees half a file
        return matrix

    def scores(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Per text, per group: the mean cosine of the k most similar exemplars."""
        queries = self.embed(texts)
        return [self.scores_of(q) for q in queries]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.cache.embed(texts)

    def scores_of(self, query: np.ndarray, exclude: tuple[str, int] | None = None) -> dict[str, float]:
        out = {}
        for name, vectors in self.vectors().items():
            sims = np.einsum("ij,j->i", vectors, query)  # no BLAS threads (see the retrieval notes)
            if exclude is not None and exclude[0] == name:
                sims = np.delete(sims, exclude[1])  # leave-one-out, for calibrating on the exemplars
            top = np.sort(sims)[-self.k:]
            out[name] = float(top.mean()) if len(top) else -1.0
        return out


class CalibratedScorer:
    """Groups of positive exemplars against one negative group: the best positive group, and a
    probability from a logistic fit on the exemplars' own scores (leave-one-out), fitted once."""

    def __init__(self, embedder: Embedder, positive: Mapping[str, Sequence[str]], negative: Sequence[str], *,
                 negative_name: str = "negative", k: int = 3, cache_dir: Path | None = None) -> None:
        self.negative = negative_name
        self.exemplars = ExemplarScorer(embedder, {**positive, negative_name: negative}, k=k, cache_dir=cache_dir)
        self._model: Logistic | None = None
        self._lock = threading.Lock()

    def calibration(self) -> Logistic:
        with self._lock:  # fitted once, by the first caller; the others wait for it
            if self._model is None:
                rows, labels = [], []
                for name, vectors in self.exemplars.vectors().items():
                    for i, vector in enumerate(vectors):
                        rows.append(self._features(self.exemplars.scores_of(vector, exclude=(name, i))))
                        labels.append(0 if name == self.negative else 1)
                self._model = fit_logistic(np.array(rows), np.array(labels))
            return self._model

    def score_many(self, texts: Sequence[str]) -> list[tuple[float, str, dict[str, float]]]:
        """Per text: (probability of a positive group, the best positive group, every group's score)."""
        model = self.calibration()
        out = []
        for scores in self.exemplars.scores(texts):
            best = max((n for n in scores if n != self.negative), key=scores.__getitem__)
            p = float(model.probability(self._features(scores)[None, :])[0])
            out.append((p, best, {k: round(v, 4) for k, v in scores.items()}))
        return out

    def _features(self, scores: dict[str, float]) -> np.ndarray:
        """Each group's similarity, and the best positive one's margin over the negative group."""
        best = max(v for n, v in scores.items() if n != self.negative)
        return np.array([*(scores[n] for n in self.exemplars.groups), best - scores[self.negative]])
