"""`tansuo eval list|run|compare`: the offline eval runner (docs/evaluation.md)."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from datetime import datetime
from pathlib import Path

from tansuo.cli.index import _positive
from tansuo.errors import TansuoError
from tansuo.evals.sets import SPLITS
from tansuo.settings import load_settings

EXIT_OK, EXIT_REGRESSED, EXIT_INTERRUPTED = 0, 1, 130


def add_parser(sub: argparse._SubParsersAction) -> None:
    ev = sub.add_parser("eval", help="run eval sets and compare runs")
    cmds = ev.add_subparsers(dest="eval_command", required=True, metavar="SUBCOMMAND")
    cmds.add_parser("list", help="the eval sets, their stage, splits and metric").set_defaults(handler=_list)
    run = cmds.add_parser("run", help="run sets (all: every set) on one split and score them")
    run.add_argument("sets", nargs="+", metavar="SET")
    run.add_argument("--split", choices=SPLITS, default="dev",
                     help="dev (default): tune here, per-item results written; test: aggregates only")
    run.add_argument("--reveal", action="store_true",
                     help="with --split test: write per-item results too (the run is stamped as revealed)")
    run.add_argument("--out", type=Path, help="the run's folder (default: eval-runs/<date-time>)")
    run.add_argument("--limit", type=_positive, help="the first N items of each set, in turn from its categories")
    run.add_argument("--sample", type=_positive, help="a fixed random N items of each category (all of smaller ones)")
    run.add_argument("--seed", type=int, default=0, help="the seed of --sample (default 0)")
    run.add_argument("--resume", action="store_true", help="continue the run in --out, skipping finished items")
    run.add_argument("--backend", choices=["embedded", "openai"], help="default: TANSUO_BACKEND")
    run.set_defaults(handler=_run)
    cmp = cmds.add_parser("compare", help="per-metric changes from RUN_A to RUN_B; exit 1 on a regression")
    cmp.add_argument("run_a", type=Path)
    cmp.add_argument("run_b", type=Path)
    cmp.set_defaults(handler=_compare)


def _list(args: argparse.Namespace) -> int:
    from tansuo.evals.sets import all_sets

    for s in all_sets():
        try:
            items = s.items()
            size = " ".join(f"{split} {sum(i.split == split for i in items):5}" for split in SPLITS)
        except TansuoError as exc:  # a set whose data package is not installed: say so, list the rest
            size = f"missing ({exc})"
        print(f"{s.name:28} {s.stage:10} {size}  {s.metric}: {s.description}. Splits: {s.splits}")
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    from tansuo.cli.index import progress_bars
    from tansuo.evals.context import EvalContext
    from tansuo.evals.report import write_summary
    from tansuo.evals.runner import Plan, run_plan
    from tansuo.evals.sets import REGISTRY, get_set

    if args.resume and args.out is None:
        raise TansuoError("--resume needs the --out folder of the run to continue")
    if args.reveal and args.split != "test":
        raise TansuoError("--reveal is for --split test (a dev run always writes per-item results)")
    names = list(REGISTRY) if args.sets == ["all"] else args.sets
    sets = [get_set(n) for n in names]  # an unknown name fails before any work
    settings = load_settings(**({"backend": args.backend} if args.backend else {}))
    out = args.out or Path("eval-runs") / datetime.now().strftime("%Y%m%d-%H%M%S")
    plan = Plan(sets, out, split=args.split, limit=args.limit, sample=args.sample, seed=args.seed,
                resume=args.resume, reveal=args.reveal)
    with tempfile.TemporaryDirectory(prefix="tansuo-eval-") as work, progress_bars() as bars:
        ctx = EvalContext(settings, Path(work))

        async def go():
            try:
                return await run_plan(plan, ctx, progress=lambda name, n, total: bars(f"eval {name}", n, total))
            finally:
                await ctx.aclose()

        try:
            results = asyncio.run(go())
        except KeyboardInterrupt:
            print(f"tansuo: interrupted; the finished items are in {out}: continue with "
                  f"`tansuo eval run {' '.join(args.sets)} {_options(args)}--out {out} --resume`", file=sys.stderr)
            return EXIT_INTERRUPTED
    write_summary(out, results, {s.name: s for s in sets})
    print((out / "summary.md").read_text())
    kept = "aggregates only (one .tally.json per set)" if plan.hidden else "one JSONL of per-item results per set"
    print(f"tansuo: results in {out} (summary.json, summary.md, plots/, {kept})", file=sys.stderr)
    return EXIT_OK


def _options(args: argparse.Namespace) -> str:
    """The selection options of a run, as typed again to resume it."""
    out = [f"--split {args.split}"] + (["--reveal"] if args.reveal else [])
    out += [f"--{k} {getattr(args, k)}" for k in ("limit", "sample") if getattr(args, k)]
    out += [f"--seed {args.seed}"] if args.sample else []
    return " ".join(out) + " "


def _compare(args: argparse.Namespace) -> int:
    from tansuo.evals.report import REGRESSION, compare, plot_compare

    deltas = compare(args.run_a, args.run_b)
    print(f"| set | metric | {args.run_a.name} | {args.run_b.name} | change |\n|---|---|---|---|---|")
    for d in deltas:
        change = "—" if d.change is None else f"{d.change:+.3f}" + (" REGRESSION" if d.regressed else "")
        print(f"| {d.set} | {d.metric} | {_f(d.before)} | {_f(d.after)} | {change} |")
    plot_compare(deltas, args.run_b / "plots" / f"compare-{args.run_a.name}.png")
    regressed = [d for d in deltas if d.regressed]
    if regressed:
        print(f"tansuo: {len(regressed)} metric(s) dropped by more than {REGRESSION}: "
              + ", ".join(f"{d.set} {d.metric}" for d in regressed), file=sys.stderr)
        return EXIT_REGRESSED
    return EXIT_OK


def _f(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"
