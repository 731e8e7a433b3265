"""Writes test.jsonl, the `tools` test split: built-in tool questions from the wordings and value
pools of test_wordings.yaml (written for this split alone), with answers computed here in Python,
never by the tools under test.

    python eval_sets/tools/build_test.py

Fields as in questions.jsonl (the dev split): id, category (math, units, dates, tables), tool,
question, answer (text), numeric (the value, when a number), tolerance (relative). Tables also
carry `rows` (the key column's values), so a scorer can tell a named row from an echo of all.
"""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from pathlib import Path

import yaml

HERE = Path(__file__).parent
SEED = 20261205
WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
MONTHS = ("January February March April May June July August September October November "
          "December").split()


def item(category: str, tool: str, question: str, answer, tolerance: float = 1e-6, **extra) -> dict:
    numeric = float(answer) if isinstance(answer, (int, float)) else None
    text = answer if isinstance(answer, str) else (f"{answer:g}" if isinstance(answer, float) else str(answer))
    return {"category": category, "tool": tool, "question": question, "answer": text, "numeric": numeric,
            "tolerance": tolerance, **extra}


class Draw:
    def __init__(self, words: dict, seed: int) -> None:
        self.w = words
        self.rng = random.Random(seed)

    def pick(self, options):
        return self.rng.choice(options)

    def n(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)


def math_items(d: Draw) -> list[dict]:
    w, out = d.w["math"], []
    for _ in range(8):
        a, b = d.n(23, 987), d.n(13, 89)
        out.append(item("math", "math", d.pick(w["product"]).format(a=a, b=b), a * b))
    for _ in range(8):
        a, b, c = d.n(1200, 8800), d.n(150, 2400), d.n(40, 1100)
        out.append(item("math", "math", d.pick(w["add_subtract"]).format(a=a, b=b, c=c), a + b - c))
    for _ in range(8):
        p, n = d.pick([3, 7, 8, 16, 22, 45, 60]), d.n(50, 5000)
        out.append(item("math", "math", d.pick(w["percent"]).format(p=p, n=n), round(p * n / 100, 6)))
    for _ in range(6):
        a = d.pick([3, 4, 6, 11, 13])
        k = d.n(3, 9 if a < 7 else 5)
        out.append(item("math", "math", d.pick(w["power"]).format(a=a, k=k), a ** k))
    for _ in range(6):
        r = d.n(13, 97)
        out.append(item("math", "math", d.pick(w["root"]).format(n=r * r), r))
    for _ in range(6):
        b, q = d.n(3, 24), d.n(12, 480)
        out.append(item("math", "math", d.pick(w["divide"]).format(a=b * q, b=b), q))
    for i in range(6):
        a, b, x = d.n(3, 12), d.n(5, 90), d.n(-9, 30)
        form = w["linear"][i % 2]
        c = a * x - b if form.startswith("If") else a * x + b
        out.append(item("math", "math", form.format(a=a, b=b, c=c), x))
    word = w["word"]
    for _ in range(2):
        n, days = d.n(40, 400), d.n(5, 30)
        out.append(item("math", "math", word["loaves"].format(n=n, d=days), n * days))
        p, n = d.n(6, 95), d.n(3, 40)
        out.append(item("math", "math", word["tickets"].format(p=p, n=n), p * n))
        s, h = d.n(12, 35), d.n(2, 7)
        out.append(item("math", "math", word["cyclist"].format(s=s, h=h), s * h))
        r = d.n(450, 2600)
        out.append(item("math", "math", word["rent"].format(r=r), 12 * r))
    return out


