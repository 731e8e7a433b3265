"""How each request template of the tool-calling fine-tune draws its values: a function of a seeded
`random.Random` and the value pools of templates.yaml, returning the slots its wordings are filled
with and the gold calls those values make. The arguments are written the way the tools' schemas and
descriptions ask (dates as the request writes them, pint unit names, IANA time zones, sympy syntax)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

Slots = dict[str, Any]
Calls = list[tuple[str, dict[str, Any]]]  # (tool, arguments), in order


def _math(operation: str, **fields: Any) -> dict[str, Any]:
    return {"request": {"operation": operation, **fields}}


def _cal(operation: str, **fields: Any) -> dict[str, Any]:
    return {"request": {"operation": operation, **fields}}


def _num(rng: random.Random, low: int, high: int) -> int:
    return rng.randint(low, high)


def product(rng, pools):
    a, b = _num(rng, 12, 999), _num(rng, 3, 99)
    return {"a": a, "b": b}, [("math", _math("evaluate", expression=f"{a}*{b}"))]


def sum_diff(rng, pools):
    a, b, c = _num(rng, 100, 9999), _num(rng, 10, 999), _num(rng, 10, 999)
    return {"a": a, "b": b, "c": c}, [("math", _math("evaluate", expression=f"{a} + {b} - {c}"))]


def percent(rng, pools):
    p, n = rng.choice([5, 10, 12, 15, 20, 25, 30, 40, 75]), _num(rng, 40, 4000)
    return {"p": p, "n": n}, [("math", _math("evaluate", expression=f"{p}/100*{n}"))]


def power(rng, pools):
    a, k = _num(rng, 2, 15), _num(rng, 3, 12)
    return {"a": a, "k": k}, [("math", _math("evaluate", expression=f"{a}^{k}"))]


def sqrt(rng, pools):
    n = rng.choice([_num(rng, 2, 40) ** 2, _num(rng, 2, 900)])
    return {"n": n}, [("math", _math("evaluate", expression=f"sqrt({n})"))]


def divide(rng, pools):
    b = _num(rng, 2, 40)
    a = b * _num(rng, 3, 300) + rng.choice([0, 0, _num(rng, 1, b - 1) if b > 2 else 0])
    return {"a": a, "b": b}, [("math", _math("evaluate", expression=f"{a}/{b}"))]


def linear(rng, pools):
    a, b, x = _num(rng, 2, 12), _num(rng, 1, 50), _num(rng, -10, 30)
    c = a * x + b
    return {"a": a, "b": b, "c": c}, [("math", _math("solve", equations=[f"{a}x + {b} = {c}"]))]


def system(rng, pools):
    x, y = _num(rng, 5, 60), _num(rng, 1, 40)
    s, d = x + y, x - y
    return {"s": s, "d": d}, [("math", _math("solve", equations=[f"x + y = {s}", f"x - y = {d}"]))]


def derivative(rng, pools):
    poly = rng.choice(pools["polys"])
    return {"poly": poly}, [("math", _math("derivative", expression=poly))]


def integral(rng, pools):
    poly = rng.choice([*pools["polys"][:5], "x^2", "4x + 1", "x^3"])
    lo, hi = _num(rng, 0, 3), _num(rng, 4, 10)
    return ({"poly": poly, "lo": lo, "hi": hi},
            [("math", _math("integral", expression=poly, lower=str(lo), upper=str(hi)))])


def shopping(rng, pools):
    n, p = _num(rng, 3, 60), rng.choice([4, 6, 12, 15, 25, 35, 49, 120])
    return {"n": n, "p": p}, [("math", _math("evaluate", expression=f"{n}*{p}"))]


def convert(rng, pools):
    spoken_from, unit_from, spoken_to, unit_to, low, high = rng.choice(pools["unit_pairs"])
    value = rng.choice([_num(rng, low, high), round(rng.uniform(low, high), 1)])
    return ({"v": value, "f": spoken_from, "t": spoken_to},
            [("units", {"value": value, "from_unit": unit_from, "to_unit": unit_to})])


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


def _day(rng) -> date:
    return date(2019, 1, 1) + timedelta(days=rng.randint(0, 365 * 9))


def spoken(d: date, rng: random.Random) -> str:
    """A date as people write it: ISO, '3 March 2025', 'March 3, 2025' or '3 Mar 2025'."""
    month = _MONTHS[d.month - 1]
    return rng.choice([d.isoformat(), f"{d.day} {month} {d.year}", f"{month} {d.day}, {d.year}",
                       f"{d.day} {month[:3]} {d.year}"])


# Dates go into the calls as the request writes them (the calendar tool reads them): copying is what
# a small model does well, rewriting "2 May 2019" as ISO is where it slipped.
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def weekday(rng, pools):
    d = spoken(_day(rng), rng)  # wd: a guess to confirm ("Is {d} a {wd}?"), right or wrong
    return {"d": d, "wd": rng.choice(_WEEKDAYS)}, [("calendar", _cal("weekday", date=d))]


def between(rng, pools, business: bool = False):
    d1 = _day(rng)
    s1, s2 = spoken(d1, rng), spoken(d1 + timedelta(days=rng.randint(3, 400)), rng)
    fields = {"business_days": True} if business else {}
    return {"d1": s1, "d2": s2}, [("calendar", _cal("days_between", start=s1, end=s2, **fields))]


def add(rng, pools, unit: str):
    d, n = spoken(_day(rng), rng), rng.randint(2, 120 if unit == "days" else 30)
    return {"d": d, "n": n}, [("calendar", _cal("add", date=d, **{unit: n}))]


def iso_week(rng, pools):
    d = spoken(_day(rng), rng)
    return {"d": d}, [("calendar", _cal("iso_week", date=d))]


def month_view(rng, pools):
    d = _day(rng)
    return ({"month": _MONTHS[d.month - 1], "year": d.year},
            [("calendar", _cal("month_view", year=d.year, month=d.month))])


def convert_time(rng, pools):
    (city1, tz1), (city2, tz2) = rng.sample(pools["zones"], 2)
    d, hh, mm = _day(rng), rng.randint(0, 23), rng.choice([0, 15, 30, 45])
    return ({"city1": city1, "city2": city2, "d": spoken(d, rng), "time": f"{hh:02d}:{mm:02d}"},
            [("calendar", _cal("convert_time", datetime=f"{d.isoformat()}T{hh:02d}:{mm:02d}", from_tz=tz1,
                               to_tz=tz2))])


def _csv(rng, pools, repeat: bool = False) -> tuple[str, str, str, list[tuple[str, int]]]:
    key, names = rng.choice(pools["keys"])
    value = rng.choice(pools["values"])
    picked = rng.sample(names, rng.randint(3, min(5, len(names))))
    if repeat:
        picked = [rng.choice(picked[:3]) for _ in range(rng.randint(5, 7))]
    rows = [(n, rng.randint(5, 400)) for n in picked]
    text = f"{key},{value}\n" + "\n".join(f"{n},{v}" for n, v in rows)
    return key, value, text, rows


def table_total(rng, pools, fn: str = "sum"):
    key, value, text, _ = _csv(rng, pools)
    return ({"col": value, "key": key, "csv": text},
            [("table", {"source": {"csv": text}, "steps": [{"op": "group", "aggregate": {value: fn}}]})])


def table_top(rng, pools):
    key, value, text, _ = _csv(rng, pools)
    return ({"col": value, "key": key, "csv": text},
            [("table", {"source": {"csv": text}, "steps": [{"op": "sort", "by": [value], "descending": True},
                                                          {"op": "head", "n": 1}]})])


def table_filter(rng, pools):
    key, value, text, rows = _csv(rng, pools)
    x = sorted(v for _, v in rows)[len(rows) // 2]
    return ({"col": value, "key": key, "csv": text, "x": x},
            [("table", {"source": {"csv": text}, "steps": [{"op": "filter", "column": value, "cmp": ">",
                                                            "value": x}]})])


def table_group(rng, pools):
    key, value, text, _ = _csv(rng, pools, repeat=True)
    return ({"col": value, "key": key, "csv": text},
            [("table", {"source": {"csv": text}, "steps": [{"op": "group", "by": [key],
                                                            "aggregate": {value: "mean"}}]})])


def plot(rng, pools):
    curve = rng.choice(pools["curves"])
    low = 0 if curve in ("log(x)", "sqrt(x)") else -rng.randint(1, 10)
    high = rng.randint(1, 10) if low < 0 else rng.randint(2, 20)
    if curve == "log(x)":
        low = 1
    return {"expr": curve, "lo": low, "hi": high}, [("plot", {"expression": curve, "start": low, "end": high})]


def two_conversions(rng, pools):
    (s1, c1), (s2, c2) = convert(rng, pools), convert(rng, pools)
    return ({"v1": s1["v"], "f1": s1["f"], "t1": s1["t"], "v2": s2["v"], "f2": s2["f"], "t2": s2["t"]}, c1 + c2)


def two_products(rng, pools):
    (s1, c1), (s2, c2) = product(rng, pools), product(rng, pools)
    return {"a1": s1["a"], "b1": s1["b"], "a2": s2["a"], "b2": s2["b"]}, c1 + c2


def two_weekdays(rng, pools):
    (s1, c1), (s2, c2) = weekday(rng, pools), weekday(rng, pools)
    return {"d1": s1["d"], "d2": s2["d"]}, c1 + c2


def thanks(rng, pools):
    return {"text": rng.choice(pools["thanks"]) + rng.choice(pools["thanks_tail"])}, []


def action(rng, pools):
    verb, thing, when = rng.choice(pools["actions"]), rng.choice(pools["things"]), rng.choice(pools["when"])
    action = f"{verb} {thing}{when}"
    lower = action[0].lower() + action[1:]
    return {"text": rng.choice((f"{action}.", f"Please {lower}.", f"Could you {lower}?"))}, []


def topic(rng, pools):
    return {"topic": rng.choice(pools["topics"])}, []


def pick(rng, pools, options):
    """One of a pool's texts, as the whole request."""
    return {"text": rng.choice(options)}, []


MAKERS = {name: globals()[name] for name in (
    "product",
    "sum_diff",
    "percent",
    "power",
    "sqrt",
    "divide",
    "linear",
    "system",
    "derivative",
    "integral",
    "shopping",
    "convert",
    "weekday",
    "between",
    "add",
    "iso_week",
    "month_view",
    "convert_time",
    "table_total",
    "table_top",
    "table_filter",
    "table_group",
    "plot",
    "two_conversions",
    "two_products",
    "two_weekdays",
    "thanks",
    "action",
    "topic",
    "pick",
)}
