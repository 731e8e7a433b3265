"""The request classifier: all-MiniLM-L6-v2 fine-tuned with low-rank adapters (LoRA) on every
attention and feed-forward projection, mean-pooled, under a logistic head: the probability that a
request should not simply be answered.

Similarity to exemplars sees what a request is about; a fine-tuned encoder also sees what it asks
for ("kill a Python process" against "kill my neighbour", "who runs Bosch" against "what is Bosch's
unpublished budget"). The adapter (verifiers/data/harm_adapter.npz, about 1.3 MB) is trained by
`tansuo train harm` (training/harm.py). At load it is merged into the encoder's weights,
so a request costs one plain MiniLM pass.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tansuo import encoders
from tansuo.errors import TansuoError

log = logging.getLogger(__name__)

ADAPTER_PATH = Path(__file__).parent / "data" / "harm_adapter.npz"
# Every linear projection of a BERT layer, by its path inside the layer.
TARGETS = ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
           "intermediate.dense", "output.dense")
MAX_TOKENS = 64  # requests are short; longer ones are judged on their start
LOGIT_SCALE = 8.0  # the head reads unit vectors: a fixed scale lets its logits reach confident values


class AdapterMismatch(TansuoError):
    """The adapter was trained on another encoder than the one configured."""


@dataclass
class Adapter:
    rank: int
    alpha: float
    arrays: dict[str, np.ndarray]  # "<layer>.<target>.a" / ".b", "head.weight", "head.bias"
    meta: dict[str, Any] = field(default_factory=dict)  # base model, data sources, seed, steps

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        header = json.dumps({"rank": self.rank, "alpha": self.alpha, **self.meta})
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as f:
            np.savez_compressed(f, __meta__=np.array(header), **self.arrays)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Adapter:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["__meta__"]))
            arrays = {k: data[k] for k in data.files if k != "__meta__"}
        rank, alpha = int(meta.pop("rank")), float(meta.pop("alpha"))
        return cls(rank, alpha, arrays, meta)


def load_encoder(model_path: Path):
    """The base encoder and its tokenizer (a sentence-transformers folder holds a plain BERT)."""
    from transformers import AutoModel, AutoTokenizer

    return AutoTokenizer.from_pretrained(str(model_path)), AutoModel.from_pretrained(str(model_path))


def projections(model) -> dict[str, Any]:
    """'<layer>.<target>' -> the nn.Linear it names, for every layer of the encoder."""
    out = {}
    for i, layer in enumerate(model.encoder.layer):
        for target in TARGETS:
            out[f"{i}.{target}"] = layer.get_submodule(target)
    return out


def fingerprint(model) -> str:
    """A short hash of the encoder's first weights: an adapter only fits the encoder it was trained on."""
    weight = model.encoder.layer[0].attention.self.query.weight
    return hashlib.sha1(weight.detach().numpy().tobytes()).hexdigest()[:16]


