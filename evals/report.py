"""A run's summary (JSON and Markdown, with plots) and the comparison of two runs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tansuo.errors import TansuoError
from tansuo.evals.tally import Tally

REGRESSION = 0.02  # a drop of the score (absolute) beyond which a metric counts as regressed


def write_summary(out: Path, results: dict[str, Tally], sets: dict[str, Any]) -> dict[str, Any]:
    meta = json.loads((out / "run.json").read_text()) if (out / "run.json").exists() else {}
    summary = {"run": meta, "sets": {}}
    for name, tally in results.items():
        s = sets[name]
        summary["sets"][name] = {"stage": s.stage, "metric": s.metric, **tally.summary()}
    (out / "summary.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False))
    (out / "summary.md").write_text(markdown(summary))
    plot_run(summary, results, out / "plots")
    return summary


def markdown(summary: dict[str, Any]) -> str:
    run = summary.get("run", {})
    split = run.get("split", "dev")
    chosen = ", ".join(f"{k} {run[k]}" for k in ("limit", "sample") if run.get(k)) or "every item"
    lines = [f"# Eval run {run.get('started', '')}: {split} split ({chosen})", "",
             f"Model: {run.get('model')} ({run.get('backend')}); tansuo {run.get('versions', {}).get('tansuo')}; "
             f"{run.get('machine', '')}", ""]
    if run.get("revealed"):
        lines += ["**Revealed**: this test-split run wrote per-item results (`--reveal`); its items can no longer "
                  "be read as unseen.", ""]
    lines += ["Scores with their Wilson 95% intervals.", "",
              "| set | stage | metric | items | score [95% interval] | latency p50 ms | errors | also |",
              "|---|---|---|---|---|---|---|---|"]
    for name, s in summary["sets"].items():
        lines.append(f"| {name} | {s['stage']} | {s['metric']} | {s['items']} | {scored(s)} | "
                     f"{_fmt(s['latency_p50_ms'])} | {s['errors']} | {_rates_text(s.get('rates', {}))} |")
    for name, s in summary["sets"].items():
        lines += ["", f"## {name}", "", "| category | items | score [95% interval] | also |", "|---|---|---|---|"]
        lines += [f"| {c} | {v['items']} | {scored(v)} | {_rates_text(v.get('rates', {}))} |"
                  for c, v in s["by_category"].items()]
    return "\n".join(lines) + "\n"


def scored(row: dict[str, Any]) -> str:
    if row.get("score") is None:
        return "—"
    low, high = row.get("interval") or (None, None)
    return f"{row['score']:.3f}" + ("" if low is None else f" [{low:.2f}, {high:.2f}]")


def _rates_text(values: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.3f}" for k, v in values.items())


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}" if value < 10 else f"{value:.0f}"


def plot_run(summary: dict[str, Any], results: dict[str, Tally], folder: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    for name, s in summary["sets"].items():
        fig, (bars, hist) = plt.subplots(1, 2, figsize=(11, 3.8))
        cats = [c for c in s["by_category"] if s["by_category"][c]["score"] is not None]
        scores = [s["by_category"][c]["score"] for c in cats]
        low = [v - s["by_category"][c]["interval"][0] for c, v in zip(cats, scores, strict=True)]
        high = [s["by_category"][c]["interval"][1] - v for c, v in zip(cats, scores, strict=True)]
        bars.barh(cats, scores, xerr=[low, high], color="tab:blue", ecolor="black", capsize=3)
        bars.set_xlim(0, 1)
        bars.set_title(f"{name}: score by category, 95% intervals", fontsize=9)
        latency = results[name].latencies
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
    first, second = load_summary(a), load_summary(b)
    splits = [s["run"].get("split", "dev") for s in (first, second)]
    if splits[0] != splits[1]:
        raise TansuoError(f"{a} is a {splits[0]} run and {b} a {splits[1]} run: compare runs of one split")
    before, after = first["sets"], second["sets"]
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
