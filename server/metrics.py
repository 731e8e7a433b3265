"""Prometheus text exposition, by hand: a few counters and histograms, no client library."""

from __future__ import annotations

import bisect
from collections import defaultdict

BUCKETS_S = (0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


class Metrics:
    def __init__(self) -> None:
        self._counters: dict[str, dict[tuple, float]] = defaultdict(lambda: defaultdict(float))
        self._hist: dict[str, dict[tuple, list]] = defaultdict(dict)
        self._help: dict[str, tuple[str, str]] = {}

    def count(self, name: str, help_: str, value: float = 1.0, **labels: str) -> None:
        self._help.setdefault(name, ("counter", help_))
        self._counters[name][tuple(sorted(labels.items()))] += value

    def observe(self, name: str, help_: str, seconds: float, **labels: str) -> None:
        self._help.setdefault(name, ("histogram", help_))
        key = tuple(sorted(labels.items()))
        h = self._hist[name].setdefault(key, [[0] * len(BUCKETS_S), 0.0, 0])
        i = bisect.bisect_left(BUCKETS_S, seconds)
        for j in range(i, len(BUCKETS_S)):
            h[0][j] += 1
        h[1] += seconds
        h[2] += 1

    def render(self, gauges: dict[str, tuple[str, float]] | None = None) -> str:
        lines: list[str] = []
        for name, (kind, help_) in sorted(self._help.items()):
            lines += [f"# HELP {name} {help_}", f"# TYPE {name} {kind}"]
            if kind == "counter":
                for key, value in sorted(self._counters[name].items()):
                    lines.append(f"{name}{_labels(dict(key))} {value:g}")
                continue
            for key, (buckets, total, n) in sorted(self._hist[name].items()):
                labels = dict(key)
                for le, c in zip(BUCKETS_S, buckets, strict=True):
                    lines.append(f"{name}_bucket{_labels({**labels, 'le': f'{le:g}'})} {c}")
                lines.append(f"{name}_bucket{_labels({**labels, 'le': '+Inf'})} {n}")
                lines += [f"{name}_sum{_labels(labels)} {total:.6f}", f"{name}_count{_labels(labels)} {n}"]
        for name, (help_, value) in sorted((gauges or {}).items()):
            lines += [f"# HELP {name} {help_}", f"# TYPE {name} gauge", f"{name} {value:g}"]
        return "\n".join(lines) + "\n"
