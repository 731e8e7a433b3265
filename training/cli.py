"""`tansuo train tools` and `tansuo train harm`: the tool-calling fine-tune of the embedded model
(docs/fine-tuning.md) and the request classifier of the harmlessness verifier."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tansuo.cli.index import _positive
from tansuo.settings import load_settings


def add_parser(sub: argparse._SubParsersAction) -> None:
    train = sub.add_parser("train", help="fine-tune the models Tansuo ships adapters for")
    cmds = train.add_subparsers(dest="train_command", required=True, metavar="SUBCOMMAND")
    harm = cmds.add_parser("harm", help="the request classifier (LoRA on the embedding model), from the exemplars "
                                        "and the dev third of the harm sets (`make train-harm`)")
    harm.add_argument("--out", type=Path, help="adapter file (default: TANSUO_HARM_ADAPTER or the shipped one)")
    harm.add_argument("--epochs", type=float, default=2.0)
    harm.add_argument("--seed", type=int, default=0)
    harm.add_argument("--limit", type=_positive, help="train on N examples only (a smoke run)")
    harm.set_defaults(handler=_harm)
    tools = cmds.add_parser("tools", help="LoRA fine-tune of the embedded model on requests generated from the "
                                          "installed tools and plugin manifests, exported for llama-server")
    tools.add_argument("--steps", type=_positive, default=240, help="optimizer steps (default 240)")
    tools.add_argument("--out", type=Path, help="adapter file (default: $TANSUO_DATA_DIR/adapters/tools-lora.gguf, "
                                                "which the service then loads)")
    tools.add_argument("--seed", type=int, default=0)
    tools.add_argument("--per-template", type=_positive, default=40, help="requests generated per template")
    tools.add_argument("--merge", choices=["Q8_0", "Q4_K_M", "Q4_1"],
                       help="also write the model with the adapter merged in, quantized (llama-export-lora, "
                            "llama-quantize)")
    tools.set_defaults(handler=_tools)


def _harm(args: argparse.Namespace) -> int:
    import random

    from tansuo.cli.index import progress_bars
    from tansuo.embedding import SentenceTransformerEmbedder, embedding_model_path
    from tansuo.evals.context import EVAL_SETS
    from tansuo.training.harm import TrainOptions, train, training_set
    from tansuo.verifiers.request_model import ADAPTER_PATH

    settings = load_settings()
    model_path = embedding_model_path(settings)
    out = args.out or settings.harm_adapter or ADAPTER_PATH
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    examples = training_set(SentenceTransformerEmbedder(model_path), EVAL_SETS, log=log)
    if args.limit:
        examples = random.Random(args.seed).sample(examples, min(args.limit, len(examples)))
    with progress_bars() as bars:
        adapter = train(examples, model_path, TrainOptions(epochs=args.epochs, seed=args.seed),
                        progress=lambda step, total, _loss: bars("train harm", step, total))
    adapter.save(out)
    log(f"trained on {adapter.meta['examples']} examples in {adapter.meta['train_seconds']} s "
        f"({adapter.meta['steps']} steps); adapter written to {out}")
    return 0


def _tools(args: argparse.Namespace) -> int:
    import asyncio

    from tansuo.cli.index import progress_bars
    from tansuo.llm.adapter import trained_path
    from tansuo.training.tools.pipeline import train_tools

    settings = load_settings()
    out = args.out or trained_path(settings)
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    with progress_bars() as bars:
        report = asyncio.run(train_tools(settings, out, steps=args.steps, seed=args.seed,
                                         per_template=args.per_template, merge=args.merge, log=log,
                                         progress=lambda step, total, _loss: bars("train tools", step, total)))
    print(report)
    return 0