def units_items(d: Draw) -> list[dict]:
    w, out = d.w["units"], []
    for frm, to, factor in w["pairs"]:
        for _ in range(3):
            v = d.pick([d.n(2, 400), round(d.rng.uniform(1.5, 90), 1)])
            out.append(item("units", "units", d.pick(w["wordings"]).format(v=v, f=frm, t=to), round(v * factor, 6),
                            tolerance=5e-3))
    for _ in range(3):
        c = d.n(-25, 45)
        out.append(item("units", "units", w["celsius_to_fahrenheit"].format(c=c), round(c * 9 / 5 + 32, 6),
                        tolerance=5e-3))
    for _ in range(2):
        f = d.n(55, 95)
        out.append(item("units", "units", w["fahrenheit_to_celsius"].format(f=f), round((f - 32) * 5 / 9, 6),
                        tolerance=5e-3))
    for _ in range(2):
        c = d.n(-40, 120)
        out.append(item("units", "units", w["celsius_to_kelvin"].format(c=c), round(c + 273.15, 6), tolerance=5e-3))
    return out


def written(day: date, d: Draw) -> str:
    form = d.n(0, 2)
    if form == 0:
        return day.isoformat()
    if form == 1:
        return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
    return f"{MONTHS[day.month - 1]} {day.day}, {day.year}"


def some_day(d: Draw) -> date:
    return date(1991, 1, 1) + timedelta(days=d.n(0, 365 * 48))


def dates_items(d: Draw) -> list[dict]:
    w, out = d.w["dates"], []
    for _ in range(14):
        day = some_day(d)
        out.append(item("dates", "calendar", d.pick(w["weekday"]).format(d=written(day, d)), WEEKDAYS[day.weekday()]))
    for _ in range(14):
        a = some_day(d)
        b = a + timedelta(days=d.n(2, 1500))
        question = d.pick(w["between"]).format(a=written(a, d), b=written(b, d))
        out.append(item("dates", "calendar", question, (b - a).days))
    for _ in range(8):
        day, n = some_day(d), d.n(3, 250)
        out.append(item("dates", "calendar", d.pick(w["after"]).format(d=written(day, d), n=n),
                        (day + timedelta(days=n)).isoformat()))
    for _ in range(4):
        day, n = some_day(d), d.n(3, 250)
        out.append(item("dates", "calendar", d.pick(w["before"]).format(d=written(day, d), n=n),
                        (day - timedelta(days=n)).isoformat()))
    return out


def tables_items(d: Draw) -> list[dict]:
    w, out = d.w["tables"], []
    kinds = ["total"] * 6 + ["mean"] * 6 + ["largest"] * 4 + ["smallest"] * 4 + ["top"] * 2 + ["bottom"] * 2
    for i, kind in enumerate(kinds):
        key, names, col = w["domains"][i % len(w["domains"])]
        picked = d.rng.sample(names, d.n(4, min(6, len(names))))
        values = d.rng.sample(range(3, 900), len(picked))  # distinct: "the most" has one answer
        rows = list(zip(picked, values, strict=True))
        csv = f"{key},{col}\n" + "\n".join(f"{k},{v}" for k, v in rows)
        question = d.pick(w[kind]).format(csv=csv, col=col, key=key)
        answer = {"total": sum(values), "mean": round(sum(values) / len(values), 6), "largest": max(values),
                  "smallest": min(values), "top": max(rows, key=lambda r: r[1])[0],
                  "bottom": min(rows, key=lambda r: r[1])[0]}[kind]
        out.append(item("tables", "table", question, answer, kind=kind, rows=picked))
    return out


def build() -> list[dict]:
    words = yaml.safe_load((HERE / "test_wordings.yaml").read_text(encoding="utf-8"))
    d = Draw(words, SEED)
    items = math_items(d) + units_items(d) + dates_items(d) + tables_items(d)
    seen: set[str] = set()
    unique = [r for r in items if not (r["question"] in seen or seen.add(r["question"]))]  # a draw can repeat
    return [{"id": f"tools-test-{i:03d}", **r} for i, r in enumerate(unique, start=1)]


if __name__ == "__main__":
    rows = build()
    out = HERE / "test.jsonl"
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    counts = {c: sum(r["category"] == c for r in rows) for c in ("math", "units", "dates", "tables")}
    print(f"{out}: {len(rows)} questions {counts}")