def pooled(model, tokenizer, texts: Sequence[str]):
    """Mean of the token states over the attention mask, L2-normalised (as sentence-transformers pools)."""
    import torch

    batch = tokenizer(list(texts), padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt")
    states = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(states.dtype)
    return torch.nn.functional.normalize((states * mask).sum(1) / mask.sum(1), dim=-1)


class RequestClassifier:
    """p(a request should be refused or cautioned), from the shipped adapter; loaded on first use.
    With `cache_dir`, the merged encoder runs from its ONNX export (tansuo.encoders: no torch in the
    process); without it, or when the export cannot be made, on torch."""

    def __init__(self, model_path: Path, adapter_path: Path = ADAPTER_PATH, *, batch_size: int = 32,
                 cache_dir: Path | None = None) -> None:
        self.model_path = model_path
        self.adapter_path = adapter_path
        self.batch_size = batch_size
        self.cache_dir = cache_dir
        self._loaded: Callable[[Sequence[str]], np.ndarray] | None = None
        self._lock = threading.Lock()

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        score = self._load()
        out = [score(texts[start:start + self.batch_size]) for start in range(0, len(texts), self.batch_size)]
        return np.concatenate(out) if out else np.zeros(0)

    def _load(self) -> Callable[[Sequence[str]], np.ndarray]:
        with self._lock:
            if self._loaded is None:
                self._loaded = self._on_onnx() or self._on_torch()
            return self._loaded

    def _on_onnx(self) -> Callable[[Sequence[str]], np.ndarray] | None:
        if self.cache_dir is None or not encoders.onnx_available():
            return None
        adapter = Adapter.load(self.adapter_path)
        digest = hashlib.sha256(self.adapter_path.read_bytes()).hexdigest()
        try:
            encoder = encoders.load(self.model_path, self.cache_dir / "onnx", MAX_TOKENS, extra=f"adapter {digest}",
                                    build=lambda: merged_encoder(self.model_path, adapter, self.adapter_path))
        except Exception as exc:  # ExportFailed, or a file ONNX Runtime cannot load; an AdapterMismatch is not
            if isinstance(exc, TansuoError):
                raise
            log.warning("request classifier on torch: the ONNX export is not usable (%s)", exc)
            return None
        weight, bias = adapter.arrays["head.weight"].astype(np.float32), adapter.arrays["head.bias"].astype(np.float32)

        def score(texts: Sequence[str]) -> np.ndarray:
            logits = (encoder.pooled(texts) * LOGIT_SCALE) @ weight.T + bias
            return 1.0 / (1.0 + np.exp(-logits[:, 0]))

        return score

    def _on_torch(self) -> Callable[[Sequence[str]], np.ndarray]:
        import torch

        adapter = Adapter.load(self.adapter_path)
        tokenizer, model = load_encoder(self.model_path)
        merge(model, adapter, self.adapter_path)
        head = torch.nn.Linear(model.config.hidden_size, 1)
        with torch.no_grad():
            head.weight.copy_(torch.from_numpy(adapter.arrays["head.weight"]))
            head.bias.copy_(torch.from_numpy(adapter.arrays["head.bias"]))
        model.eval()
        forward = threading.Lock()

        def score(texts: Sequence[str]) -> np.ndarray:
            with forward, torch.inference_mode():  # one forward at a time: the model is shared by threads
                return torch.sigmoid(head(pooled(model, tokenizer, texts) * LOGIT_SCALE)).squeeze(-1).numpy()

        return score


def merged_encoder(model_path: Path, adapter: Adapter, origin: Path):
    """The base encoder with the adapter merged into its weights (raises AdapterMismatch)."""
    _, model = load_encoder(model_path)
    merge(model, adapter, origin)
    return model


def merge(model, adapter: Adapter, origin: Path) -> None:
    """W += (alpha / rank) * B @ A for every adapted projection; shapes must match the encoder."""
    import torch

    scale = adapter.alpha / adapter.rank
    if adapter.meta.get("encoder") not in (None, fingerprint(model)):
        raise AdapterMismatch(f"{origin} was trained on another encoder than {model.name_or_path} "
                              f"(retrain it with `tansuo train harm`)")
    layers = projections(model)
    missing = [name for name in layers if f"{name}.a" not in adapter.arrays]
    if missing or len(layers) * 2 + 2 != len(adapter.arrays):
        raise AdapterMismatch(f"{origin}: adapter layers do not match the encoder at {model.name_or_path} "
                              f"(retrain it with `tansuo train harm`)")
    with torch.no_grad():
        for name, linear in layers.items():
            a, b = adapter.arrays[f"{name}.a"], adapter.arrays[f"{name}.b"]
            if (b.shape[0], a.shape[1]) != tuple(linear.weight.shape):
                raise AdapterMismatch(f"{origin}: {name} is {b.shape[0]}x{a.shape[1]} in the adapter, "
                                      f"{tuple(linear.weight.shape)} in the encoder (retrain with `tansuo train harm`)")
            linear.weight += scale * torch.from_numpy(b @ a).to(linear.weight.dtype)
