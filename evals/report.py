"""A run's summary (JSON and Markdown, with plots) and the comparison of two runs."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tansuo.errors import TansuoError

REGRESSION = 0.02  # a drop of the score (absolute) beyond which a metric counts as regressed


def pct(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q * 100)) if values else None


def summarize_set(rows: list[dict]) -> dict[str, Any]:
    scores = [r["score"] for r in rows]
    latency = [r["latency_ms"] for r in rows]
    by_category: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_category[r["category"]].append(r)
    return {"items": len(rows), "score": round(float(np.mean(scores)), 4) if scores else None,
            "rates": rates(rows), "errors": sum(r.get("error") is not None for r in rows),
            "latency_p50_ms": _round(pct(latency, 0.5)), "latency_p95_ms": _round(pct(latency, 0.95)),
            "by_category": {c: {"items": len(v), "score": round(float(np.mean([r["score"] for r in v])), 4),
                                "rates": rates(v)}
                            for c, v in sorted(by_category.items())}}


def rates(rows: list[dict]) -> dict[str, float]:
    """The share of items true for each yes/no detail every item reports (a tool set's `right_tool`,
    a QA set's `gold_cited`): what the score is made of."""
    keys: set[str] | None = None
    for r in rows:
        found = {k for k, v in (r.get("details") or {}).items() if isinstance(v, bool)}
        keys = found if keys is None else keys & found
    return {k: round(float(np.mean([r["details"][k] for r in rows])), 4) for k in sorted(keys or ())}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def write_summary(out: Path, results: dict[str, list[dict]], sets: dict[str, Any]) -> dict[str, Any]:
    meta = json.loads((out / "run.json").read_text()) if (out / "run.json").exists() else {}
    summary = {"run": meta, "sets": {}}
    for name, rows in results.items():
        s = sets[name]
        summary["sets"][name] = {"stage": s.stage, "metric": s.metric, **summarize_set(rows)}
    (out / "summary.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False))
    (out / "summary.md").write_text(markdown(summary))
    plot_run(summary, results, out / "plots")
    return summary


def markdown(summary: dict[str, Any]) -> str:
    run = summary.get("run", {})
    lines = [f"# Eval run {run.get('started', '')}", "",
             f"Model: {run.get('model')} ({run.get('backend')}); tansuo {run.get('versions', {}).get('tansuo')}", "",
             "| set | stage | metric | items | score | latency p50 ms | errors | also |",
             "|---|---|---|---|---|---|---|---|"]
    for name, s in summary["sets"].items():
        lines.append(f"| {name} | {s['stage']} | {s['metric']} | {s['items']} | {_fmt(s['score'])} | "
                     f"{_fmt(s['latency_p50_ms'])} | {s['errors']} | {_rates_text(s.get('rates', {}))} |")
    for name, s in summary["sets"].items():
        lines += ["", f"## {name}", "", "| category | items | score | also |", "|---|---|---|---|"]
        lines += [f"| {c} | {v['items']} | {_fmt(v['score'])} | {_rates_text(v.get('rates', {}))} |"
                  for c, v in s["by_category"].items()]
    return "\n".join(lines) + "\n"


def _rates_text(values: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.3f}" for k, v in values.items())


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}" if value < 10 else f"{value:.0f}"


def plot_run(summary: dict[str, Any], results: dict[str, list[dict]], folder: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    for name, s in summary["sets"].items():
        fig, (bars, hist) = plt.subplots(1, 2, figsize=(11, 3.8))
        cats = list(s["by_category"])
        bars.barh(cats, [s["by_category"][c]["score"] for c in cats], color="tab:blue")
        bars.set_xlim(0, 1)
        bars.set_title(f"{name}: score by category ({s['metric']})")
        latency = [r["latency_ms"] for r in results[name]]
        if latency:
            hist.hist(latency, bins=30, color="tab:gray")
        hist.set_title(f"latency per item (p50 {_fmt(s['latency_p50_ms'])} ms)")
        hist.set_xlabel("ms")
        fig.tight_layout()
        fig.savefig(folder / f"{name}.png", dpi=100)
        plt.close(fig)


@dataclass(frozen=True)
class Delta:
    set: str
    metric: str  # "score" or "score/<category>"
    before: float | None
    after: float | None

    @property
    def change(self) -> float | None:
        return None if self.before is None or self.after is None else self.after - self.before

    @property
    def regressed(self) -> bool:
        return self.change is not None and self.change < -REGRESSION


def load_summary(run: Path) -> dict[str, Any]:
    path = run / "summary.json"
    if not path.exists():
        raise TansuoError(f"{run}: no summary.json (not a finished `tansuo eval run` folder)")
    return json.loads(path.read_text())


def compare(a: Path, b: Path) -> list[Delta]:
    before, after = load_summary(a)["sets"], load_summary(b)["sets"]
    out = []
    for name in [n for n in before if n in after]:
        out.append(Delta(name, "score", before[name]["score"], after[name]["score"]))
        for key in dict.fromkeys([*before[name].get("rates", {}), *after[name].get("rates", {})]):
            out.append(Delta(name, key, before[name].get("rates", {}).get(key), after[name].get("rates", {}).get(key)))
        cats = dict.fromkeys([*before[name]["by_category"], *after[name]["by_category"]])
        for c in cats:
            out.append(Delta(name, f"score/{c}", before[name]["by_category"].get(c, {}).get("score"),
                             after[name]["by_category"].get(c, {}).get("score")))
    return out


def plot_compare(deltas: list[Delta], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [d for d in deltas if d.change is not None]
    fig, ax = plt.subplots(figsize=(9, max(2.5, 0.3 * len(rows))))
    ax.barh([f"{d.set} {d.metric}" for d in rows], [d.change for d in rows],
            color=["tab:red" if d.regressed else "tab:green" for d in rows])
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel("change of score (after - before)")
    ax.set_title("eval compare: regressions in red")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
