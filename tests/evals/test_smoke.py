"""CI's smoke run: one item of every set through the real embedded model and the runner, so a
set or the runner cannot break unseen (the full run is `make eval`): the dev split of every set
that has one, and BFCL (test only) as a test-split run that keeps aggregates only."""

from __future__ import annotations

from pathlib import Path

import pytest

from tansuo.evals.context import EvalContext
from tansuo.evals.report import write_summary
from tansuo.evals.runner import Plan, run_plan
from tansuo.evals.sets import REGISTRY, get_set
from tests.conftest import make_settings

pytestmark = pytest.mark.model


async def test_every_set_runs_an_item(tmp_path: Path, embedder) -> None:
    sets = [get_set(name) for name in REGISTRY]
    with_dev = [s for s in sets if any(i.split == "dev" for i in s.items())]
    bfcl = [s for s in sets if s not in with_dev]
    assert {s.name for s in bfcl} == {n for n in REGISTRY if n.startswith("bfcl-")}
    # qa-pydocs runs on the default corpus; its reference topics alone keep the smoke test fast
    settings = make_settings(tmp_path / "data", n_ctx=4096, parallel=1, corpus_packages=[])
    ctx = EvalContext(settings, tmp_path / "work", embedder=embedder)
    try:
        dev = await run_plan(Plan(with_dev, tmp_path / "dev", limit=1), ctx)
        test = await run_plan(Plan(bfcl, tmp_path / "test", split="test", limit=1), ctx)
    finally:
        await ctx.aclose()
    summary = write_summary(tmp_path / "dev", dev, {s.name: s for s in with_dev})["sets"]
    summary |= write_summary(tmp_path / "test", test, {s.name: s for s in bfcl})["sets"]
    for name in REGISTRY:
        row = summary[name]
        assert row["items"] == 1 and row["errors"] == 0 and 0.0 <= row["score"] <= 1.0, (name, row)
    assert summary["retrieval-news"]["score"] > 0  # a labelled question: its documents are found
    assert not list((tmp_path / "test").glob("*.jsonl")) and (tmp_path / "test" / "bfcl-multiple.tally.json").exists()
    assert "bfcl-simple_python" in (tmp_path / "test" / "summary.md").read_text()
