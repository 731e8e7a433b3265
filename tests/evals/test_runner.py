"""The eval runner through its public surface: `tansuo eval` as a process for list, run, an
interrupted run resumed, and compare; a planted regression (a deliberately broken retriever) flagged;
a test-split run that keeps aggregates only unless revealed, and resumes from them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tansuo.embedding import HashingEmbedder
from tansuo.errors import TansuoError
from tansuo.evals.context import EvalContext
from tansuo.evals.report import compare, write_summary
from tansuo.evals.runner import Plan, RunMismatch, run_plan, sample, subset
from tansuo.evals.sets import Item, ItemResult, get_set
from tansuo.evals.tally import wilson
from tests.conftest import make_settings


def tansuo(*args: str, cwd: Path, **kwargs) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TANSUO_")}
    env["TANSUO_DATA_DIR"] = str(cwd / "data")
    # SIGINT as at a terminal: a shell's background job (and so its children) starts with it ignored.
    return subprocess.Popen([sys.executable, "-m", "tansuo.cli", *args], cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL), **kwargs)


def test_list_names_every_set_with_its_stage_and_splits(tmp_path: Path) -> None:
    out, err = tansuo("eval", "list", cwd=tmp_path).communicate(timeout=120)
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert {"retrieval-news", "cache-pairs", "harm", "tools", "tool-calls", "factuality"} <= set(lines), err
    assert "recall@5" in out and "dev     0 test   400" in lines["bfcl-simple_python"]
    assert "dev   802 test   220" in lines["tool-calls"] and "dev   158 test   159" in lines["tools"]


def test_every_set_but_the_outside_benchmark_has_both_splits() -> None:
    for name in ("tools", "tool-calls", "qa-news", "retrieval-news", "cache-pairs", "harm", "decompose",
                 "factuality", "tool-retrieval-bfcl", "fanoutqa-dev"):
        splits = [i.split for i in get_set(name).items()]
        assert splits.count("dev") >= 10 and splits.count("test") >= 2 * 10, name
        assert set(splits) == {"dev", "test"}, name
    assert {i.split for i in get_set("bfcl-multiple").items()} == {"test"}


def test_a_small_run_covers_every_category_and_a_sample_is_fixed() -> None:
    items = [Item(f"{c}{i}", c, {}) for c in "abc" for i in range(5)]
    assert [i.category for i in subset(items, 4)] == ["a", "b", "c", "a"]
    assert len(subset(items, None)) == 15
    picked = sample(items, 2, "0:set")
    assert len(picked) == 6 and picked == sample(items, 2, "0:set") and picked != sample(items, 2, "1:set")
    assert sample(items, 9, "0:set") == items


def test_wilson_intervals_hold_the_share_and_narrow_with_more_items() -> None:
    low, high = wilson(0.8, 50)
    assert low < 0.8 < high and round(high - low, 2) == 0.22
    assert wilson(0.8, 500)[1] - wilson(0.8, 500)[0] < high - low
    assert wilson(1.0, 20)[1] == 1.0 and wilson(1.0, 20)[0] < 1.0


class Counting:
    """A shipped-fake set for the runner's bookkeeping: 30 items in 3 categories, half of each test;
    scores item i as right when i is even; raises Ctrl-C at `stop_at`."""

    name, stage, metric, description, splits = "counting", "cache", "even", "a fake set", "half and half"

    def __init__(self, stop_at: int | None = None) -> None:
        self.ran: list[str] = []
        self.stop_at = stop_at

    def items(self) -> list[Item]:
        return [Item(f"i{n:02d}", "abc"[n % 3], {"n": n}, "test" if n % 2 else "dev") for n in range(60)]

    async def run(self, ctx, item: Item) -> ItemResult:
        if self.stop_at is not None and len(self.ran) == self.stop_at:
            raise KeyboardInterrupt
        self.ran.append(item.id)
        return ItemResult(item.id, item.category, float(item.data["n"] % 4 == 1), 1.0,
                          {"right_part": item.data["n"] % 4 == 1, "secret": f"text of {item.id}"})


async def test_a_test_split_run_keeps_aggregates_only_and_resumes_from_them(tmp_path: Path) -> None:
    ctx = EvalContext(make_settings(tmp_path / "data"), tmp_path / "work")
    interrupted = Counting(stop_at=7)
    with pytest.raises(KeyboardInterrupt):
        await run_plan(Plan([interrupted], tmp_path / "run", split="test"), ctx)
    assert not list((tmp_path / "run").glob("*.jsonl"))
    kept = json.loads((tmp_path / "run" / "counting.tally.json").read_text())
    assert len(kept["done"]) == 7 and "secret" not in json.dumps(kept)
    resumed = Counting()
    results = await run_plan(Plan([resumed], tmp_path / "run", split="test", resume=True), ctx)
    assert len(resumed.ran) == 30 - 7 and not set(resumed.ran) & set(kept["done"])
    summary = write_summary(tmp_path / "run", results, {"counting": resumed})["sets"]["counting"]
    assert summary["items"] == 30 and summary["score"] == 0.5 and summary["rates"] == {"right_part": 0.5}
    assert summary["interval"] == list(wilson(0.5, 30)) and set(summary["by_category"]) == {"a", "b", "c"}
    assert not list((tmp_path / "run").glob("*.jsonl")) and "secret" not in (tmp_path / "run" / "summary.md").read_text()
    with pytest.raises(RunMismatch, match="split test"):
        await run_plan(Plan([Counting()], tmp_path / "run", split="dev", resume=True), ctx)


async def test_a_revealed_test_run_writes_items_and_is_stamped(tmp_path: Path) -> None:
    ctx = EvalContext(make_settings(tmp_path / "data"), tmp_path / "work")
    results = await run_plan(Plan([Counting()], tmp_path / "run", split="test", reveal=True), ctx)
    write_summary(tmp_path / "run", results, {"counting": Counting()})
    rows = [json.loads(line) for line in (tmp_path / "run" / "counting.jsonl").read_text().splitlines()]
    assert len(rows) == 30 and all(int(r["id"][1:]) % 2 for r in rows)
    assert json.loads((tmp_path / "run" / "run.json").read_text())["revealed"] is True
    assert "**Revealed**" in (tmp_path / "run" / "summary.md").read_text()
    dev = await run_plan(Plan([Counting()], tmp_path / "dev"), ctx)
    write_summary(tmp_path / "dev", dev, {"counting": Counting()})
    with pytest.raises(TansuoError, match="compare runs of one split"):
        compare(tmp_path / "dev", tmp_path / "run")


def test_reveal_needs_the_test_split(tmp_path: Path) -> None:
    proc = tansuo("eval", "run", "harm", "--reveal", "--out", str(tmp_path / "x"), cwd=tmp_path)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1 and "--reveal is for --split test" in err and "Traceback" not in err


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
