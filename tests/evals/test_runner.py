"""The eval runner through its public surface: `tansuo eval` as a process for list, run, an
interrupted run resumed, and compare; a planted regression (a deliberately broken retriever) flagged."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from evals.context import EvalContext
from evals.report import compare, write_summary
from evals.runner import Plan, run_plan, subset
from evals.sets import Item, get_set
from tansuo.embedding import HashingEmbedder
from tests.conftest import make_settings


def tansuo(*args: str, cwd: Path, **kwargs) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TANSUO_")}
    env["TANSUO_DATA_DIR"] = str(cwd / "data")
    # SIGINT as at a terminal: a shell's background job (and so its children) starts with it ignored.
    return subprocess.Popen([sys.executable, "-m", "tansuo.cli", *args], cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL), **kwargs)


def test_list_names_every_set_with_its_stage(tmp_path: Path) -> None:
    out, err = tansuo("eval", "list", cwd=tmp_path).communicate(timeout=120)
    names = [line.split()[0] for line in out.splitlines()]
    assert {"retrieval-news", "cache-pairs", "harm"} <= set(names), err
    assert "recall@5" in out


def test_a_small_run_covers_every_category() -> None:
    items = [Item(f"{c}{i}", c, {}) for c in "abc" for i in range(5)]
    assert [i.category for i in subset(items, 4)] == ["a", "b", "c", "a"]
    assert len(subset(items, None)) == 15


def test_an_interrupted_run_keeps_its_items_and_resumes(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = tansuo("eval", "run", "harm", "--limit", "100", "--out", str(out), cwd=tmp_path)
    results = out / "harm.jsonl"
    deadline = time.monotonic() + 120
    while not (results.exists() and len(results.read_text().splitlines()) >= 20):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "--resume" in err and "Traceback" not in err, err
    kept = [json.loads(line)["id"] for line in results.read_text().splitlines()]
    assert 20 <= len(kept) < 100
    again = tansuo("eval", "run", "harm", "--limit", "100", "--out", str(out), cwd=tmp_path)
    _, err = again.communicate(timeout=300)
    assert again.returncode == 1 and "--resume" in err  # a folder holding a run is not overwritten
    resumed = tansuo("eval", "run", "harm", "--limit", "100", "--out", str(out), "--resume", cwd=tmp_path)
    stdout, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    ids = [json.loads(line)["id"] for line in results.read_text().splitlines()]
    assert len(ids) == 100 == len(set(ids)) and ids[:len(kept)] == kept  # finished items were not run again
    summary = json.loads((out / "summary.json").read_text())
    assert summary["sets"]["harm"]["items"] == 100 and summary["run"]["versions"]["tansuo"]
    assert (out / "plots" / "harm.png").stat().st_size > 5000 and "| harm |" in stdout


class BrokenRetrieval(EvalContext):
    """The news index built with a hashing embedder in place of the real one: a broken retriever."""

    def news_index(self):
        real, self.embedder = self.embedder, HashingEmbedder()
        try:
            return super().news_index()
        finally:
            self.embedder = real


async def test_compare_flags_a_planted_regression(tmp_path: Path, embedder) -> None:
    settings = make_settings(tmp_path / "data")
    sets = [get_set("retrieval-news")]
    runs = {}
    for name, context in (("good", EvalContext), ("broken", BrokenRetrieval)):
        ctx = context(settings, tmp_path / f"work-{name}", embedder=embedder)
        results = await run_plan(Plan(sets, tmp_path / name, limit=30), ctx)
        runs[name] = write_summary(tmp_path / name, results, {s.name: s for s in sets})
    assert runs["broken"]["sets"]["retrieval-news"]["score"] < runs["good"]["sets"]["retrieval-news"]["score"]
    deltas = compare(tmp_path / "good", tmp_path / "broken")
    assert any(d.metric == "score" and d.regressed for d in deltas)
    proc = tansuo("eval", "compare", str(tmp_path / "good"), str(tmp_path / "broken"), cwd=tmp_path)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1 and "REGRESSION" in out and "dropped by more than" in err
    assert (tmp_path / "broken" / "plots" / "compare-good.png").exists()
    same = tansuo("eval", "compare", str(tmp_path / "good"), str(tmp_path / "good"), cwd=tmp_path)
    assert same.wait(120) == 0
