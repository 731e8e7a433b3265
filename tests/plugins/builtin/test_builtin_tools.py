"""Built-in tools answer a table of cases with exact expected values, through the toolbox."""

from __future__ import annotations

import datetime as dt

import pytest

from tansuo.plugins.builtin import build_toolbox

FIXED_NOW = dt.datetime(2026, 11, 28, 9, 30, tzinfo=dt.timezone.utc)


SALES_CSV = """city,year,price,units
Paris,2023,10.5,3
Paris,2024,12.5,5
Lyon,2023,8.0,7
Lyon,2024,9.0,2
Nice,2024,20.0,1
"""


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("tools")
    (root / "data").mkdir()
    (root / "data" / "sales.csv").write_text(SALES_CSV)
    (root / "secret.csv").write_text("a\n1\n")
    return root


@pytest.fixture(scope="module")
def toolbox(workdir):
    return build_toolbox(plots_dir=workdir / "plots", data_folder=workdir / "data", clock=lambda: FIXED_NOW)


def table(*steps, **source) -> dict:
    return {"source": source or {"file": "sales.csv"}, "steps": list(steps)}


def m(operation: str, **fields) -> dict:
    return {"request": {"operation": operation, **fields}}


def cal(operation: str, **fields) -> dict:
    return {"request": {"operation": operation, **fields}}


