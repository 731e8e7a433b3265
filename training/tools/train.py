"""LoRA fine-tuning of the embedded model on the tool conversations, on CPU, and its export as a
llama.cpp LoRA adapter (GGUF) that llama-server loads with `--lora`.

The base model is read straight from its GGUF by transformers (dequantized to float32). Rank-16
adapters go on every attention and MLP projection; the loss is on the assistant's reply only. The
adapter file is written with the `gguf` package in llama.cpp's adapter layout (what its
convert_lora_to_gguf.py writes): tensors `blk.N.<proj>.weight.lora_a` / `.lora_b`, the query and
key `lora_b` rows permuted as llama.cpp permutes those weights, and `adapter.lora.alpha`. It also
records the base model and the tool set it was trained for (`tansuo doctor` compares them).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tansuo.llm.adapter import META
from tansuo.training import lora
from tansuo.training.tools.formats import Conversation

# HF projection -> llama.cpp tensor name
PROJECTIONS = {"self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
               "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
               "mlp.down_proj": "ffn_down"}


@dataclass(frozen=True)
class TrainOptions:
    steps: int = 240
    batch_size: int = 2
    rank: int = 16
    alpha: float = 32.0
    learning_rate: float = 4e-4
    seed: int = 0
    max_tokens: int = 900  # longer conversations are dropped (the generic prompt with big schemas)


@dataclass
class Trained:
    model: Any
    adapters: dict[str, lora.LoRALinear]
    config: Any
    steps: int
    seconds: float
    tokens: int
    peak_rss_mib: float
    losses: list[float]


def load_base(model_path: Path):
    """Tokenizer and float32 model from the GGUF (transformers dequantizes it; needs gguf, accelerate)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_path.parent), gguf_file=model_path.name)
    model = AutoModelForCausalLM.from_pretrained(str(model_path.parent), gguf_file=model_path.name,
                                                 dtype=torch.float32, attn_implementation="sdpa")
    return tokenizer, model


def encode(tokenizer, conversation: Conversation) -> tuple[list[int], int]:
    """Token ids of prompt + reply, and where the reply starts (the chat template the server uses)."""
    prompt = tokenizer.apply_chat_template(list(conversation.messages), tokenize=False, add_generation_prompt=True)
    reply = conversation.target + "<|im_end|>\n"
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    reply_ids = tokenizer(reply, add_special_tokens=False)["input_ids"]
    return prompt_ids + reply_ids, len(prompt_ids)


def train(conversations: Sequence[Conversation], model_path: Path, options: TrainOptions = TrainOptions(), *,
          progress: Callable[[int, int, float], None] | None = None) -> Trained:
    torch.manual_seed(options.seed)
    rng = random.Random(options.seed)
    tokenizer, model = load_base(model_path)
    encoded = [e for e in (encode(tokenizer, c) for c in conversations) if len(e[0]) <= options.max_tokens]
    if not encoded:
        raise ValueError("no training conversation fits max_tokens")
    names = [f"model.layers.{i}.{p}" for i in range(model.config.num_hidden_layers) for p in PROJECTIONS]
    adapters = lora.attach(model, names, options.rank, options.alpha)
    optimiser = torch.optim.AdamW(lora.parameters(adapters), lr=options.learning_rate, weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=options.learning_rate,
                                                   total_steps=options.steps, pct_start=0.1)
    model.train()
    order: list[int] = []
    losses, tokens, started = [], 0, time.perf_counter()
    for step in range(1, options.steps + 1):
        if len(order) < options.batch_size:
            order += rng.sample(range(len(encoded)), len(encoded))
        batch = [encoded[order.pop()] for _ in range(options.batch_size)]
        loss = _step(model, batch, tokenizer.pad_token_id or 0)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        losses.append(loss.item())
        tokens += sum(len(ids) for ids, _ in batch)
        if progress:
            progress(step, options.steps, losses[-1])
    model.eval()
    return Trained(model, adapters, model.config, options.steps, time.perf_counter() - started, tokens,
                   _peak_rss_mib(), losses)


def _step(model, batch: list[tuple[list[int], int]], pad: int) -> torch.Tensor:
    """Next-token loss on the replies only; the vocabulary projection runs on those positions alone
    (it is a tenth of the model's work per token, and its activations most of the memory)."""
    width = max(len(ids) for ids, _ in batch)
    input_ids = torch.full((len(batch), width), pad, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    rows, positions, targets = [], [], []
    for row, (ids, start) in enumerate(batch):
        input_ids[row, :len(ids)] = torch.tensor(ids)
        mask[row, :len(ids)] = 1
        for pos in range(start - 1, len(ids) - 1):  # the state at pos predicts token pos + 1
            rows.append(row)
            positions.append(pos)
            targets.append(ids[pos + 1])
    hidden = model.model(input_ids=input_ids, attention_mask=mask).last_hidden_state
    logits = model.lm_head(hidden[torch.tensor(rows), torch.tensor(positions)])
    return torch.nn.functional.cross_entropy(logits, torch.tensor(targets))


def _peak_rss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def permute(weights: np.ndarray, n_head: int) -> np.ndarray:
    """llama.cpp's row order for rotary heads (convert_hf_to_gguf's LlamaModel.permute)."""
    return (weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
            .swapaxes(1, 2).reshape(weights.shape))


def export_gguf(trained: Trained, out: Path, alpha: float, meta: dict[str, Any]) -> Path:
    """The adapter as llama.cpp reads it (`llama-server --lora out`)."""
    import gguf

    config = trained.config
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    writer = gguf.GGUFWriter(str(tmp), "llama")
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(alpha))
    for key, value in meta.items():
        writer.add_string(META + key, str(value))
    heads = {"attn_q": config.num_attention_heads, "attn_k": config.num_key_value_heads}
    for name, adapter in trained.adapters.items():
        layer = int(name.split(".")[2])
        kind = PROJECTIONS[name.split(".", 3)[3]]
        a = adapter.a.detach().float().numpy()
        b = adapter.b.detach().float().numpy()
        if kind in heads:
            b = permute(b, heads[kind])
        # float16 halves the file (llama.cpp reads either); the deltas lose nothing that matters
        writer.add_tensor(f"blk.{layer}.{kind}.weight.lora_a", np.ascontiguousarray(a, dtype=np.float16))
        writer.add_tensor(f"blk.{layer}.{kind}.weight.lora_b", np.ascontiguousarray(b, dtype=np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    tmp.replace(out)
    return out
