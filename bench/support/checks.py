"""A benchmark's targets: each measured value against its limit. Every benchmark prints them and,
under `--check`, exits 1 when one is missed (`make bench-check` runs them all)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parents[1] / "results"


@dataclass(frozen=True)
class Target:
    name: str
    value: float | None  # None: not measured in this run (a part left out): neither met nor missed
    limit: float
    higher_is_better: bool
    unit: str = ""

    @property
    def measured(self) -> bool:
        return self.value is not None

    @property
    def met(self) -> bool:
        if self.value is None:
            return False
        return self.value >= self.limit if self.higher_is_better else self.value <= self.limit

    def row(self) -> str:
        sign = ">=" if self.higher_is_better else "<="
        value = "not run" if self.value is None else f"{self.value:g}{self.unit}"
        state = "—" if self.value is None else ("met" if self.met else "**MISSED**")
        return f"| {self.name} | {value} | {sign} {self.limit:g}{self.unit} | {state} |"


def at_least(name: str, value: float | None, limit: float, unit: str = "") -> Target:
    return Target(name, None if value is None else round(float(value), 4), limit, True, unit)


def at_most(name: str, value: float | None, limit: float, unit: str = "") -> Target:
    return Target(name, None if value is None else round(float(value), 4), limit, False, unit)


def add_check(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")


def run_info() -> dict[str, Any]:
    """When, where and how a result was measured, stored with it."""
    cpu = ""
    try:
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), "")
    except OSError:
        pass
    return {"date": datetime.now().isoformat(timespec="seconds"), "command": " ".join(["python", *sys.argv]),
            "machine": f"{cpu or platform.machine()}, {os.cpu_count()} cores"}


def finish(name: str, targets: list[Target], check: bool) -> int:
    """Print the targets; the exit status: 1 under --check when a measured target is missed."""
    print(f"\n| {name}: target | measured | limit | |\n|---|---|---|---|")
    for t in targets:
        print(t.row())
    missed = [t for t in targets if t.measured and not t.met]
    if missed:
        print(f"bench {name}: {len(missed)} target(s) missed: " + "; ".join(
            f"{t.name} {t.value:g}{t.unit}" for t in missed), file=sys.stderr)
    return 1 if check and missed else 0


def targets_json(targets: list[Target]) -> list[dict[str, Any]]:
    return [asdict(t) | {"met": t.met if t.measured else None} for t in targets]


def save_and_finish(name: str, results: dict[str, Any], targets: list[Target], check: bool) -> int:
    """Store the results with their targets in bench/results/<name>.json, then `finish`."""
    results["targets"] = targets_json(targets)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=2, default=str))
    return finish(name, targets, check)
