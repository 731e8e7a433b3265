"""Writes questions.jsonl: built-in tool questions with exact answers, computed here (not by the
tools under test): arithmetic and word problems, unit conversions, calendar questions and small
inline tables. Wording varies per item; values come from a fixed seed.

    python eval_sets/tools/build.py

Fields: id, category (math, units, dates, tables), tool (the tool that should answer), question,
answer (as text), numeric (the value, when the answer is a number), tolerance (relative).
"""

from __future__ import annotations

import json
import math
import random
from datetime import date, timedelta
from pathlib import Path

rnd = random.Random(20261201)
WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()


def item(category: str, tool: str, question: str, answer, tolerance: float = 1e-6) -> dict:
    numeric = float(answer) if isinstance(answer, (int, float)) else None
    text = answer if isinstance(answer, str) else (f"{answer:g}" if isinstance(answer, float) else str(answer))
    return {"category": category, "tool": tool, "question": question, "answer": text, "numeric": numeric,
            "tolerance": tolerance}


def math_items() -> list[dict]:
    out = []
    forms = ["What is {a} times {b}?", "Multiply {a} by {b}.", "Compute {a} * {b}", "{a} x {b} = ?"]
    for _ in range(10):
        a, b = rnd.randint(12, 999), rnd.randint(12, 99)
        out.append(item("math", "math", rnd.choice(forms).format(a=a, b=b), a * b))
    for _ in range(8):
        a, b, c = rnd.randint(100, 9999), rnd.randint(100, 9999), rnd.randint(10, 999)
        out.append(item("math", "math", f"What is {a} + {b} - {c}?", a + b - c))
    for _ in range(8):
        p, n = rnd.choice([5, 12, 15, 18, 20, 25, 35, 40, 65]), rnd.randint(20, 2000)
        out.append(item("math", "math", rnd.choice(["What is {p}% of {n}?", "Calculate {p} percent of {n}"])
                        .format(p=p, n=n), round(p * n / 100, 6)))
    for _ in range(6):
        n = rnd.choice([2, 3, 5, 7])
        k = rnd.randint(5, 12)
        out.append(item("math", "math", f"What is {n} to the power of {k}?", n ** k))
    for _ in range(6):
        r = rnd.randint(11, 99)
        out.append(item("math", "math", f"What is the square root of {r * r}?", r))
    for _ in range(6):
        a, b = rnd.randint(2, 9), rnd.randint(10, 60)
        x = rnd.randint(2, 20)
        c = a * x + b
        out.append(item("math", "math", f"Solve {a}x + {b} = {c} for x.", x))
    for _ in range(8):
        price, qty = rnd.randint(3, 40), rnd.randint(3, 25)
        out.append(item("math", "math", f"A notebook costs {price} euros. How much do {qty} notebooks cost in "
                                        f"euros?", price * qty))
    for _ in range(6):
        speed, hours = rnd.randint(40, 120), rnd.randint(2, 9)
        out.append(item("math", "math", f"A train travels at {speed} km per hour for {hours} hours. How many "
                                        f"kilometres does it cover?", speed * hours))
    return out


UNITS = [  # (from, to, factor or function, phrasing of the units)
    ("mile", "km", 1.609344, "miles", "kilometres"), ("km", "mile", 1 / 1.609344, "km", "miles"),
    ("lb", "kg", 0.45359237, "pounds", "kilograms"), ("kg", "lb", 1 / 0.45359237, "kg", "pounds"),
    ("inch", "cm", 2.54, "inches", "centimetres"), ("foot", "m", 0.3048, "feet", "metres"),
    ("liter", "gallon", 1 / 3.785411784, "liters", "US gallons"), ("oz", "g", 28.349523125, "ounces", "grams"),
    ("m/s", "km/h", 3.6, "metres per second", "km per hour"), ("hour", "second", 3600, "hours", "seconds"),
]


def units_items() -> list[dict]:
    out = []
    forms = ["Convert {v} {f} to {t}", "How many {t} is {v} {f}?", "{v} {f} in {t}?"]
    for frm, to, factor, f_name, t_name in UNITS:
        for _ in range(3):
            v = rnd.choice([rnd.randint(2, 500), round(rnd.uniform(1, 100), 1)])
            out.append(item("units", "units", rnd.choice(forms).format(v=v, f=f_name, t=t_name),
                            round(v * factor, 6), tolerance=5e-3))
    for _ in range(5):
        c = rnd.randint(-20, 40)
        out.append(item("units", "units", f"Convert {c} degrees Celsius to Fahrenheit", round(c * 9 / 5 + 32, 6),
                        tolerance=5e-3))
    for _ in range(5):
        f = rnd.randint(0, 110)
        out.append(item("units", "units", f"What is {f} degrees Fahrenheit in Celsius?", round((f - 32) * 5 / 9, 6),
                        tolerance=5e-3))
    return out


def _day() -> date:
    return date(2020, 1, 1) + timedelta(days=rnd.randint(0, 365 * 8))


def dates_items() -> list[dict]:
    out = []
    for _ in range(15):
        d = _day()
        form = rnd.choice(["What weekday was {d}?", "Which day of the week is {d}?", "On what weekday did {d} fall?"])
        out.append(item("dates", "calendar", form.format(d=d.isoformat()), WEEKDAYS[d.weekday()]))
    for _ in range(15):
        a = _day()
        b = a + timedelta(days=rnd.randint(3, 900))
        out.append(item("dates", "calendar", f"How many days are there between {a.isoformat()} and {b.isoformat()}?",
                        (b - a).days))
    for _ in range(10):
        a, n = _day(), rnd.randint(5, 120)
        out.append(item("dates", "calendar", f"What date is {n} days after {a.isoformat()}?",
                        (a + timedelta(days=n)).isoformat()))
    return out


def tables_items() -> list[dict]:
    out = []
    cities = ["Oslo", "Bergen", "Halden", "Moss", "Tromso"]
    for i in range(20):
        rows = [(c, rnd.randint(5, 300)) for c in rnd.sample(cities, 4)]
        csv = "city,sales\n" + "\n".join(f"{c},{v}" for c, v in rows)
        kind = i % 4
        values = [v for _, v in rows]
        if kind == 0:
            q, a = "What is the total of the sales column", sum(values)
        elif kind == 1:
            q, a = "What is the mean of the sales column", round(sum(values) / len(values), 6)
        elif kind == 2:
            q, a = "What is the largest value in the sales column", max(values)
        else:
            q, a = "Which city has the highest sales", max(rows, key=lambda r: r[1])[0]
        out.append(item("tables", "table", f"{q} in this CSV table? {csv}", a))
    return out


if __name__ == "__main__":
    items = math_items() + units_items() + dates_items() + tables_items()
    out = Path(__file__).with_name("questions.jsonl")
    rows = [{"id": f"tool-{i:03d}", **r} for i, r in enumerate(items, start=1)]
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    counts = {c: sum(r["category"] == c for r in rows) for c in ("math", "units", "dates", "tables")}
    print(f"{out}: {len(rows)} questions {counts}")
    assert math.isfinite(sum(r["numeric"] or 0 for r in rows))
