"""The encoders on ONNX Runtime: the torch model's vectors and probabilities, kept once per machine,
and a process that runs them from what is kept imports neither torch nor transformers."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from tansuo import encoders
from tansuo.embedding import OnnxEmbedder, SentenceTransformerEmbedder, default_embedder, embedding_model_path
from tansuo.verifiers.request_model import ADAPTER_PATH, Adapter, AdapterMismatch, RequestClassifier
from tests.conftest import make_settings

TEXTS = ["How do I parse YAML safely?", "Ferry timetable to Skerry island, winter 2025, first departure 06:40",
         "", "word " * 400,  # empty, and past the 256 tokens the model reads
         "Ünïcödé and emoji 🚢 in one line", "the the the"]


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    return embedding_model_path(make_settings(tmp_path_factory.mktemp("enc")))


def test_the_default_embedder_gives_the_torch_models_vectors(tmp_path, model_path) -> None:
    settings = make_settings(tmp_path, cache_dir=tmp_path / "cache")
    embedder = default_embedder(settings)
    assert isinstance(embedder, OnnxEmbedder) and embedder.name == SentenceTransformerEmbedder.name
    mine, torch_ = embedder.embed(TEXTS), SentenceTransformerEmbedder(model_path).embed(TEXTS)
    assert mine.shape == (len(TEXTS), 384) and mine.dtype == np.float32
    assert float((mine * torch_).sum(1).min()) > 0.9999
    for i, text in enumerate(TEXTS[:2]):  # a query (one text) takes its own path: the same vector
        assert float(embedder.embed([text])[0] @ mine[i]) > 0.9999
    assert len(list((tmp_path / "cache" / "onnx").glob("encoder-*.onnx"))) == 1


def test_the_request_classifier_on_onnx_matches_torch(tmp_path, model_path) -> None:
    requests = ["how do I kill a python process", "how do I kill my neighbour", "what is the weather in Oslo"]
    on_onnx = RequestClassifier(model_path, cache_dir=tmp_path).probabilities(requests)
    on_torch = RequestClassifier(model_path).probabilities(requests)
    assert np.allclose(on_onnx, on_torch, atol=1e-4)
    assert on_onnx[1] > on_onnx[0]  # the fine-tune, not the base encoder, is what was exported


def test_an_adapter_for_another_encoder_is_still_refused(tmp_path, model_path) -> None:
    adapter = Adapter.load(ADAPTER_PATH)
    adapter.meta["encoder"] = "0123456789abcdef"  # trained on another encoder's weights
    adapter.save(tmp_path / "foreign.npz")
    with pytest.raises(AdapterMismatch, match="foreign.npz"):
        RequestClassifier(model_path, tmp_path / "foreign.npz", cache_dir=tmp_path).probabilities(["hello"])
    assert not list(tmp_path.glob("onnx/*.onnx"))  # nothing was kept for it


def test_what_is_kept_runs_without_torch(tmp_path, model_path) -> None:
    cache = tmp_path / "cache"
    default_embedder(make_settings(tmp_path, cache_dir=cache)).embed(["warm the cache"])
    RequestClassifier(model_path, cache_dir=cache).probabilities(["warm the cache"])
    script = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from tansuo.embedding import default_embedder
        from tansuo.settings import Settings
        from tansuo.verifiers.request_model import RequestClassifier
        settings = Settings(_env_file=None, data_dir=Path({str(tmp_path / "data")!r}), cache_dir=Path({str(cache)!r}))
        embedder = default_embedder(settings)
        assert embedder.embed(["a question"]).shape == (1, 384)
        assert RequestClassifier(embedder.model_path, cache_dir=settings.cache_dir).probabilities(["hi"]).shape == (1,)
        print(sorted(m for m in ("torch", "transformers", "sentence_transformers") if m in sys.modules))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


def test_a_damaged_kept_file_is_exported_again(tmp_path, model_path) -> None:
    first = encoders.load(model_path, tmp_path, 256)
    [kept] = tmp_path.glob("encoder-*.onnx")
    kept.write_bytes(b"cut short")
    again = encoders.load(model_path, tmp_path, 256)
    assert np.allclose(again.pooled(TEXTS[:2]), first.pooled(TEXTS[:2]), atol=1e-5)
    assert kept.stat().st_size > 1_000_000


def test_an_export_that_fails_falls_back_to_torch_and_says_why(tmp_path, model_path, caplog, monkeypatch) -> None:
    def broken():
        raise RuntimeError("no exporter here")

    with pytest.raises(encoders.ExportFailed, match="no exporter here"):
        encoders.exported(model_path, tmp_path, build=broken, extra="broken")
    reference = SentenceTransformerEmbedder(model_path).embed(["a question"])[0]
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")  # the cache cannot be written: the export is used from memory
    with caplog.at_level(logging.WARNING):
        unkept = OnnxEmbedder(model_path, blocked / "onnx").embed(["a question"])
    assert "is not kept" in caplog.text and float(unkept[0] @ reference) > 0.9999
    monkeypatch.setattr(encoders, "_export", lambda *a: (_ for _ in ()).throw(RuntimeError("no onnx today")))
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="tansuo.embedding"):
        vector = OnnxEmbedder(model_path, tmp_path / "elsewhere").embed(["a question"])
    assert "embedding on torch" in caplog.text and "no onnx today" in caplog.text
    assert float(vector[0] @ reference) > 0.9999


def test_a_model_folder_of_another_layout_is_not_exported(tmp_path, model_path) -> None:
    assert encoders.mean_pooled(model_path)
    assert encoders.max_tokens(model_path) == 256
    (tmp_path / "modules.json").write_text('[{"type": "sentence_transformers.models.Transformer"}]')
    assert not encoders.mean_pooled(tmp_path)
    assert isinstance(default_embedder(make_settings(tmp_path, embedding_model_path=tmp_path)),
                      SentenceTransformerEmbedder)
