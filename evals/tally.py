"""Aggregates of a set's results: per category the number of items, the score's sum, the yes/no
parts (`right_tool`, `gold_cited`, ...) and the latencies; from them the summary with Wilson 95%
intervals. A test split's run keeps only this (per-item rows are written only when revealed), so
the summary of either kind of run is made here, from the same numbers."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Z95 = 1.959963984540054


def wilson(mean: float, n: int) -> tuple[float, float]:
    """The Wilson score interval (95%) of a share `mean` of `n` items. For scores between 0 and 1
    that are not all 0 or 1 (recall, coverage) it is the same formula on their mean: an
    approximation, stated where such a set is reported."""
    if n <= 0:
        return (0.0, 1.0)
    z2 = Z95 * Z95
    centre = (mean + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(max(0.0, mean * (1 - mean)) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return (round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4))


@dataclass
class CategoryTally:
    items: int = 0
    score: float = 0.0
    parts: dict[str, list[int]] = field(default_factory=dict)  # part -> [true, reported]
    values: dict[str, list[float]] = field(default_factory=dict)  # a numeric detail (answer words) -> values

    def add(self, score: float, details: dict[str, Any]) -> None:
        self.items += 1
        self.score += score
        for key, value in details.items():
            if isinstance(value, bool):
                counts = self.parts.setdefault(key, [0, 0])
                counts[0] += value
                counts[1] += 1
            elif isinstance(value, (int, float)):
                self.values.setdefault(key, []).append(float(value))

    def medians(self) -> dict[str, float]:
        return {k: round(float(np.median(v)), 2) for k, v in sorted(self.values.items()) if v}

    def rates(self) -> dict[str, float]:
        """The share true of each part every item reported."""
        return {k: round(t / n, 4) for k, (t, n) in sorted(self.parts.items()) if n == self.items and n}


@dataclass
class Tally:
    categories: dict[str, CategoryTally] = field(default_factory=lambda: defaultdict(CategoryTally))
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)  # exception type -> count (no item text)
    done: list[str] = field(default_factory=list)  # ids scored, for resuming

    def add(self, row: dict[str, Any]) -> None:
        self.categories[row["category"]].add(row["score"], row.get("details") or {})
        self.latencies.append(round(row["latency_ms"], 2))
        if row.get("error"):
            kind = str(row["error"]).split(":", 1)[0]
            self.errors[kind] = self.errors.get(kind, 0) + 1
        self.done.append(row["id"])

    @classmethod
    def of(cls, rows: list[dict[str, Any]]) -> Tally:
        tally = cls()
        for row in rows:
            tally.add(row)
        return tally

    def to_json(self) -> dict[str, Any]:
        return {"categories": {c: {"items": t.items, "score": t.score, "parts": t.parts, "values": t.values}
                               for c, t in self.categories.items()},
                "latencies": self.latencies, "errors": self.errors, "done": self.done}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Tally:
        tally = cls(latencies=list(data.get("latencies", [])), errors=dict(data.get("errors", {})),
                    done=list(data.get("done", [])))
        for name, c in data.get("categories", {}).items():
            tally.categories[name] = CategoryTally(c["items"], c["score"], {k: list(v) for k, v in c["parts"].items()},
                                                   {k: list(v) for k, v in c.get("values", {}).items()})
        return tally

    def summary(self) -> dict[str, Any]:
        total = CategoryTally()
        for t in self.categories.values():
            total.items += t.items
            total.score += t.score
            for key, (true, n) in t.parts.items():
                counts = total.parts.setdefault(key, [0, 0])
                counts[0] += true
                counts[1] += n
            for key, values in t.values.items():
                total.values.setdefault(key, []).extend(values)
        return {**_scored(total), "errors": sum(self.errors.values()), "error_kinds": dict(self.errors),
                "latency_p50_ms": _pct(self.latencies, 50), "latency_p95_ms": _pct(self.latencies, 95),
                "by_category": {c: _scored(t) for c, t in sorted(self.categories.items())}}


def _scored(t: CategoryTally) -> dict[str, Any]:
    mean = t.score / t.items if t.items else None
    return {"items": t.items, "score": None if mean is None else round(mean, 4),
            "interval": None if mean is None else list(wilson(mean, t.items)), "rates": t.rates(),
            **({"medians": t.medians()} if t.values else {})}


def _pct(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 2) if values else None
