"""Shared fixtures: the real embedded model and a real llama-server, started once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tansuo.embedding import Embedder, default_embedder
from tansuo.llm.embedded import EmbeddedBackend
from tansuo.llm.factory import server_config
from tansuo.llm.llama_server import LlamaServer
from tansuo.llm.openai_compat import OpenAIBackend
from tansuo.settings import Settings

# `make test-vllm` points these at a vLLM server: the contract suite gains a third backend and the
# agent's end-to-end tests run on it instead of the embedded model.
VLLM_URL = os.environ.get("TANSUO_TEST_VLLM_URL")
VLLM_MODEL = os.environ.get("TANSUO_TEST_VLLM_MODEL")

# Small contexts keep the session fast and make overflow easy to provoke.
TEST_CTX = 1024
TEST_PARALLEL = 4


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings built only from what the test gives (no .env, no TANSUO_ variables)."""
    fields = {"data_dir": data_dir, "n_ctx": TEST_CTX, "parallel": TEST_PARALLEL, **overrides}
    return Settings(_env_file=None, **fields)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def embedder(tmp_path_factory: pytest.TempPathFactory) -> Embedder:
    """The real embedding model (all-MiniLM-L6-v2 from its package) as the service runs it, loaded once."""
    return default_embedder(make_settings(tmp_path_factory.mktemp("emb")))


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tansuo-data")


@pytest.fixture(scope="session")
def settings(data_dir: Path) -> Settings:
    """The backend contract holds for the base model; the tool adapter has tests of its own."""
    return make_settings(data_dir, tool_adapter="off")


@pytest.fixture(scope="session")
async def embedded_backend(settings: Settings):
    cfg, env = server_config(settings)
    backend = EmbeddedBackend(LlamaServer(cfg, env=env, log_path=settings.data_dir / "embedded.log"))
    yield backend
    await backend.aclose()


@pytest.fixture(scope="session")
def llama_server(settings: Settings):
    """A plain llama-server on 127.0.0.1 with the same GGUF, for the openai backend to talk to."""
    cfg, env = server_config(settings)
    server = LlamaServer(cfg, env=env, log_path=settings.data_dir / "raw-server.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
async def openai_backend(llama_server: LlamaServer, settings: Settings):
    backend = OpenAIBackend(llama_server.base_url, model=settings.model_name, max_retries=1)
    yield backend
    await backend.aclose()


def vllm_overrides() -> dict[str, object]:
    """Settings that put an agent on the vLLM server under `make test-vllm`; none otherwise."""
    if not VLLM_URL:
        return {}
    return {"backend": "openai", "openai_base_url": VLLM_URL, "openai_model": VLLM_MODEL, "openai_dialect": "vllm"}


@pytest.fixture(scope="session")
async def vllm_backend():
    backend = OpenAIBackend(VLLM_URL, model=VLLM_MODEL, dialect="vllm", max_retries=1)
    yield backend
    await backend.aclose()


@pytest.fixture(params=["embedded", "openai"] + (["vllm"] if VLLM_URL else []))
def backend(request: pytest.FixtureRequest):
    """The same contract suite runs against both backends."""
    return request.getfixturevalue(f"{request.param}_backend")
