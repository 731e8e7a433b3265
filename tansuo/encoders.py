"""Transformer encoders on ONNX Runtime: all-MiniLM-L6-v2 (the embedder) and the request classifier's
fine-tuned copy of it.

Each is exported from its torch weights once per machine, checked against the torch model on probe
sentences, and kept in the cache folder under a key of the model's files. A process that only runs
them imports neither torch nor transformers, which is most of a cold `tansuo ask` on two cores
(about 5 s), and a query takes a few milliseconds. The vectors are the torch model's (the check
requires cosine ≥ 0.99999), so an index built either way reads the same.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import logging
import os
import threading
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tansuo.core.files import write_whole
from tansuo.errors import TansuoError

log = logging.getLogger(__name__)
EXPORT_VERSION = "1"  # changed when the export changes, so files kept by an older one are made again
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
MIN_COSINE = 0.99999
PROBES = ("A probe sentence to check the exported encoder against its torch model.",
          "Short one.",
          "The ferry between the harbour and the island is suspended for a week while the hull is inspected; "
          "islanders can use the replacement boat, which leaves twice a day.")


class ExportFailed(Exception):
    """The encoder could not be exported to ONNX, or the export did not match the torch model."""


def onnx_available() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in ("onnxruntime", "tokenizers", "onnx"))


def mean_pooled(model_path: Path) -> bool:
    """Whether a sentence-transformers folder is a transformer under mean pooling (and at most a
    normalisation): the layout this module reproduces."""
    try:
        modules = [m["type"].rsplit(".", 1)[-1] for m in json.loads((model_path / "modules.json").read_text())]
        pooling = json.loads((model_path / "1_Pooling" / "config.json").read_text())
    except (OSError, ValueError, KeyError, TypeError):
        return False
    modes = {k for k, v in pooling.items() if k.startswith("pooling_mode") and v is True}
    return modules[:2] == ["Transformer", "Pooling"] and modules[2:] in ([], ["Normalize"]) \
        and modes == {"pooling_mode_mean_tokens"} and (model_path / "tokenizer.json").is_file()


def max_tokens(model_path: Path, default: int = 256) -> int:
    """The longest input sentence-transformers reads for this model (its `max_seq_length`)."""
    try:
        return int(json.loads((model_path / "sentence_bert_config.json").read_text())["max_seq_length"])
    except (OSError, ValueError, KeyError, TypeError):
        return default


def model_key(model_path: Path, extra: str = "") -> str:
    """The encoder's identity: its folder's files (name, size, modification time; the weights are
    too large to hash at every start), what `extra` adds (an adapter's digest), the export version."""
    digest = hashlib.sha256(f"{EXPORT_VERSION}\0{extra}\0".encode())
    for path in sorted(p for p in model_path.iterdir() if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.name}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    return digest.hexdigest()[:24]


def exported(model_path: Path, folder: Path, *, build: Callable[[], Any] | None = None,
             extra: str = "") -> Path | bytes:
    """The ONNX file of the encoder at `model_path`, exported into `folder` on first use (the export
    itself when the folder cannot be written: it is used from memory, and made again next start).
    `build` makes the torch module when it is not the folder's own weights (an adapter merged in),
    and `extra` then names what it adds. Raises ExportFailed; a TansuoError from `build` passes through."""
    path = folder / f"encoder-{model_key(model_path, extra)}.onnx"
    if path.is_file():
        return path
    try:
        data = _export(model_path, build)
    except (TansuoError, ExportFailed):
        raise
    except Exception as exc:  # torch's exporter raises many kinds; any of them means "no export"
        raise ExportFailed(f"could not export {model_path} to ONNX: {type(exc).__name__}: {exc}") from exc
    try:
        write_whole(path, data)
    except OSError as exc:
        log.warning("the ONNX export of %s is not kept (%s): it is made again at the next start", model_path, exc)
        return data
    return path


def load(model_path: Path, folder: Path, max_tokens: int, *, build: Callable[[], Any] | None = None,
         extra: str = "") -> OnnxEncoder:
    """The encoder exported (or kept from before) and opened. A kept file ONNX Runtime cannot read
    (cut short, damaged) is exported again, once."""
    model = exported(model_path, folder, build=build, extra=extra)
    try:
        first = session(model if isinstance(model, bytes) else str(model))
    except Exception:  # onnxruntime raises its own kinds for a file it cannot read
        if isinstance(model, bytes):
            raise
        model.unlink(missing_ok=True)
        model = exported(model_path, folder, build=build, extra=extra)
        first = session(model if isinstance(model, bytes) else str(model))
    return OnnxEncoder(model, model_path, max_tokens, first=first)


class OnnxEncoder:
    """An exported encoder: texts to mean-pooled, L2-normalised token states.

    ONNX Runtime's worker threads take the CPU priority of the thread that makes their session, so
    each priority gets a session of its own: the default corpus's background build (nice 10) runs on
    workers of its own, and a query never waits behind it at a lower priority."""

    def __init__(self, model: Path | bytes, model_path: Path, max_tokens: int, *, first: Any = None) -> None:
        self._model = model if isinstance(model, bytes) else str(model)
        self._tokenizer = load_tokenizer(model_path, max_tokens)
        self._sessions: dict[int, Any] = {} if first is None else {_priority(): first}
        self._lock = threading.Lock()
        self._session()  # a file ONNX Runtime cannot read fails here, where the caller can fall back

    def pooled(self, texts: Sequence[str]) -> np.ndarray:
        ids, mask = tokens(self._tokenizer, texts)
        hidden = self._session().run(None, feeds(ids, mask))[0]
        return pool(hidden, mask)

    def _session(self) -> Any:
        priority = _priority()
        with self._lock:
            if priority not in self._sessions:
                self._sessions[priority] = session(self._model)
            return self._sessions[priority]


def load_tokenizer(model_path: Path, max_tokens: int) -> Any:
    """The model's fast tokenizer, truncating at `max_tokens` and padding to the longest text of a
    batch (tokenizer.json may carry a fixed padding that would pad every query to 128 tokens)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
    padding = tokenizer.padding or {}
    tokenizer.enable_truncation(max_tokens)
    tokenizer.enable_padding(pad_id=padding.get("pad_id", 0), pad_token=padding.get("pad_token", "[PAD]"))
    return tokenizer


def tokens(tokenizer: Any, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    encoded = tokenizer.encode_batch(list(texts))
    return (np.array([e.ids for e in encoded], np.int64), np.array([e.attention_mask for e in encoded], np.int64))


def feeds(ids: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}


def pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean of the token states over the mask, L2-normalised (as sentence-transformers pools)."""
    weights = mask[..., None].astype(np.float32)
    mean = (hidden * weights).sum(1) / np.maximum(weights.sum(1), 1e-9)
    return (mean / np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def session(model: str | bytes) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.inter_op_num_threads = 1
    # Idle workers sleep rather than spin: the model server shares the two cores.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def _export(model_path: Path, build: Callable[[], Any] | None) -> bytes:
    """The torch module traced to ONNX (opset 17, any batch and length), then run on ONNX Runtime
    beside torch on the probes: kept only if every pooled vector matches."""
    import torch

    module = (build or (lambda: plain_encoder(model_path)))().eval()
    ids, mask = tokens(load_tokenizer(model_path, 64), PROBES)
    inputs = tuple(torch.from_numpy(a) for a in feeds(ids, mask).values())
    wrapper = _hidden_states(module)
    buffer = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's and the exporter's notices; the check below decides
        torch.onnx.export(wrapper, inputs, buffer, input_names=list(INPUTS), output_names=["hidden"],
                          dynamic_axes={name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "hidden")},
                          opset_version=17, dynamo=False)
        expected = pool(wrapper(*inputs).numpy(), mask)
    data = buffer.getvalue()
    got = pool(session(data).run(None, feeds(ids, mask))[0], mask)
    cosine = float((expected * got).sum(1).min())
    if cosine < MIN_COSINE:
        raise ExportFailed(f"the ONNX export of {model_path} differs from its torch model (cosine {cosine:.6f})")
    return data


def plain_encoder(model_path: Path) -> Any:
    """The folder's transformer on torch, without sentence-transformers (quiet, offline)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    return AutoModel.from_pretrained(str(model_path))


def _hidden_states(module: Any) -> Any:
    import torch

    class Hidden(torch.nn.Module):  # positional inputs in INPUTS' order; the last layer's token states
        def __init__(self) -> None:
            super().__init__()
            self.encoder = module

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                                token_type_ids=token_type_ids).last_hidden_state

    return Hidden().eval()


def _priority() -> int:
    try:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    except (OSError, AttributeError):
        return 0
