"""`tansuo ask` from the command line, as people run it: cold (a process of its own) and warm (a
`tansuo serve` running on the same data dir answers it), against the code before issue 28.

    .venv/bin/python bench/ask.py [--rounds 3] [--data-dir DIR] [--before REV] [--check]

Side by side in one run, alternating, on one data dir (the default corpus built there once, before
timing; `--data-dir` reuses one already built):
- before: the revision before issue 28's work (`--before`, default 26c9ba2), installed into a
  temporary folder and run by this venv's Python: it loads sentence-transformers and torch, and
  embeds the demonstration bank and the tools' example requests on every start;
- cold: this checkout, a process of its own, with what it keeps between starts already kept (the
  vectors in the data dir, the encoders' ONNX exports in a cache folder of the run's own);
- warm: `tansuo serve` runs on the data dir, and `tansuo ask` sends the question there.
Wall time of the whole command. Targets (issue 28): warm ≤ 3 s; cold ≤ 0.5× before.
Results: stdout and bench/results/ask.json.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.support.checks import add_check, at_most, run_info, save_and_finish  # noqa: E402
from bench.support.service import start_serve, stop_serve  # noqa: E402

QUESTION = "What is 37 times 91?"
TANSUO = shutil.which("tansuo", path=str(Path(sys.executable).parent)) or "tansuo"
ROOT = Path(__file__).resolve().parents[1]
BEFORE = "26c9ba2"  # the last commit before issue 28's work


def install_revision(revision: str, into: Path) -> Path:
    """The package as it was at `revision`, installed (no dependencies: this venv's) into a folder of its own."""
    source = into / "source"
    source.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(source)], input=archive, check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "--target", str(into / "site"), str(source)], check=True, capture_output=True)
    return into / "site"


def ask(env: dict[str, str], *extra: str, before: Path | None = None) -> tuple[float, str]:
    command = [TANSUO, "ask", *extra, QUESTION]
    if before is not None:  # the old package first on the path, run from a folder with no `tansuo` of its own
        env, command = {**env, "PYTHONPATH": str(before)}, [sys.executable, "-m", "tansuo.cli", "ask", QUESTION]
    started = time.perf_counter()
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900,
                          cwd=before.parent if before else None)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0 or "3,367" not in proc.stdout:
        raise RuntimeError(f"tansuo ask failed ({proc.returncode}): {proc.stdout[-300:]} {proc.stderr[-500:]}")
    return elapsed, proc.stderr


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, help="a data dir whose default corpus is built (default: a new one)")
    parser.add_argument("--before", default=BEFORE, help=f"the revision to compare with (default {BEFORE})")
    add_check(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data_dir or Path(tmp) / "data"
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("TANSUO_")}, "TANSUO_DATA_DIR": str(data),
               "TANSUO_CACHE_DIR": str(Path(tmp) / "cache")}
        before = install_revision(args.before, Path(tmp) / "before")
        print("building the default corpus and the kept files once (not timed)", file=sys.stderr)
        ask(env, "--local")
        ask(env, before=before)
        times: dict[str, list[float]] = {f"before ({args.before})": [], "cold": [], "warm": []}
        for _ in range(args.rounds):
            times[f"before ({args.before})"].append(ask(env, before=before)[0])
            times["cold"].append(ask(env, "--local")[0])
        proc, _ = start_serve(data, {"TANSUO_DEFAULT_CORPUS": "true", "TANSUO_ANSWER_CACHE": "false"},
                              log=Path(tmp) / "serve.log")
        try:
            for _ in range(args.rounds):
                elapsed, stderr = ask(env)
                if "asked the service running at" not in stderr:
                    raise RuntimeError("tansuo ask did not use the running service")
                times["warm"].append(elapsed)
        finally:
            stop_serve(proc)
    median = {k: statistics.median(v) for k, v in times.items()}
    ratio = median["cold"] / median[f"before ({args.before})"]
    print(f"| `tansuo ask \"{QUESTION}\"`, median of {args.rounds} | wall time |\n|---|---|")
    for name, value in median.items():
        print(f"| {name} | {value:.2f} s |")
    print(f"| cold ÷ before | {ratio:.2f}× |")
    found = [at_most("tansuo ask with a service running", median["warm"], 3.0, " s"),
             at_most("cold ÷ before", ratio, 0.5, "×")]
    results = {**run_info(), "seconds": {k: [round(x, 2) for x in v] for k, v in times.items()},
               "median_s": {k: round(v, 2) for k, v in median.items()}}
    return save_and_finish("ask", results, found, args.check)


if __name__ == "__main__":
    sys.exit(main())
