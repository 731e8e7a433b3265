"""Request templates for the built-in tools and the negatives, each with the gold call its values
make. A template has training wordings, *hidden* wordings and *dev* wordings; the latter two are
never trained on. Requests drawn from all three (with seeds training never uses) make up the dev
split of the `tool-calls` eval set, where settings are chosen; its test split is written apart
from these templates (eval_sets/toolcalls/test_wordings.yaml) and kept clear of them by a test.

Values are drawn per sample from a seeded `random.Random`; the arguments are written the way the
tools' schemas and descriptions ask (dates as the request writes them, pint unit names, IANA time
zones, sympy syntax).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

Slots = dict[str, Any]
Calls = list[tuple[str, dict[str, Any]]]  # (tool, arguments), in order


@dataclass(frozen=True)
class Template:
    id: str
    kind: str  # call | multi | answer | search | decline
    tool: str | None  # the tool called (call, multi); None for the others
    train: tuple[str, ...]
    hidden: tuple[str, ...]
    make: Callable[[random.Random], tuple[Slots, Calls]]
    weight: int = 1  # samples per draw relative to the others (one template covering many unit pairs)
    dev: tuple[str, ...] = ()  # wordings of the dev split (settings are chosen on it; never trained on)


def _math(operation: str, **fields: Any) -> dict[str, Any]:
    return {"request": {"operation": operation, **fields}}


def _cal(operation: str, **fields: Any) -> dict[str, Any]:
    return {"request": {"operation": operation, **fields}}


def _num(rng: random.Random, low: int, high: int) -> int:
    return rng.randint(low, high)


# --- math -------------------------------------------------------------------------------------------

def _product(rng):
    a, b = _num(rng, 12, 999), _num(rng, 3, 99)
    return {"a": a, "b": b}, [("math", _math("evaluate", expression=f"{a}*{b}"))]


def _sum_diff(rng):
    a, b, c = _num(rng, 100, 9999), _num(rng, 10, 999), _num(rng, 10, 999)
    return {"a": a, "b": b, "c": c}, [("math", _math("evaluate", expression=f"{a} + {b} - {c}"))]


def _percent(rng):
    p, n = rng.choice([5, 10, 12, 15, 20, 25, 30, 40, 75]), _num(rng, 40, 4000)
    return {"p": p, "n": n}, [("math", _math("evaluate", expression=f"{p}/100*{n}"))]


def _power(rng):
    a, k = _num(rng, 2, 15), _num(rng, 3, 12)
    return {"a": a, "k": k}, [("math", _math("evaluate", expression=f"{a}^{k}"))]


def _sqrt(rng):
    n = rng.choice([_num(rng, 2, 40) ** 2, _num(rng, 2, 900)])
    return {"n": n}, [("math", _math("evaluate", expression=f"sqrt({n})"))]


def _divide(rng):
    b = _num(rng, 2, 40)
    a = b * _num(rng, 3, 300) + rng.choice([0, 0, _num(rng, 1, b - 1) if b > 2 else 0])
    return {"a": a, "b": b}, [("math", _math("evaluate", expression=f"{a}/{b}"))]


def _linear(rng):
    a, b, x = _num(rng, 2, 12), _num(rng, 1, 50), _num(rng, -10, 30)
    c = a * x + b
    return {"a": a, "b": b, "c": c}, [("math", _math("solve", equations=[f"{a}x + {b} = {c}"]))]


def _system(rng):
    x, y = _num(rng, 5, 60), _num(rng, 1, 40)
    s, d = x + y, x - y
    return {"s": s, "d": d}, [("math", _math("solve", equations=[f"x + y = {s}", f"x - y = {d}"]))]


_POLYS = ("x^3 + 2x", "3x^2 - 5x + 1", "x^4 - x^2", "2x^3 + x^2 - 7", "sin(x) + x^2", "x*exp(x)", "5x^2 + 3x",
          "x^5 - 4x^3", "cos(x) - x", "log(x) + x^3")


def _derivative(rng):
    poly = rng.choice(_POLYS)
    return {"poly": poly}, [("math", _math("derivative", expression=poly))]


def _integral(rng):
    poly = rng.choice(_POLYS[:5] + ("x^2", "4x + 1", "x^3"))
    lo, hi = _num(rng, 0, 3), _num(rng, 4, 10)
    return ({"poly": poly, "lo": lo, "hi": hi},
            [("math", _math("integral", expression=poly, lower=str(lo), upper=str(hi)))])


def _shopping(rng):
    n, p = _num(rng, 3, 60), rng.choice([4, 6, 12, 15, 25, 35, 49, 120])
    return {"n": n, "p": p}, [("math", _math("evaluate", expression=f"{n}*{p}"))]


MATH = (
    Template("math.product", "call", "math",
             ("What is {a} times {b}?", "Calculate {a} * {b}.", "{a} x {b} = ?", "multiply {a} by {b}"),
             ("What do you get when you multiply {a} and {b}?", "Compute the product of {a} and {b}."), _product,
             dev=("{a} multiplied by {b} is how much?",)),
    Template("math.sum", "call", "math",
             ("What is {a} plus {b} minus {c}?", "Add {a} and {b}, then subtract {c}.", "{a} + {b} - {c}"),
             ("Work out {a} + {b} - {c} for me.", "Start with {a}, add {b} and take away {c}. What's left?"),
             _sum_diff,
             dev=("Sum {a} and {b}, then deduct {c}.",)),
    Template("math.percent", "call", "math",
             ("What is {p}% of {n}?", "Calculate {p} percent of {n}.", "{p}% of {n}"),
             ("How much is {p} percent of {n}?", "Take {p}% of {n}."), _percent,
             dev=("Find {p}% of {n}.",)),
    Template("math.power", "call", "math",
             ("What is {a} to the power of {k}?", "{a}^{k}", "Calculate {a} raised to {k}."),
             ("Raise {a} to the power {k}.", "How big is {a}^{k}?"), _power,
             dev=("What does {a}^{k} come to?",)),
    Template("math.sqrt", "call", "math",
             ("What is the square root of {n}?", "sqrt of {n}", "Square root of {n}, please."),
             ("Find the square root of {n}.", "Give me the square root of {n}."), _sqrt,
             dev=("Take the square root of {n}.",)),
    Template("math.divide", "call", "math",
             ("What is {a} divided by {b}?", "{a} / {b}", "Calculate {a} divided by {b}."),
             ("Divide {a} by {b}.", "Split {a} into {b} equal parts: how big is each?"), _divide,
             dev=("How much is {a} over {b}?",)),
    Template("math.linear", "call", "math",
             ("Solve {a}x + {b} = {c}", "Find x if {a}x + {b} = {c}.", "solve for x: {a}x + {b} = {c}"),
             ("For which x is {a}x + {b} equal to {c}?",), _linear,
             dev=("What x solves {a}x + {b} = {c}?",)),
    Template("math.system", "call", "math",
             ("Solve x + y = {s} and x - y = {d}.", "Solve the system x + y = {s}, x - y = {d}."),
             ("Two numbers add up to {s} and differ by {d}. What are they?",), _system,
             dev=("Find x and y with x + y = {s} and x - y = {d}.",)),
    Template("math.derivative", "call", "math",
             ("What is the derivative of {poly}?", "Differentiate {poly}.", "d/dx of {poly}"),
             ("How fast does {poly} change with x? Give the derivative.",), _derivative,
             dev=("Take the derivative of {poly} with respect to x.",)),
    Template("math.integral", "call", "math",
             ("Integrate {poly} from {lo} to {hi}.", "What is the integral of {poly} from {lo} to {hi}?"),
             ("What is the area under {poly} between x = {lo} and x = {hi}?",), _integral,
             dev=("Definite integral of {poly} between {lo} and {hi}?",)),
    Template("math.shopping", "call", "math",
             ("I buy {n} tickets at {p} EUR each. How much do I pay?", "{n} items cost {p} dollars each; total?"),
             ("Each box holds {p} apples. How many apples are in {n} boxes?",), _shopping,
             dev=("A ticket costs {p} EUR. What do {n} tickets cost?",)),
)

# --- units ------------------------------------------------------------------------------------------

# (spoken from, pint from, spoken to, pint to, low, high)
_UNIT_PAIRS = (
    ("miles", "mile", "kilometres", "km", 1, 500), ("km", "km", "miles", "mile", 1, 900),
    ("pounds", "lb", "kilograms", "kg", 1, 400), ("kg", "kg", "pounds", "lb", 1, 200),
    ("ounces", "oz", "grams", "g", 1, 64), ("degrees Fahrenheit", "degF", "Celsius", "degC", -20, 110),
    ("degrees Celsius", "degC", "Fahrenheit", "degF", -30, 45), ("inches", "inch", "centimetres", "cm", 1, 100),
    ("feet", "foot", "metres", "m", 1, 30000), ("gallons", "gallon", "litres", "liter", 1, 80),
    ("mph", "mph", "km/h", "km/h", 10, 200), ("cups", "cup", "millilitres", "ml", 1, 12),
    ("kWh", "kWh", "megajoules", "MJ", 1, 500), ("yards", "yard", "metres", "m", 1, 1000),
    ("hours", "hour", "minutes", "minute", 1, 72), ("acres", "acre", "hectares", "hectare", 1, 2000),
    ("litres", "liter", "gallons", "gallon", 1, 200), ("metres", "m", "feet", "foot", 1, 9000),
)


def _convert(rng):
    spoken_from, unit_from, spoken_to, unit_to, low, high = rng.choice(_UNIT_PAIRS)
    value = rng.choice([_num(rng, low, high), round(rng.uniform(low, high), 1)])
    return ({"v": value, "f": spoken_from, "t": spoken_to},
            [("units", {"value": value, "from_unit": unit_from, "to_unit": unit_to})])


UNITS = (
    Template("units.convert", "call", "units",
             ("Convert {v} {f} to {t}.", "{v} {f} in {t}", "How many {t} is {v} {f}?", "{v} {f} to {t}"),
             ("I have {v} {f}; what is that in {t}?", "Express {v} {f} as {t}."), _convert, weight=5,
             dev=("Change {v} {f} into {t}.", "{v} {f} equals how many {t}?")),
)

# --- calendar ---------------------------------------------------------------------------------------

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_ZONES = (("Paris", "Europe/Paris"), ("Tokyo", "Asia/Tokyo"), ("New York", "America/New_York"),
          ("London", "Europe/London"), ("Shanghai", "Asia/Shanghai"), ("Sydney", "Australia/Sydney"),
          ("Oslo", "Europe/Oslo"), ("Los Angeles", "America/Los_Angeles"), ("Berlin", "Europe/Berlin"),
          ("Delhi", "Asia/Kolkata"), ("Chicago", "America/Chicago"), ("Singapore", "Asia/Singapore"))


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


def _weekday(rng):
    d = spoken(_day(rng), rng)  # wd: a guess to confirm ("Is {d} a {wd}?"), right or wrong
    return {"d": d, "wd": rng.choice(_WEEKDAYS)}, [("calendar", _cal("weekday", date=d))]


def _between(rng, business: bool = False):
    d1 = _day(rng)
    s1, s2 = spoken(d1, rng), spoken(d1 + timedelta(days=rng.randint(3, 400)), rng)
    fields = {"business_days": True} if business else {}
    return {"d1": s1, "d2": s2}, [("calendar", _cal("days_between", start=s1, end=s2, **fields))]


def _add(rng, unit: str):
    d, n = spoken(_day(rng), rng), rng.randint(2, 120 if unit == "days" else 30)
    return {"d": d, "n": n}, [("calendar", _cal("add", date=d, **{unit: n}))]


def _iso_week(rng):
    d = spoken(_day(rng), rng)
    return {"d": d}, [("calendar", _cal("iso_week", date=d))]


def _month_view(rng):
    d = _day(rng)
    return ({"month": _MONTHS[d.month - 1], "year": d.year},
            [("calendar", _cal("month_view", year=d.year, month=d.month))])


def _convert_time(rng):
    (city1, tz1), (city2, tz2) = rng.sample(_ZONES, 2)
    d, hh, mm = _day(rng), rng.randint(0, 23), rng.choice([0, 15, 30, 45])
    return ({"city1": city1, "city2": city2, "d": spoken(d, rng), "time": f"{hh:02d}:{mm:02d}"},
            [("calendar", _cal("convert_time", datetime=f"{d.isoformat()}T{hh:02d}:{mm:02d}", from_tz=tz1,
                               to_tz=tz2))])


CALENDAR = (
    Template("calendar.weekday", "call", "calendar",
             ("What weekday is {d}?", "Which day of the week was {d}?", "weekday of {d}", "Is {d} a {wd}?",
              "Does {d} fall on a {wd}?", "What day was {d}?", "Which weekday does {d} fall on?",
              "Day of the week for {d}?"),
             ("Was {d} a Monday, or which day was it?", "Tell me the day of the week for {d}."), _weekday, weight=2,
             dev=("On what day of the week did {d} fall?", "Name the weekday of {d}.")),
    Template("calendar.between", "call", "calendar",
             ("How many days are there between {d1} and {d2}?", "Days from {d1} to {d2}?",
              "number of days between {d1} and {d2}", "{d1} to {d2}: how many days is that?",
              "How many days elapsed between {d1} and {d2}?", "How many days separate {d1} and {d2}?"),
             ("How long is it from {d1} until {d2}, in days?",), _between, weight=2,
             dev=("Count the days between {d1} and {d2}.", "What is the gap in days from {d1} to {d2}?")),
    Template("calendar.business_between", "call", "calendar",
             ("How many working days are there between {d1} and {d2}?", "business days from {d1} to {d2}"),
             ("Count the weekdays from {d1} to {d2}.",), lambda rng: _between(rng, business=True), weight=2,
             dev=("How many business days lie between {d1} and {d2}?",)),
    Template("calendar.add_days", "call", "calendar",
             ("What date is {n} days after {d}?", "{d} plus {n} days", "Add {n} days to {d}.",
              "What is {n} days from {d}?", "Which date falls {n} days after {d}?"),
             ("If I start on {d}, which date is {n} days later?",), lambda rng: _add(rng, "days"), weight=2,
             dev=("Which day is {n} days on from {d}?",)),
    Template("calendar.add_weeks", "call", "calendar",
             ("What is the date {n} weeks after {d}?", "{n} weeks from {d}", "{d} + {n} weeks = ?",
              "Which date is {n} weeks later than {d}?"),
             ("Add {n} weeks to {d}: which date is that?",), lambda rng: _add(rng, "weeks"), weight=2,
             dev=("Go {n} weeks forward from {d}: what date is it?",)),
    Template("calendar.add_months", "call", "calendar",
             ("What date is {n} months after {d}?", "{d} plus {n} months", "Add {n} months to {d}.",
              "Which date is {n} months after {d}?"),
             ("{n} months on from {d} is which date?",), lambda rng: _add(rng, "months"), weight=2,
             dev=("What is the date {n} months later than {d}?",)),
    Template("calendar.iso_week", "call", "calendar",
             ("What week number is {d}?", "ISO week of {d}", "Which week of the year is {d} in?",
              "week number for {d}", "What ISO week does {d} belong to?"),
             ("In which calendar week does {d} fall?",), _iso_week, weight=2,
             dev=("Give the ISO week number of {d}.",)),
    Template("calendar.month_view", "call", "calendar",
             ("Show me the calendar for {month} {year}.", "calendar of {month} {year}"),
             ("What does {month} {year} look like on a calendar?",), _month_view,
             dev=("Print the calendar of {month} {year}.",)),
    Template("calendar.convert_time", "call", "calendar",
             ("If it is {time} on {d} in {city1}, what time is it in {city2}?",
              "{time} in {city1} on {d} is what time in {city2}?"),
             ("Convert {time} {city1} time on {d} to {city2} time.",), _convert_time, weight=2,
             dev=("When it is {time} in {city1} on {d}, what time is it in {city2}?",)),
)

# --- table ------------------------------------------------------------------------------------------

_KEYS = (("city", ("Oslo", "Bergen", "Halden", "Tromso", "Moss", "Lyon", "Paris", "Nice")),
         ("product", ("tea", "coffee", "juice", "bread", "cheese", "apples")),
         ("name", ("Ada", "Ben", "Cleo", "Dag", "Eva", "Finn")))
_VALUES = ("sales", "price", "score", "units", "visits")


def _csv(rng, repeat: bool = False) -> tuple[str, str, str, list[tuple[str, int]]]:
    key, names = rng.choice(_KEYS)
    value = rng.choice(_VALUES)
    picked = rng.sample(names, rng.randint(3, min(5, len(names))))
    if repeat:
        picked = [rng.choice(picked[:3]) for _ in range(rng.randint(5, 7))]
    rows = [(n, rng.randint(5, 400)) for n in picked]
    text = f"{key},{value}\n" + "\n".join(f"{n},{v}" for n, v in rows)
    return key, value, text, rows


def _table_total(rng, fn: str = "sum"):
    key, value, text, _ = _csv(rng)
    return ({"col": value, "key": key, "csv": text},
            [("table", {"source": {"csv": text}, "steps": [{"op": "group", "aggregate": {value: fn}}]})])


def _table_top(rng):
    key, value, text, _ = _csv(rng)
    return ({"col": value, "key": key, "csv": text},
            [("table", {"source": {"csv": text}, "steps": [{"op": "sort", "by": [value], "descending": True},
                                                          {"op": "head", "n": 1}]})])


def _table_filter(rng):
    key, value, text, rows = _csv(rng)
    x = sorted(v for _, v in rows)[len(rows) // 2]
    return ({"col": value, "key": key, "csv": text, "x": x},
            [("table", {"source": {"csv": text}, "steps": [{"op": "filter", "column": value, "cmp": ">",
                                                            "value": x}]})])


def _table_group(rng):
    key, value, text, _ = _csv(rng, repeat=True)
    return ({"col": value, "key": key, "csv": text},
            [("table", {"source": {"csv": text}, "steps": [{"op": "group", "by": [key],
                                                            "aggregate": {value: "mean"}}]})])


TABLE = (
    Template("table.total", "call", "table",
             ("What is the total of the {col} column?\n{csv}", "Sum the {col} column of this table:\n{csv}",
              "{csv}\nTotal {col}?", "Here is my data:\n{csv}\nWhat do the {col} values sum to?"),
             ("Add up {col} in this CSV:\n{csv}",), _table_total, weight=2,
             dev=("Total up the {col} values:\n{csv}",)),
    Template("table.mean", "call", "table",
             ("What is the average {col}?\n{csv}", "Mean of {col} in this table:\n{csv}",
              "{csv}\nAverage {col}, please.", "Given this CSV:\n{csv}\nwhat is the mean of {col}?"),
             ("Compute the mean {col} for this data:\n{csv}",), lambda rng: _table_total(rng, "mean"), weight=2,
             dev=("{csv}\nWhat is the mean {col}?",)),
    Template("table.top", "call", "table",
             ("Which {key} has the highest {col}?\n{csv}", "Top {key} by {col}:\n{csv}",
              "{csv}\nWho is first by {col}?", "From this table, the {key} with the most {col}:\n{csv}"),
             ("Find the row with the largest {col}:\n{csv}",), _table_top, weight=2,
             dev=("Which {key} leads on {col}?\n{csv}",)),
    Template("table.filter", "call", "table",
             ("Which rows have {col} above {x}?\n{csv}", "Rows with {col} greater than {x}:\n{csv}",
              "{csv}\nKeep the rows with {col} over {x}.", "Filter this table to {col} > {x}:\n{csv}"),
             ("Show only the rows where {col} is more than {x}:\n{csv}",), _table_filter, weight=2,
             dev=("List the rows whose {col} exceeds {x}:\n{csv}",)),
    Template("table.group", "call", "table",
             ("Average {col} per {key}:\n{csv}", "Mean {col} by {key} in this table:\n{csv}",
              "{csv}\nGroup by {key} and average {col}.", "Per {key}, the mean {col} of this data:\n{csv}"),
             ("For each {key}, what is the mean {col}?\n{csv}",), _table_group, weight=2,
             dev=("Mean {col} for every {key}, please:\n{csv}",)),
)

# --- plot -------------------------------------------------------------------------------------------

_CURVES = ("sin(x)", "x^2", "x^3 - 2x", "exp(-x^2)", "cos(x)*x", "log(x)", "sqrt(x)", "1/(1 + x^2)", "tan(x)",
           "x^2 - 4x + 3")


def _plot(rng):
    curve = rng.choice(_CURVES)
    low = 0 if curve in ("log(x)", "sqrt(x)") else -rng.randint(1, 10)
    high = rng.randint(1, 10) if low < 0 else rng.randint(2, 20)
    if curve == "log(x)":
        low = 1
    return {"expr": curve, "lo": low, "hi": high}, [("plot", {"expression": curve, "start": low, "end": high})]


PLOT = (
    Template("plot.curve", "call", "plot",
             ("Plot {expr} from {lo} to {hi}.", "Graph {expr} for x between {lo} and {hi}.",
              "plot y = {expr} on [{lo}, {hi}]"),
             ("Draw a chart of {expr} over x from {lo} to {hi}.", "Can you sketch {expr} between {lo} and {hi}?"),
             _plot, weight=2,
             dev=("Make a plot of {expr} for x in [{lo}, {hi}].",)),
)

# --- several calls, and the negatives ---------------------------------------------------------------


def _two_conversions(rng):
    (s1, c1), (s2, c2) = _convert(rng), _convert(rng)
    return ({"v1": s1["v"], "f1": s1["f"], "t1": s1["t"], "v2": s2["v"], "f2": s2["f"], "t2": s2["t"]}, c1 + c2)


def _two_products(rng):
    (s1, c1), (s2, c2) = _product(rng), _product(rng)
    return {"a1": s1["a"], "b1": s1["b"], "a2": s2["a"], "b2": s2["b"]}, c1 + c2


def _two_weekdays(rng):
    (s1, c1), (s2, c2) = _weekday(rng), _weekday(rng)
    return {"d1": s1["d"], "d2": s2["d"]}, c1 + c2


MULTI = (
    Template("multi.units", "multi", "units",
             ("Convert {v1} {f1} to {t1} and {v2} {f2} to {t2}.", "{v1} {f1} in {t1}, and {v2} {f2} in {t2}?"),
             ("I need two conversions: {v1} {f1} into {t1}, then {v2} {f2} into {t2}.",), _two_conversions,
             weight=3,
             dev=("Please convert {v1} {f1} to {t1}; also {v2} {f2} to {t2}.",)),
    Template("multi.math", "multi", "math",
             ("What is {a1} times {b1}, and {a2} times {b2}?", "Calculate {a1} * {b1} and {a2} * {b2}."),
             ("Two products please: {a1} by {b1} and {a2} by {b2}.",), _two_products,
             dev=("Multiply {a1} by {b1}, and separately {a2} by {b2}.",)),
    Template("multi.calendar", "multi", "calendar",
             ("Which weekdays are {d1} and {d2}?", "What day of the week are {d1} and {d2}?"),
             ("Tell me the weekday of {d1} and also of {d2}.",), _two_weekdays,
             dev=("On which weekdays do {d1} and {d2} fall?",)),
)

_GREETINGS = ("Hello!", "Hi there, how are you?", "Good morning!", "Thanks, that was helpful.", "Who are you?",
              "What can you do?", "Nice to meet you.", "Thank you so much!", "Tell me about yourself.",
              "Hey, what's up?", "Goodbye!", "You are great, thanks.", "Good night!", "How is your day going?",
              "Are you a robot?", "Can you help me?", "That's all for now, bye.", "Great answer, thank you.",
              "Hi! I'm new here.", "What is your name?", "Ok, thanks.", "Perfect, cheers!", "Hello again.",
              "I appreciate your help.", "See you tomorrow.", "Sorry, I made a typo.", "Never mind.",
              "How do you work?", "Morning! Ready for some questions?", "Good afternoon.")
_HIDDEN_GREETINGS = ("Howdy! Anyone there?", "Cheers for the help earlier.", "Good evening, assistant.",
                     "Yo, how's it going?", "Many thanks, that sorted it.", "What should I call you?")
_TOPICS = ("the ferry timetable", "the library opening hours", "the new tram line", "the city budget",
           "the mayor's election", "the water advisory", "the bus pass price", "the harbour bath",
           "parking fees downtown", "the tech festival", "road works on Fjord Road", "the marathon results",
           "the museum's free Sundays", "the recycling centre", "the property tax", "the city app",
           "the farmers market", "the speed limit on Ring Road", "the university rector", "the zoo's new animals",
           "the night bus", "the stadium renovation", "the school winter break", "the airport flights",
           "the snow clearing plan", "the heat warning", "the e-scooter rules", "the crane collapse",
           "the cycle lane", "the theatre season", "the hospital waiting times", "the ferry strike",
           "the new swimming hall", "the district heating prices", "the housing plan", "the flood barrier",
           "the train to the airport", "the summer concerts", "the kindergarten fees", "the old bridge repairs",
           "the election results", "the bike sharing scheme", "the port expansion", "the tourist tax",
           "the public library app", "the wind farm proposal", "the street food market", "the school meals")
_OUT_OF_REACH = ("Book me a table for two at an Italian restaurant tonight.", "Send an email to my boss.",
                 "Turn on the lights in the kitchen.", "Order a pizza to my address.", "Call my mother.",
                 "Play some jazz music.", "Set an alarm for 6 am.", "Buy two tickets for the concert.",
                 "Post this on my Facebook page.", "Transfer 50 euros to my friend.", "Open my calendar app.",
                 "Print this document.", "Book a taxi to the airport for 7 tomorrow.", "Lock the front door.",
                 "Remind me to water the plants on Friday.", "Schedule a meeting with Anna next week.",
                 "Pay my electricity bill.", "Cancel my gym membership.", "Download this video for me.",
                 "Translate this voicemail and forward it to Tom.", "Rent a car in Lisbon for the weekend.",
                 "Turn the heating up to 22 degrees.", "Take a photo of my screen.", "Unsubscribe me from that list.",
                 "Reply to my last text message.", "Check in for my flight.", "Order new ink for my printer.",
                 "Record the football match tonight.", "Water the garden at 6 pm.", "Share my location with Sara.")
_HIDDEN_OUT_OF_REACH = ("Reserve a hotel room in Rome for Friday.", "Text my sister that I'm late.",
                        "Start the washing machine.", "Mail this parcel to Oslo.", "Dim the bedroom lights.",
                        "Sign me up for the yoga class.")

_DEV_GREETINGS = ("Hey there!", "Thanks, that's really useful.", "Good day to you.", "Are you a human?",
                  "Bye for now.", "Who made you?")
_DEV_OUT_OF_REACH = ("Order a new phone charger for me.", "Call a plumber to my house.", "Switch off the TV.",
                     "Book a doctor's appointment for Monday.", "Email this report to Lisa.",
                     "Feed the cat at noon.")

# Composed small talk and out-of-reach requests: hundreds of variants rather than a fixed list, so
# the kind is learnt rather than the sentences (an out-of-reach request with a time in it included).
_THANKS = ("Thanks", "Thank you", "Great", "Perfect", "Awesome", "Brilliant", "Lovely", "Nice", "Wonderful",
           "Super")
_THANKS_TAIL = ("!", ", that helps.", ", you saved me some time.", " for the quick answer.",
                ", that's exactly what I needed.", ", see you later.", ", that's all.", ", good job.",
                ", much appreciated.", ", have a nice day.")
_ACTIONS = ("Book", "Order", "Cancel", "Buy", "Arrange", "Schedule", "Pay for", "Confirm", "Reschedule", "Get me")
_THINGS = ("a taxi", "a table for four", "concert tickets", "a flight to Rome", "a haircut", "a plumber visit",
           "a rental car", "groceries", "two cinema seats", "my dentist appointment", "a babysitter",
           "a delivery of flowers", "a train ticket to Bergen", "a massage", "a cleaner", "a parking space")
_WHEN = ("", " for tonight", " tomorrow morning", " next Friday", " this weekend", " at 6 pm")


def _thanks(rng):
    return {"text": rng.choice(_THANKS) + rng.choice(_THANKS_TAIL)}, []


def _action(rng):
    action = f"{rng.choice(_ACTIONS)} {rng.choice(_THINGS)}{rng.choice(_WHEN)}"
    lower = action[0].lower() + action[1:]
    return {"text": rng.choice((f"{action}.", f"Please {lower}.", f"Could you {lower}?"))}, []


def _pick(options: tuple[str, ...]):
    return lambda rng: ({"text": rng.choice(options)}, [])


def _topic(rng):
    return {"topic": rng.choice(_TOPICS)}, []


NEGATIVES = (
    Template("answer.small_talk", "answer", None, ("{text}",), (), _pick(_GREETINGS)),
    Template("answer.small_talk_hidden", "answer", None, (), ("{text}",), _pick(_HIDDEN_GREETINGS)),
    Template("answer.small_talk_dev", "answer", None, (), (), _pick(_DEV_GREETINGS), dev=("{text}",)),
    Template("search.news", "search", None,
             ("What is the latest news about {topic}?", "What changed with {topic}?", "Tell me about {topic}.",
              "What do the documents say about {topic}?", "Is there anything new on {topic}?",
              # time words too: "this week" is a question for the documents, not for the calendar
              "What's happening with {topic} this week?", "Has anything been decided about {topic} recently?",
              "Any news on {topic} today?", "What was reported about {topic} last month?",
              "Give me an update on {topic}.", "When did {topic} last change, and how?",
              "What is the status of {topic} this year?", "Summarise the reports on {topic}.",
              "Fill me in on {topic}.", "What's new about {topic}?", "Brief me on {topic}.",
              "I heard something about {topic}; what's going on?", "Find the articles on {topic}.",
              "What are people saying about {topic}?", "Search for {topic}."),
             ("Any updates on {topic} this month?", "Catch me up on {topic}."), _topic, weight=6,
             dev=("Give me the recent news on {topic}.", "Bring me up to speed on {topic}.")),
    Template("answer.thanks", "answer", None, ("{text}",), (), _thanks),
    Template("decline.out_of_reach", "decline", None, ("{text}",), (), _pick(_OUT_OF_REACH)),
    Template("decline.action", "decline", None, ("{text}",), (), _action),
    Template("decline.out_of_reach_hidden", "decline", None, (), ("{text}",), _pick(_HIDDEN_OUT_OF_REACH)),
    Template("decline.out_of_reach_dev", "decline", None, (), (), _pick(_DEV_OUT_OF_REACH), dev=("{text}",)),
)

BUILTIN = MATH + UNITS + CALENDAR + TABLE + PLOT + MULTI
ALL = BUILTIN + NEGATIVES