# (tool, arguments, path into the result, expected)
CASES = [
    # math: evaluation, exact and numeric
    ("math", m("evaluate", expression="2^100"), "result", "1267650600228229401496703205376"),
    ("math", m("evaluate", expression="1/3 + 1/6"), "result", "1/2"),
    ("math", m("evaluate", expression="sqrt(2)", digits=10), "numeric", "1.414213562"),
    ("math", m("evaluate", expression="factorial(20)"), "result", "2432902008176640000"),
    ("math", m("evaluate", expression="sin(pi/6)"), "result", "1/2"),
    ("math", m("evaluate", expression="log(e^3)"), "result", "3"),
    ("math", m("evaluate", expression="2(3+4)"), "result", "14"),
    ("math", m("evaluate", expression="1.5e3 / 3"), "result", "500"),
    ("math", m("evaluate", expression="17 % 5"), "result", "2"),
    ("math", m("evaluate", expression="8 × 9 − 10 ÷ 4"), "result", "139/2"),  # typographic operators
    ("math", m("evaluate", expression="binomial(10, 3)"), "result", "120"),
    # math: equations and systems (chickens and rabbits: 35 heads, 94 legs)
    ("math", m("solve", equations=["c + r = 35", "2c + 4r = 94"]), "solutions.0.c.result", "23"),
    ("math", m("solve", equations=["c + r = 35", "2c + 4r = 94"]), "solutions.0.r.result", "12"),
    ("math", m("solve", equations=["x^2 - 5x + 6 = 0"]), "count", 2),
    ("math", m("solve", equations=["x^2 - 5x + 6 = 0"]), "solutions.1.x.result", "3"),
    ("math", m("solve", equations=["2x + 3 = 11"], variables=["x"]), "solutions.0.x.result", "4"),
    ("math", m("solve", equations=["x + y + z = 6", "x - y = 0", "2z = 4"]), "solutions.0.z.result", "2"),
    # math: calculus and simplification
    ("math", m("derivative", expression="x^5 + 3x^2", order=3), "result", "60*x**2"),
    ("math", m("derivative", expression="sin(x)*x"), "result", "x*cos(x) + sin(x)"),
    ("math", m("derivative", expression="t^3", variable="t", order=2), "result", "6*t"),
    ("math", m("integral", expression="x^2", lower="0", upper="3"), "result", "9"),
    ("math", m("integral", expression="2x"), "result", "x**2"),
    ("math", m("integral", expression="exp(-x)", lower="0", upper="oo"), "result", "1"),
    ("math", m("limit", expression="sin(x)/x", point="0"), "result", "1"),
    ("math", m("limit", expression="(1 + 1/n)^n", variable="n", point="oo"), "result", "E"),
    ("math", m("simplify", expression="(x^2 - 1)/(x - 1)"), "result", "x + 1"),
    ("math", m("simplify", expression="sin(x)^2 + cos(x)^2"), "result", "1"),
    # units
    ("units", {"value": 26.2, "from_unit": "mile", "to_unit": "km"}, "value", pytest.approx(42.1648128)),
    ("units", {"value": 100, "from_unit": "degF", "to_unit": "degC"}, "value", pytest.approx(37.777777, rel=1e-6)),
    ("units", {"value": 1, "from_unit": "kWh", "to_unit": "J"}, "value", pytest.approx(3.6e6)),
    ("units", {"value": 60, "from_unit": "mph", "to_unit": "m/s"}, "value", pytest.approx(26.8224)),
    ("units", {"value": 2, "from_unit": "lb", "to_unit": "kg"}, "value", pytest.approx(0.90718474)),
    ("units", {"value": 1, "from_unit": "gallon", "to_unit": "liter"}, "value", pytest.approx(3.785411784)),
    ("units", {"value": 0, "from_unit": "degC", "to_unit": "K"}, "value", pytest.approx(273.15)),
    ("units", {"value": 5280, "from_unit": "ft", "to_unit": "mile"}, "value", pytest.approx(1.0)),
    # calendar
    ("calendar", cal("weekday", date="2025-03-03"), "weekday", "Monday"),
    ("calendar", cal("weekday", date="2000-01-01"), "weekday", "Saturday"),
    ("calendar", cal("weekday", date="2 May 2019"), "weekday", "Thursday"),  # dates as people write them
    ("calendar", cal("days_between", start="March 1, 2025", end="3rd Mar 2025"), "days", 2),
    ("calendar", cal("days_between", start="2024-01-01", end="2024-12-25"), "days", 359),
    ("calendar", cal("days_between", start="2025-03-01", end="2025-02-01"), "days", -28),
    ("calendar", cal("days_between", start="2025-06-02", end="2025-06-16", business_days=True), "business_days", 10),
    ("calendar", cal("add", date="2025-01-31", months=1), "date", "2025-02-28"),
    ("calendar", cal("add", date="2024-01-31", months=1), "date", "2024-02-29"),
    ("calendar", cal("add", date="2025-12-25", days=10), "date", "2026-01-04"),
    ("calendar", cal("add", date="2025-03-03", weeks=-2), "date", "2025-02-17"),
    ("calendar", cal("add", date="2025-06-27", business_days=10), "date", "2025-07-11"),
    ("calendar", cal("add", date="2024-02-29", years=1), "date", "2025-02-28"),
    ("calendar", cal("iso_week", date="2021-01-03"), "week", 53),
    ("calendar", cal("iso_week", date="2025-03-03"), "week", 10),
    ("calendar", cal("month_view", year=2024, month=2), "days", 29),
    ("calendar", cal("month_view", year=2025, month=6), "first_weekday", "Sunday"),
    ("calendar", cal("convert_time", datetime="2025-03-03T09:30", from_tz="Europe/Paris", to_tz="Asia/Tokyo"),
     "datetime", "2025-03-03T17:30:00+09:00"),
    ("calendar", cal("convert_time", datetime="2025-07-01T12:00", from_tz="UTC", to_tz="America/New_York"),
     "datetime", "2025-07-01T08:00:00-04:00"),
    ("calendar", cal("today"), "date", "2026-11-28"),
    ("calendar", cal("today", tz="Pacific/Auckland"), "date", "2026-11-28"),
    ("calendar", cal("today", tz="America/Los_Angeles"), "date", "2026-11-28"),
    # table
    ("table", table({"op": "group", "by": ["city"], "aggregate": {"price": "mean"}}), "rows.2",
     {"city": "Paris", "price": 11.5}),
    ("table", table({"op": "group", "by": ["city"], "aggregate": {"units": "sum"}}), "rows.0",
     {"city": "Lyon", "units": 9}),
    ("table", table({"op": "group", "aggregate": {"units": "sum", "price": "max"}}), "rows",
     [{"units": 18, "price": 20.0}]),  # no grouping columns: the whole table
    ("table", table({"op": "filter", "column": "year", "cmp": ">=", "value": 2024}), "row_count", 3),
    ("table", table({"op": "filter", "column": "city", "cmp": "in", "value": ["Nice", "Lyon"]},
                    {"op": "sort", "by": ["price"], "descending": True}, {"op": "head", "n": 1}),
     "rows.0.price", 20.0),
    ("table", table({"op": "filter", "column": "city", "cmp": "contains", "value": "PAR"},
                    {"op": "select", "columns": ["year"]}), "rows", [{"year": 2023}, {"year": 2024}]),
    ("table", table({"op": "select", "columns": ["units"]}, {"op": "describe"}), "rows.1",
     {"statistic": "mean", "units": 3.6}),
    ("table", table(csv="a,b\n1,2\n3,4\n"), "rows.1.b", 4),
    ("table", table({"op": "group", "by": ["k"], "aggregate": {"v": "max"}},
                    json_records='[{"k": "x", "v": 1}, {"k": "x", "v": 5}, {"k": "y", "v": 2}]'),
     "rows.0.v", 5),
    # plot
    ("plot", {"expression": "x^2", "start": -2, "end": 3}, "y_max", 9.0),
    ("plot", {"expression": "sin(t)", "variable": "t", "start": 0, "end": 3.14159, "points": 101}, "y_min",
     pytest.approx(0.0, abs=1e-5)),
]


