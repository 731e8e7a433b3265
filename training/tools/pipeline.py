"""`tansuo train tools`, start to end: the installed tools and plugins -> generated requests -> the
planner's conversations -> LoRA training -> a llama.cpp adapter (and, on request, a merged and
quantized model), recorded with the model and the tool set it was trained for."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from tansuo.agent.demos import write_demos
from tansuo.errors import TansuoError
from tansuo.llm.adapter import demos_path, model_fingerprint
from tansuo.llm.factory import resolve_model_path
from tansuo.llm.llama_server import find_server_binary
from tansuo.plugins.tool import toolset_hash
from tansuo.settings import Settings
from tansuo.training.tools.data import coverage, generate
from tansuo.training.tools.formats import conversations
from tansuo.training.tools.train import TrainOptions, export_gguf, train

Log = Callable[[str], None]


async def installed_tools(settings: Settings, embedder):
    """The router the agent would build (built-in tools and the plugins that load), and all their specs."""
    from tansuo.agent.router import ToolRouter
    from tansuo.plugins.builtin import toolbox_from_settings
    from tansuo.plugins.catalog import load_catalog

    catalog = await load_catalog(settings, embedder=embedder)
    toolbox = toolbox_from_settings(settings)
    router = ToolRouter(toolbox, embedder, plugins=catalog.report.plugins, plugin_index=catalog.index)
    return router, list(toolbox.specs) + [p.spec for p in catalog.report.plugins.values()]


def eval_requests() -> list[str]:
    """Requests of the project's eval sets: training never produces one of them."""
    from tansuo.evals.context import EVAL_SETS
    from tansuo.evals.sets import read_jsonl

    out = [r["question"] for name in ("questions.jsonl", "test.jsonl")
           for r in read_jsonl(EVAL_SETS / "tools" / name)]
    for name in ("heldout", "hidden", "dev", "test"):
        path = EVAL_SETS / "toolcalls" / f"{name}.jsonl"
        if path.exists():
            out += [r["request"] for r in read_jsonl(path)]
    return out


async def train_tools(settings: Settings, out: Path, *, steps: int, seed: int, per_template: int,
                      merge: str | None, log: Log, progress=None) -> str:
    from tansuo.embedding import default_embedder

    model_path = resolve_model_path(settings)
    embedder = default_embedder(settings)
    router, specs = await installed_tools(settings, embedder)
    untrained = [s.name for s in specs if not s.example_calls]
    if untrained:
        log(f"no example_calls in their manifests, so not trained on: {', '.join(untrained)}")
    samples = generate(specs, per_template=per_template, seed=seed, exclude=eval_requests())
    log(f"{len(samples)} requests: " + ", ".join(f"{k} {v}" for k, v in sorted(coverage(samples).items())))
    convs = conversations(samples, router, seed=seed)
    log(f"{len(convs)} conversations (route, fill, generic tool prompt); training {steps} steps on {model_path.name}")
    options = TrainOptions(steps=steps, seed=seed)
    trained = train(convs, model_path, options, progress=progress)
    meta = {"base_model": model_path.name, "base_model_sha256": model_fingerprint(model_path),
            "toolset": toolset_hash(specs), "tools": ",".join(sorted(s.name for s in specs if s.example_calls)),
            "steps": steps, "seed": seed, "per_template": per_template, "requests": len(samples),
            "conversations": len(convs), "train_seconds": round(trained.seconds), "tokens": trained.tokens,
            "peak_rss_mib": round(trained.peak_rss_mib), "trained": datetime.now().isoformat(timespec="seconds")}
    export_gguf(trained, out, options.alpha, meta)
    # The requests it learnt from, beside it: the planner shows the nearest ones as demonstrations.
    write_demos([s.to_dict() for s in samples], demos_path(out))
    lines = [f"adapter: {out} ({out.stat().st_size / 2**20:.1f} MiB), rank {options.rank}, {steps} steps in "
             f"{trained.seconds / 60:.1f} min ({trained.tokens / trained.seconds:.0f} tokens/s), peak memory "
             f"{trained.peak_rss_mib / 1024:.1f} GiB; loss over the last steps "
             f"{sum(trained.losses[-20:]) / len(trained.losses[-20:]):.3f}"]
    if merge:
        merged = merge_model(settings, model_path, out, merge)
        lines.append(f"merged model: {merged} ({merged.stat().st_size / 2**20:.0f} MiB; TANSUO_MODEL_PATH={merged} "
                     "TANSUO_TOOL_ADAPTER=off serves it)")
    return "\n".join(lines)


def merge_model(settings: Settings, model_path: Path, adapter: Path, quant: str) -> Path:
    """The base model with the adapter applied (llama-export-lora), then quantized (llama-quantize);
    both ship with llama-server."""
    binary, env = find_server_binary(settings.llama_server_bin, settings.data_dir / "llama-libs")
    merged = adapter.with_name(f"{model_path.stem}-tools.f16.gguf")
    final = adapter.with_name(f"{model_path.stem}-tools.{quant}.gguf")
    for command in ([str(binary.with_name("llama-export-lora")), "-m", str(model_path), "--lora", str(adapter),
                     "-o", str(merged)],
                    [str(binary.with_name("llama-quantize")), "--allow-requantize", str(merged), str(final), quant]):
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise TansuoError(f"{Path(command[0]).name} failed ({done.returncode}): {' | '.join(tail)}")
    merged.unlink()
    return final
