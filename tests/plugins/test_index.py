"""The plugin index: incremental re-embedding, persistence, abstaining, the real embedding model."""

from __future__ import annotations

import numpy as np
import pytest

from tansuo.embedding import embedding_model_path
from tansuo.plugins.index import HashingEmbedder, PluginIndex, SentenceTransformerEmbedder
from tansuo.plugins.tool import ToolSpec
from tests.conftest import make_settings


def spec(name: str, description: str, *examples: str) -> ToolSpec:
    return ToolSpec(name=name, description=description, model_description=description, examples=list(examples),
                    input_schema={"type": "object"})


CATALOGUE = [
    spec("weather_now", "Current weather and temperature for a city", "is it raining in Oslo"),
    spec("stock_quote", "Latest stock price for a ticker symbol", "price of AAPL shares"),
    spec("translate_text", "Translate text between languages", "say hello in French"),
    spec("flight_status", "Status of a flight by flight number", "is flight BA117 delayed"),
]


class CountingEmbedder(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.embedded: list[str] = []

    def embed(self, texts):
        self.embedded += list(texts)
        return super().embed(texts)


def test_only_changed_plugins_are_embedded_again_and_the_index_survives_a_restart(tmp_path):
    embedder = CountingEmbedder()
    index = PluginIndex(embedder)
    assert index.build(CATALOGUE) and index.last_embedded == 4
    index.save(tmp_path)

    changed = [*CATALOGUE[:3], spec("flight_status", "Departure and arrival status of a flight", "BA117")]
    restarted = PluginIndex(embedder)
    assert restarted.load(tmp_path) and restarted.names == [s.name for s in CATALOGUE]
    embedder.embedded.clear()
    assert restarted.build(changed) and restarted.last_embedded == 1
    assert len(embedder.embedded) == 1 and "Departure" in embedder.embedded[0]
    assert not restarted.build(changed), "nothing changed, nothing to save"
    assert restarted.build(changed[:2]) and restarted.names == ["weather_now", "stock_quote"]


def test_search_ranks_and_abstains_below_the_threshold():
    index = PluginIndex(HashingEmbedder(), threshold=0.3)
    index.build(CATALOGUE)
    result = index.search("latest stock price for MSFT", k=2)
    assert [h.name for h in result.hits][0] == "stock_quote" and not result.abstained
    assert result.hits[0].score >= result.hits[1].score
    assert index.search("zzz qqq", k=3).abstained
    assert PluginIndex(HashingEmbedder()).search("anything").abstained  # empty index


def test_a_corrupt_or_foreign_index_file_is_rebuilt_not_trusted(tmp_path):
    index = PluginIndex(HashingEmbedder(dim=64))
    index.build(CATALOGUE)
    index.save(tmp_path)
    assert not PluginIndex(HashingEmbedder(dim=128)).load(tmp_path)


def test_a_damaged_index_file_is_rebuilt_not_a_crash(tmp_path):
    (tmp_path / "index.npz").write_bytes(b"not a zip file at all")
    index = PluginIndex(HashingEmbedder())
    assert not index.load(tmp_path)
    assert index.build(CATALOGUE) and index.search("stock price").hits


@pytest.mark.model
def test_real_embeddings_find_the_right_plugin(tmp_path):
    index = PluginIndex(SentenceTransformerEmbedder(embedding_model_path(make_settings(tmp_path))))
    index.build(CATALOGUE)
    assert index.search("will I need an umbrella in Paris today?").hits[0].name == "weather_now"
    assert index.search("what's the German for good morning").hits[0].name == "translate_text"
    assert index.vectors.dtype == np.float32 and index.vectors.shape == (4, 384)
