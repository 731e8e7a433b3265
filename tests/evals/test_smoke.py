"""CI's smoke run: a few items of every set through the real embedded model and the runner, so a
set or the runner cannot break unseen (the full run is `make eval`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.context import EvalContext
from evals.report import write_summary
from evals.runner import Plan, run_plan
from evals.sets import REGISTRY, get_set
from tests.conftest import make_settings

pytestmark = pytest.mark.model


async def test_every_set_runs_a_few_items(tmp_path: Path, embedder) -> None:
    sets = [get_set(name) for name in REGISTRY]
    ctx = EvalContext(make_settings(tmp_path / "data", n_ctx=4096, parallel=1), tmp_path / "work", embedder=embedder)
    try:
        results = await run_plan(Plan(sets, tmp_path / "run", limit=2), ctx)
    finally:
        await ctx.aclose()
    summary = write_summary(tmp_path / "run", results, {s.name: s for s in sets})
    for name in REGISTRY:
        row = summary["sets"][name]
        assert row["items"] == 2 and row["errors"] <= 2 and 0.0 <= row["score"] <= 1.0, (name, row)
    assert summary["sets"]["retrieval-news"]["score"] > 0  # two labelled questions: their documents are found
    bfcl = [json.loads(line) for line in (tmp_path / "run" / "bfcl-simple_python.jsonl").read_text().splitlines()]
    assert all("calls" in r["details"] or r["error"] for r in bfcl)
