"""Time from `make run` on a fresh clone to the first answer (pip's cache warm, as on a machine that
installed Tansuo before; the llama.cpp wheel comes from its cache too).

    .venv/bin/python bench/first_answer.py [--check]

Clones this checkout's HEAD into a temporary folder and runs `make run` there with a new data dir and
a free port. Times, from the start of `make run`: the service ready (/readyz 200), the first answer
to a tool question ("What is 37 times 91?"), the first answer to a question about the default corpus
(answered from what is indexed so far), and the default corpus complete (its build runs in the
background). The old order, the corpus built before the service answered, is the last figure plus
a turn. Target: the first answer within 40% of the time the corpus takes. Results: stdout and
bench/results/first_answer.json.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.support.checks import add_check, at_most, run_info, save_and_finish  # noqa: E402
from bench.support.service import ttft  # noqa: E402
from tansuo.llm.llama_server import free_port  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TOOL_QUESTION = "What is 37 times 91?"
CORPUS_QUESTION = "What does the Python statement 'with' do?"


def wait_for(condition, proc: subprocess.Popen, log: Path, limit_s: float = 1800) -> None:
    deadline = time.monotonic() + limit_s
    while not condition():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"make run stopped or took too long; see the end of {log}:\n"
                               + log.read_text(errors="replace")[-2000:])
        time.sleep(0.5)


def ready(base: str) -> dict | None:
    try:
        reply = httpx.get(f"{base}/readyz", timeout=5)
    except httpx.TransportError:
        return None
    return reply.json() if reply.status_code == 200 else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_check(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        clone, log, port = Path(tmp) / "tansuo", Path(tmp) / "make-run.log", free_port()
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        env = {**{k: v for k, v in os.environ.items() if not k.startswith(("TANSUO_", "VIRTUAL_ENV"))},
               "TANSUO_DATA_DIR": str(Path(tmp) / "data"), "TANSUO_PORT": str(port)}
        base, times = f"http://127.0.0.1:{port}", {}
        started = time.perf_counter()
        with open(log, "wb") as out:
            proc = subprocess.Popen(["make", "run"], cwd=clone, env=env, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        try:
            wait_for(lambda: ready(base) is not None, proc, log)
            times["ready"] = time.perf_counter() - started
            body = [{"role": "user", "content": TOOL_QUESTION}]
            asked = time.perf_counter() - started
            times["first answer (a tool question)"] = asked + ttft(base, body)[0]  # its first token
            _, answer, extras = ttft(base, [{"role": "user", "content": CORPUS_QUESTION}])
            times["first answer from the documents indexed so far"] = time.perf_counter() - started
            partial = bool(extras.get("notice"))
            wait_for(lambda: "default_corpus" not in (ready(base) or {"default_corpus": 1}), proc, log)
            times["default corpus complete"] = time.perf_counter() - started
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(120)
    print("| from `make run` on a fresh clone (pip cache warm) | seconds |\n|---|---|")
    for name, value in times.items():
        print(f"| {name} | {value:.0f} |")
    print(f"(the documents question was answered {'with' if partial else 'without'} the notice that "
          "indexing goes on)")
    share = times["first answer (a tool question)"] / times["default corpus complete"]
    found = [at_most("first answer ÷ default corpus complete", share, 0.4, "×")]
    results = {**run_info(), "seconds": {k: round(v, 1) for k, v in times.items()}, "partial_notice": partial}
    return save_and_finish("first_answer", results, found, args.check)


if __name__ == "__main__":
    sys.exit(main())
