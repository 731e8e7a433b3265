from __future__ import annotations

import pytest

from tansuo.embedding import SentenceTransformerEmbedder, embedding_model_path
from tests.conftest import make_settings


@pytest.fixture(scope="session")
def embedder(tmp_path_factory: pytest.TempPathFactory) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(embedding_model_path(make_settings(tmp_path_factory.mktemp("emb"))))
