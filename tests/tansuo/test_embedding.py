"""The embedding seam: a query (one text) takes a faster path that must give the batch path's vectors."""

from __future__ import annotations

import numpy as np

from tansuo.embedding import HashingEmbedder, SentenceTransformerEmbedder, embedding_model_path
from tests.conftest import make_settings


def test_single_query_path_matches_the_batch_path(tmp_path) -> None:
    embedder = SentenceTransformerEmbedder(embedding_model_path(make_settings(tmp_path)))
    texts = ["How do I parse YAML safely?", "Ferry timetable to Skerry island, winter 2025, first departure 06:40"]
    batch = embedder.embed(texts)
    for i, text in enumerate(texts):
        one = embedder.embed([text])
        assert one.shape == (1, 384) and one.dtype == np.float32
        assert float(one[0] @ batch[i]) > 0.9999
    assert abs(float(np.linalg.norm(batch[0])) - 1) < 1e-5


def test_hashing_embedder_is_deterministic_and_normalised() -> None:
    a, b = HashingEmbedder(64).embed(["tea price"]), HashingEmbedder(64).embed(["tea price"])
    assert np.array_equal(a, b) and abs(float(np.linalg.norm(a)) - 1) < 1e-6
