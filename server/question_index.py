"""The cached questions of one space, in memory, kept in step with the store: each replica reads
only the changes since it last looked (`Store.changes`), so a lookup never reads every cached
answer. Nearest questions by cosine: an exact scan up to `EXACT_MAX` rows, above it an IVF index
(faiss), trained on what is there and trained again when the space has doubled since."""

from __future__ import annotations

import math
import threading

import faiss
import numpy as np

from tansuo.server.store import Changes

EXACT_MAX = 20_000  # rows scanned exactly (a few ms); above, the IVF index
NPROBE = 24  # IVF lists searched per query


class QuestionIndex:
    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.cursor: str | None = None  # where this replica stands in the space's log
        self.keys: list[str] = []
        self.questions: list[str] = []
        self.at: list[float] = []
        self.expires = np.zeros(0, np.float64)
        self.vectors = np.zeros((0, dim), np.float32)
        self.row_of: dict[str, int] = {}
        self.dead: set[int] = set()
        self._ivf: faiss.IndexIVFFlat | None = None
        self._trained_at = 0  # rows when the IVF index was trained
        self._lock = threading.Lock()  # applied and searched from worker threads

    def __len__(self) -> int:
        return len(self.row_of)

    def apply(self, changes: Changes, decode) -> None:
        """Bring the index up to `changes` (`decode`: a brief's stored vector -> its array)."""
        with self._lock:
            if changes.complete:
                self._reset()
            for key in changes.removes:
                self._drop(key)
            if changes.puts:
                self._add(changes.puts, decode)
            self.cursor = changes.cursor
            if len(self.dead) > max(1000, len(self.keys) // 4):
                self._compact()

    def nearest(self, query: np.ndarray, k: int, now: float) -> list[tuple[str, float, str]]:
        """Up to `k` live questions nearest `query`: (key, cosine, question), nearest first."""
        with self._lock:
            rows, sims = self._search(query, k + len(self.dead) if self._ivf is None else 4 * k)
            out = []
            for row, sim in zip(rows, sims):
                if row >= 0 and row not in self.dead and self.expires[row] > now:
                    out.append((self.keys[row], float(sim), self.questions[row]))
            return out[:k]

    def oldest(self, count: int) -> list[str]:
        """The `count` keys stored longest ago (they make room when the space is full)."""
        with self._lock:
            live = sorted((self.at[r], self.keys[r]) for r in self.row_of.values())
            return [key for _, key in live[:count]]

    def forget(self, key: str) -> None:
        with self._lock:
            self._drop(key)

    def _search(self, query: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
        if not len(self.keys):
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        if len(self.keys) > EXACT_MAX and (self._ivf is None or len(self.keys) > 2 * self._trained_at):
            self._train()
        if self._ivf is None:
            sims = self.vectors[:len(self.keys)] @ query
            depth = min(depth, len(sims))
            top = np.argpartition(-sims, depth - 1)[:depth]
            top = top[np.argsort(-sims[top])]
            return top, sims[top]
        found, ids = self._ivf.search(query[None, :].astype(np.float32), depth)
        return ids[0], found[0]

    def _add(self, puts, decode) -> None:
        fresh = []
        for key, brief, expires in puts:
            self._drop(key)  # a key put again (an answer stored anew) replaces its row
            self.row_of[key] = len(self.keys) + len(fresh)
            fresh.append((key, brief, expires))
        vectors = np.vstack([decode(b["vector"]) for _, b, _ in fresh]).astype(np.float32)
        start = len(self.keys)
        self.keys += [k for k, _, _ in fresh]
        self.questions += [b["question"] for _, b, _ in fresh]
        self.at += [float(b.get("at", 0.0)) for _, b, _ in fresh]
        self.expires = np.concatenate([self.expires, [e for _, _, e in fresh]])
        self.vectors = _grown(self.vectors, start + len(fresh))
        self.vectors[start:start + len(fresh)] = vectors
        if self._ivf is not None:
            self._ivf.add_with_ids(vectors, np.arange(start, start + len(fresh), dtype=np.int64))

    def _drop(self, key: str) -> None:
        row = self.row_of.pop(key, None)
        if row is not None:
            self.dead.add(row)

    def _train(self) -> None:
        rows = len(self.keys)
        lists = max(16, int(4 * math.sqrt(rows)))
        quantizer = faiss.IndexFlatIP(self.dim)
        ivf = faiss.IndexIVFFlat(quantizer, self.dim, lists, faiss.METRIC_INNER_PRODUCT)
        sample = np.random.default_rng(0).choice(rows, min(rows, 40 * lists), replace=False)
        ivf.train(self.vectors[sample])
        ivf.add_with_ids(self.vectors[:rows], np.arange(rows, dtype=np.int64))
        ivf.nprobe = NPROBE
        self._ivf, self._trained_at = ivf, rows

    def _compact(self) -> None:
        live = sorted(self.row_of.values())
        self.keys = [self.keys[r] for r in live]
        self.questions = [self.questions[r] for r in live]
        self.at = [self.at[r] for r in live]
        self.expires = self.expires[live]
        self.vectors = self.vectors[live].copy()
        self.row_of = {key: i for i, key in enumerate(self.keys)}
        self.dead.clear()
        self._ivf, self._trained_at = None, 0  # trained again on the next search that needs it

    def _reset(self) -> None:
        self.keys, self.questions, self.at = [], [], []
        self.expires = np.zeros(0, np.float64)
        self.vectors = np.zeros((0, self.dim), np.float32)
        self.row_of, self.dead = {}, set()
        self._ivf, self._trained_at = None, 0


def _grown(array: np.ndarray, rows: int) -> np.ndarray:
    """`array` with room for `rows` rows (doubling, so appends cost little on average)."""
    if rows <= len(array):
        return array
    out = np.zeros((max(rows, 2 * len(array)), array.shape[1]), array.dtype)
    out[:len(array)] = array
    return out