def dig(value, path: str):
    for key in path.split("."):
        value = value[int(key)] if isinstance(value, list) else value[key]
    return value


@pytest.mark.parametrize(("tool", "arguments", "path", "expected"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
async def test_builtin_answers(toolbox, tool, arguments, path, expected):
    result = await toolbox.call(tool, arguments)
    assert result.ok, result.error
    assert dig(result.content, path) == expected


@pytest.mark.parametrize(("tool", "arguments", "message"), [
    ("math", m("evaluate", expression="factorial(10^9)"), "too large"),
    ("math", m("evaluate", expression="2^(10^12)"), "too large"),
    ("math", m("evaluate", expression="__import__('os')"), "unknown function"),
    ("math", m("evaluate", expression="__import__('os').system('true')"), "unsupported syntax"),
    ("math", m("evaluate", expression="x.__class__"), "unsupported syntax"),
    ("math", m("evaluate", expression="lambda: 1"), "unsupported syntax"),
    ("math", m("evaluate", expression="3 +* 4"), "cannot parse"),
    ("math", m("solve", equations=["x = 1 = 2"]), "more than one"),
    ("math", m("integral", expression="x", lower="0"), "both lower and upper"),
    ("math", m("wish", expression="x"), "invalid arguments"),
    ("units", {"value": 1, "from_unit": "meter", "to_unit": "second"}, "cannot convert meter ([length]) to second ([time])"),
    ("units", {"value": 1, "from_unit": "blorp", "to_unit": "m"}, "unknown unit 'blorp'"),
    ("units", {"value": "many", "from_unit": "m", "to_unit": "km"}, "invalid arguments: value"),
    ("calendar", cal("convert_time", datetime="2025-03-03T09:30", to_tz="Mars/Olympus"), "unknown time zone"),
    ("calendar", cal("weekday", date="2025-02-30"), "invalid arguments"),
    ("calendar", cal("weekday", date="03/04/2025"), "write it as 2025-03-03"),  # day or month first?
    ("calendar", cal("add", date="9999-12-01", months=2), "out of range"),
    ("nosuchtool", {}, "unknown tool 'nosuchtool'"),
    ("table", table(file="../secret.csv"), "not a .csv or .json file inside the data folder"),
    ("table", table({"op": "sort", "by": ["rent"]}), "unknown column(s) ['rent']"),
    ("table", table({"op": "filter", "column": "price", "cmp": ">", "value": "cheap"}), "cannot compare"),
    ("table", {"source": {"csv": "a\n1", "file": "sales.csv"}}, "exactly one"),
    ("table", table({"op": "query", "expr": "__import__('os')"}), "invalid arguments"),
    ("plot", {"expression": "x*y", "start": 0, "end": 1}, "other unknowns"),
    ("plot", {"expression": "x", "start": 2, "end": 1}, "start must be less than end"),
])
async def test_bad_calls_come_back_as_errors_for_the_model(toolbox, tool, arguments, message):
    result = await toolbox.call(tool, arguments)
    assert not result.ok and message in result.error
    assert result.to_message("call_1")["content"].startswith('{"error"')


def test_every_builtin_schema_is_offered_to_the_model(toolbox):
    tools = {t.name: t for t in toolbox.llm_tools()}
    assert set(tools) == {"math", "units", "calendar", "table", "plot"}
    assert tools["units"].parameters["required"] == ["value", "from_unit", "to_unit"]
    assert tools["units"].parameters["additionalProperties"] is False
    assert all(spec.examples and spec.description for spec in toolbox.specs)


async def test_plot_writes_a_png_under_the_plots_dir(toolbox, workdir):
    result = await toolbox.call("plot", {"expression": "sin(x)/x", "start": -10, "end": 10})
    assert result.ok, result.error
    path = workdir / result.content["file"]
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000


async def test_the_service_toolbox_follows_the_settings(tmp_path):
    from tansuo.plugins.builtin import toolbox_from_settings
    from tests.conftest import make_settings

    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "t.csv").write_text("a\n1\n2\n")
    box = toolbox_from_settings(make_settings(tmp_path / "data", table_data_dir=tmp_path / "tables"))
    assert (await box.call("table", table(file="t.csv"))).content["row_count"] == 2
    plotted = await box.call("plot", {"expression": "x", "start": 0, "end": 1})
    assert (tmp_path / "data" / plotted.content["file"]).is_file()
