"""The embedding seam: a query (one text) takes a faster path that must give the batch path's vectors."""

from __future__ import annotations

import numpy as np

from tansuo.embedding import HashingEmbedder, SentenceTransformerEmbedder, embed_kept, embedding_model_path
from tests.conftest import make_settings
from tests.retrieval.test_index import CountingEmbedder


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


def test_vectors_kept_by_content_are_embedded_once_across_starts(tmp_path) -> None:
    folder, texts = tmp_path / "vectors", ["what is 37 times 91?", "convert 5 miles to km"]
    first = CountingEmbedder()
    kept = embed_kept(first, texts, folder)
    again = CountingEmbedder()  # a new process: nothing in memory, the file is read
    assert np.array_equal(embed_kept(again, texts, folder), kept) and again.embedded == 0
    changed = [*texts, "plot sin(x)"]
    assert embed_kept(again, changed, folder).shape == (3, again.dim) and again.embedded == 3
    other = HashingEmbedder(dim=64)  # another model never reads these vectors
    assert embed_kept(other, texts, folder).shape == (2, 64)
    for path in folder.glob("*.npy"):
        path.write_bytes(b"cut short")  # a damaged file is a miss, then written again
    assert np.array_equal(embed_kept(again, texts, folder), kept) and again.embedded == 5
    assert np.array_equal(embed_kept(CountingEmbedder(), texts, folder), kept)
    assert not list(folder.glob("*.part"))


def test_a_folder_that_cannot_be_written_only_costs_the_embedding(tmp_path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    embedder = CountingEmbedder()
    assert embed_kept(embedder, ["a", "b"], blocked / "vectors").shape == (2, embedder.dim)
    assert embed_kept(embedder, ["a", "b"], None).shape == (2, embedder.dim) and embedder.embedded == 4
