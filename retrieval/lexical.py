"""BM25 over chunks, scored by bm25s.

bm25s precomputes every (term, chunk) score, so a change to the chunk set means a new
index; tokenizing is most of that (about 60% at 100k chunks), so each chunk's
tokens are computed once at ingest and stored with it, and a rebuild only counts them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN

TOKEN = re.compile(r"(?u)\b\w\w+\b|\b\d\b")  # words of 2+ characters, and single digits
_STOP = frozenset(STOPWORDS_EN)
_stemmer = Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    """Lower-cased words (single digits kept: "Route 9"), English stop words out, Snowball-stemmed."""
    return _stemmer.stemWords([w for w in TOKEN.findall(text.lower()) if w not in _STOP])


class Lexical:
    """A bm25s index over a fixed list of token lists (row i = chunk i)."""

    def __init__(self, model: bm25s.BM25 | None = None, rows: int = 0) -> None:
        self._model = model
        self.rows = rows

    @classmethod
    def build(cls, token_lists: Sequence[Sequence[str]]) -> Lexical:
        if not token_lists:
            return cls()
        vocab: dict[str, int] = {"": 0}  # bm25s scores an empty chunk through the empty token
        ids = [[vocab.setdefault(t, len(vocab)) for t in tokens] or [0] for tokens in token_lists]
        model = bm25s.BM25()
        model.index((ids, vocab), show_progress=False, create_empty_token=False)
        return cls(model, len(token_lists))

    def scores(self, query: str, mask: np.ndarray | None = None) -> np.ndarray | None:
        """BM25 score of every chunk (0 outside the mask); None when no query word is in the index."""
        if self._model is None or not self.rows:
            return None
        ids = self._model.get_tokens_ids(tokenize(query))
        if not ids:
            return None
        scores = self._model.get_scores_from_ids(ids)
        return np.where(mask, scores, 0) if mask is not None else scores

    def save(self, folder: Path) -> None:
        if self._model is not None:
            self._model.save(str(folder))

    @classmethod
    def load(cls, folder: Path, rows: int) -> Lexical:
        if rows == 0:
            return cls()
        model = bm25s.BM25.load(str(folder), mmap=True)
        if model.scores["num_docs"] != rows:
            raise ValueError("BM25 snapshot does not match the chunk table")
        return cls(model, rows)
