"""Writes test.jsonl, the `tool-calls` test split: requests from the wordings and value pools of
test_wordings.yaml (written for this split alone, apart from the training generator), with their
gold calls. Every gold call of a tool that runs offline is run once here and must succeed.

    .venv/bin/python eval_sets/toolcalls/build_test.py

Fields as in the dev files: id, request, kind (call | multi | answer | search | decline), tool,
calls ([{name, arguments}]), template (which wording group), split ("test").
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

HERE = Path(__file__).parent
SEED = 20261206
MONTHS = ("January February March April May June July August September October November "
          "December").split()


def _math(operation: str, **fields) -> dict:
    return {"request": {"operation": operation, **fields}}


class Writer:
    def __init__(self, words: dict, seed: int) -> None:
        self.w = words
        self.rng = random.Random(seed)
        self.rows: list[dict] = []

    def n(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def pick(self, options):
        return self.rng.choice(options)

    def add(self, template: str, kind: str, tool: str | None, request: str, calls=()) -> None:
        self.rows.append({"request": request, "kind": kind, "tool": tool,
                          "calls": [{"name": name, "arguments": args} for name, args in calls],
                          "template": template, "split": "test"})

    def day(self) -> date:
        return date(1994, 1, 1) + timedelta(days=self.n(0, 365 * 42))

    def written(self, day: date) -> str:
        """As a person writes it, in forms the calendar tool reads (gold calls copy the request)."""
        form = self.n(0, 2)
        if form == 0:
            return day.isoformat()
        if form == 1:
            return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
        return f"{MONTHS[day.month - 1]} {day.day}, {day.year}"


def math_requests(wr: Writer) -> None:
    m = wr.w["math"]

    def product():
        a, b = wr.n(17, 940), wr.n(6, 75)
        return {"a": a, "b": b}, f"{a}*{b}"

    def add_subtract():
        a, b, c = wr.n(300, 9000), wr.n(20, 900), wr.n(20, 900)
        return {"a": a, "b": b, "c": c}, f"{a} + {b} - {c}"

    def percent():
        p, n = wr.pick([4, 9, 14, 35, 55, 85]), wr.n(60, 7000)
        return {"p": p, "n": n}, f"{p}/100*{n}"

    def power():
        a, k = wr.n(3, 17), wr.n(3, 8)
        return {"a": a, "k": k}, f"{a}^{k}"

    def root():
        r = wr.n(12, 88)
        return {"n": r * r}, f"sqrt({r * r})"

    def divide():
        b, q = wr.n(4, 32), wr.n(15, 300)
        return {"a": b * q, "b": b}, f"{b * q}/{b}"

    def word():
        a, b = wr.n(6, 60), wr.n(12, 480)
        return {"a": a, "b": b}, f"{a}*{b}"

    for make, count in ((product, 4), (add_subtract, 4), (percent, 4), (power, 3), (root, 3), (divide, 3),
                        (word, 4)):
        for _ in range(count):
            slots, expression = make()
            group = make.__name__
            wr.add(f"math.{group}", "call", "math", wr.pick(m[group]).format(**slots),
                   [("math", _math("evaluate", expression=expression))])
    for i in range(4):
        a, b, y = wr.n(2, 11), wr.n(3, 70), wr.n(-8, 25)
        form = m["linear"][i % 2]
        c = a * y + b if "+" in form else a * y - b
        equation = form.split(": ")[-1].removeprefix("Find the unknown in ").rstrip(".").format(a=a, b=b, c=c)
        wr.add("math.linear", "call", "math", form.format(a=a, b=b, c=c), [("math", _math("solve", equations=[equation]))])
    for _ in range(3):
        a, b, x, y = wr.n(2, 9), wr.n(2, 6), wr.n(-5, 15), wr.n(-5, 15)
        c, d = a * x + y, x - b * y
        wr.add("math.system", "call", "math", wr.pick(m["system"]).format(a=a, b=b, c=c, d=d),
               [("math", _math("solve", equations=[f"{a}x + y = {c}", f"x - {b}y = {d}"]))])
    polys = list(m["polynomials"])
    wr.rng.shuffle(polys)
    for f in polys[:4]:
        wr.add("math.derivative", "call", "math", wr.pick(m["derivative"]).format(f=f),
               [("math", _math("derivative", expression=f))])
    for f in polys[4:]:
        lo = wr.n(0, 3)
        hi = lo + wr.n(1, 5)
        wr.add("math.integral", "call", "math", wr.pick(m["integral"]).format(f=f, lo=lo, hi=hi),
               [("math", _math("integral", expression=f, lower=str(lo), upper=str(hi)))])


def units_requests(wr: Writer) -> None:
    u = wr.w["units"]
    pairs = u["pairs"]
    for i in range(25):
        frm, to, pint_from, pint_to = pairs[i % len(pairs)]
        value = wr.pick([wr.n(2, 350), round(wr.rng.uniform(1.5, 80), 1)])
        if pint_from.startswith("deg"):
            value = wr.n(-20, 100)
        wr.add("units.convert", "call", "units", wr.pick(u["wordings"]).format(v=value, f=frm, t=to),
               [("units", {"value": value, "from_unit": pint_from, "to_unit": pint_to})])


def calendar_requests(wr: Writer) -> None:
    c = wr.w["calendar"]

    def cal(operation: str, **fields) -> list:
        return [("calendar", {"request": {"operation": operation, **fields}})]

    for _ in range(8):
        d = wr.written(wr.day())
        wr.add("calendar.weekday", "call", "calendar", wr.pick(c["weekday"]).format(d=d), cal("weekday", date=d))
    for group, count, business in (("between", 8, False), ("business", 5, True)):
        for _ in range(count):
            a = wr.day()
            b = a + timedelta(days=wr.n(5, 700))
            sa, sb = wr.written(a), wr.written(b)
            fields = {"start": sa, "end": sb, **({"business_days": True} if business else {})}
            wr.add(f"calendar.{group}", "call", "calendar", wr.pick(c[group]).format(a=sa, b=sb),
                   cal("days_between", **fields))
    for group, count, unit, high in (("add_days", 5, "days", 300), ("add_weeks", 3, "weeks", 40),
                                     ("add_months", 3, "months", 30)):
        for _ in range(count):
            d, n = wr.written(wr.day()), wr.n(2, high)
            wr.add(f"calendar.{group}", "call", "calendar", wr.pick(c[group]).format(d=d, n=n),
                   cal("add", date=d, **{unit: n}))
    for _ in range(3):
        d = wr.written(wr.day())
        wr.add("calendar.iso_week", "call", "calendar", wr.pick(c["iso_week"]).format(d=d), cal("iso_week", date=d))
    for _ in range(2):
        year, month = wr.n(1995, 2035), wr.n(1, 12)
        wr.add("calendar.month_view", "call", "calendar", c["month_view"][0].format(month=MONTHS[month - 1], year=year),
               cal("month_view", year=year, month=month))
    for _ in range(3):
        (from_city, from_tz), (to_city, to_tz) = wr.rng.sample(c["cities"], 2)
        day, hour, minute = wr.day(), wr.n(0, 23), wr.pick([0, 15, 30, 45])
        time = f"{hour:02d}:{minute:02d}"
        wr.add("calendar.convert_time", "call", "calendar",
               c["convert_time"][0].format(time=time, from_city=from_city, date=wr.written(day), to_city=to_city),
               cal("convert_time", datetime=f"{day.isoformat()}T{time}", from_tz=from_tz, to_tz=to_tz))


def table_requests(wr: Writer) -> None:
    t = wr.w["table"]
    for i, kind in enumerate(["total", "mean", "top", "filter", "group"] * 5):
        key, names, col = t["domains"][i % len(t["domains"])]
        if kind == "group":
            keys = wr.rng.sample(names, 2)
            rows = [(wr.pick(keys), wr.n(3, 900)) for _ in range(wr.n(4, 6))]
        else:
            picked = wr.rng.sample(names, wr.n(3, 5))
            rows = list(zip(picked, wr.rng.sample(range(3, 900), len(picked)), strict=True))
        csv = f"{key},{col}\n" + "\n".join(f"{k},{v}" for k, v in rows)
        x = sorted(v for _, v in rows)[len(rows) // 2 - 1]
        steps = {"total": [{"op": "group", "aggregate": {col: "sum"}}],
                 "mean": [{"op": "group", "aggregate": {col: "mean"}}],
                 "top": [{"op": "sort", "by": [col], "descending": True}, {"op": "head", "n": 1}],
                 "filter": [{"op": "filter", "column": col, "cmp": ">", "value": x}],
                 "group": [{"op": "group", "by": [key], "aggregate": {col: "mean"}}]}[kind]
        wr.add(f"table.{kind}", "call", "table", t[kind].format(csv=csv, col=col, key=key, x=x),
               [("table", {"source": {"csv": csv}, "steps": steps})])


def simple_requests(wr: Writer) -> None:
    p = wr.w["plot"]
    for f in p["functions"] + p["functions"][:2]:
        a = wr.n(-10, 2)
        b = a + wr.n(4, 16)
        if f.startswith("log"):
            a = max(a, -10)
        wr.add("plot.curve", "call", "plot", wr.pick(p["wordings"]).format(f=f, a=a, b=b),
               [("plot", {"expression": f, "start": a, "end": b})])
    u = wr.w["unicode_info"]
    for ch in u["characters"]:
        wr.add("plugin.unicode_info", "call", "unicode_info", wr.pick(u["wordings"]).format(c=ch),
               [("unicode_info", {"text": ch})])
    s = wr.w["wikipedia_search"]
    for topic in s["topics"]:
        wr.add("plugin.wikipedia_search", "call", "wikipedia_search", wr.pick(s["wordings"]).format(topic=topic),
               [("wikipedia_search", {"query": topic})])


def multi_requests(wr: Writer) -> None:
    m = wr.w["multi"]
    pairs = [p for p in wr.w["units"]["pairs"] if not p[2].startswith("deg")]
    for _ in range(5):
        (f1, t1, pf1, pt1), (f2, t2, pf2, pt2) = wr.rng.sample(pairs, 2)
        v1, v2 = wr.n(2, 300), wr.n(2, 300)
        wr.add("multi.units", "multi", "units", m["units"].format(v1=v1, f1=f1, t1=t1, v2=v2, f2=f2, t2=t2),
               [("units", {"value": v1, "from_unit": pf1, "to_unit": pt1}),
                ("units", {"value": v2, "from_unit": pf2, "to_unit": pt2})])
    for _ in range(5):
        a, b, c, d = wr.n(11, 700), wr.n(3, 90), wr.n(11, 700), wr.n(3, 90)
        wr.add("multi.math", "multi", "math", m["math"].format(a=a, b=b, c=c, d=d),
               [("math", _math("evaluate", expression=f"{a}*{b}")), ("math", _math("evaluate", expression=f"{c}*{d}"))])
    for _ in range(5):
        d1, d2 = wr.written(wr.day()), wr.written(wr.day())
        wr.add("multi.calendar", "multi", "calendar", m["calendar"].format(d1=d1, d2=d2),
               [("calendar", {"request": {"operation": "weekday", "date": d1}}),
                ("calendar", {"request": {"operation": "weekday", "date": d2}})])


def negatives(wr: Writer) -> None:
    for kind in ("answer", "search", "decline"):
        for request in wr.w[kind]:
            wr.add(f"{kind}.written", kind, None, request)


async def check(rows: list[dict]) -> None:
    """Run every gold call of a tool that works offline: a gold call must succeed."""
    from plugins.builtin import build_toolbox
    from plugins.examples.unicode_info import unicode_info

    with tempfile.TemporaryDirectory() as tmp:
        box = build_toolbox(plots_dir=Path(tmp))
        for row in rows:
            for call in row["calls"]:
                if call["name"] == "unicode_info":
                    unicode_info(**call["arguments"])
                    continue
                if call["name"] == "wikipedia_search":
                    continue
                result = await box.call(call["name"], call["arguments"])
                if not result.ok:
                    raise SystemExit(f"{row['request']!r}: gold call fails: {result.error}")


def build() -> list[dict]:
    words = yaml.safe_load((HERE / "test_wordings.yaml").read_text(encoding="utf-8"))
    wr = Writer(words, SEED)
    for part in (math_requests, units_requests, calendar_requests, table_requests, simple_requests, multi_requests,
                 negatives):
        part(wr)
    return [{"id": f"test-{i:04d}", **r} for i, r in enumerate(wr.rows)]


if __name__ == "__main__":
    rows = build()
    asyncio.run(check(rows))
    out = HERE / "test.jsonl"
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"{out}: {len(rows)} requests")
