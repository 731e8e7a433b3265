"""Low-rank adapters (LoRA) for fine-tuning on CPU: a frozen linear layer plus a trainable update
B·A that starts at zero, put in place of named projections of any torch model, and read back as
plain arrays for an adapter file. Shared by the request classifier (verifiers) and the tool-calling
fine-tune (agent.sft); needs torch, imported by those training commands only."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch
from torch import nn


class LoRALinear(nn.Module):
    def __init__(self, linear: nn.Linear, rank: int, alpha: float) -> None:
        super().__init__()
        self.linear = linear
        self.a = nn.Parameter(torch.randn(rank, linear.in_features) * 0.01)
        self.b = nn.Parameter(torch.zeros(linear.out_features, rank))  # the model starts unchanged
        self.scale = alpha / rank

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x) + (x @ self.a.T @ self.b.T) * self.scale


def attach(model: nn.Module, names: Iterable[str], rank: int, alpha: float) -> dict[str, LoRALinear]:
    """Freeze `model` and put a LoRALinear in place of each named nn.Linear (dotted paths)."""
    for p in model.parameters():
        p.requires_grad = False
    out = {}
    for name in names:
        parent_path, _, attr = name.rpartition(".")
        parent = model.get_submodule(parent_path)
        out[name] = LoRALinear(getattr(parent, attr), rank, alpha)
        setattr(parent, attr, out[name])
    return out


def parameters(adapters: dict[str, LoRALinear]) -> list[nn.Parameter]:
    return [p for a in adapters.values() for p in (a.a, a.b)]


def arrays(adapters: dict[str, LoRALinear], key=lambda name: name) -> dict[str, np.ndarray]:
    """`key(name).a` (rank x in) and `key(name).b` (out x rank), float32."""
    return {f"{key(name)}.{part}": getattr(a, part).detach().float().numpy().copy()
            for name, a in adapters.items() for part in ("a", "b")}
