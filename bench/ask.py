"""`tansuo ask` from the command line, as people run it: cold (a process of its own) and warm (a
`tansuo serve` running on the same data dir answers it).

    .venv/bin/python bench/ask.py [--rounds 3] [--data-dir DIR] [--check]

Side by side in one run, alternating, on one data dir (the default corpus built there once, before
timing; `--data-dir` reuses one already built):
- cold, nothing kept: the process starts the model server, the embedder and the index, and embeds
  the demonstration bank and the tools' example requests (their kept vectors removed first);
- cold: the same, with those vectors kept on disk from an earlier run (content-keyed);
- warm: `tansuo serve` runs on the data dir, and `tansuo ask` sends the question there.
Wall time of the whole command. Targets (issue 28): warm ≤ 3 s; cold ≤ 0.5× cold-with-nothing-kept.
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


def ask(env: dict[str, str], *extra: str) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run([TANSUO, "ask", *extra, QUESTION], env=env, capture_output=True, text=True, timeout=900)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0 or "3,367" not in proc.stdout:
        raise RuntimeError(f"tansuo ask failed ({proc.returncode}): {proc.stdout[-300:]} {proc.stderr[-500:]}")
    return elapsed, proc.stderr


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, help="a data dir whose default corpus is built (default: a new one)")
    add_check(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data_dir or Path(tmp) / "data"
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("TANSUO_")}, "TANSUO_DATA_DIR": str(data)}
        print("building the default corpus once (not timed)", file=sys.stderr)
        ask(env, "--local")
        times: dict[str, list[float]] = {"cold, nothing kept": [], "cold": [], "warm": []}
        for _ in range(args.rounds):
            shutil.rmtree(data / "vectors", ignore_errors=True)
            times["cold, nothing kept"].append(ask(env, "--local")[0])
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
    ratio = median["cold"] / median["cold, nothing kept"]
    print(f"| `tansuo ask \"{QUESTION}\"`, median of {args.rounds} | wall time |\n|---|---|")
    for name, value in median.items():
        print(f"| {name} | {value:.2f} s |")
    print(f"| cold ÷ cold with nothing kept | {ratio:.2f}× |")
    found = [at_most("tansuo ask with a service running", median["warm"], 3.0, " s"),
             at_most("cold ÷ cold with nothing kept", ratio, 0.5, "×")]
    results = {**run_info(), "seconds": {k: [round(x, 2) for x in v] for k, v in times.items()},
               "median_s": {k: round(v, 2) for k, v in median.items()}}
    return save_and_finish("ask", results, found, args.check)


if __name__ == "__main__":
    sys.exit(main())
