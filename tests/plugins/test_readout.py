"""How tool results read to people: sentences with numbers formatted, never raw float noise."""

import pytest
import yaml

from tansuo.plugins import readout
from tansuo.plugins.builtin import calendar_tool, math_tool, units_tool
from tansuo.plugins.manifest import ManifestProblem, load_manifest


@pytest.mark.parametrize(("value", "shown"), [
    (3367, "3,367"), (3367.0, "3,367"), ("3367.00000000000", "3,367"), (42.164812, "42.16"),
    (0.000123456, "0.0001235"), (-1234.5, "-1,234.5"), (2.0, "2"), (float("inf"), "infinity")])
def test_numbers_read_as_people_write_them(value, shown):
    assert readout.value_text(value) == shown


def test_the_math_reading_is_the_equation_with_its_value():
    args = {"request": {"operation": "evaluate", "expression": "37*91"}}
    assert readout.read(math_tool.reads, "math", args, {"result": "3367", "numeric": "3367.00000000000"}) \
        == "37 × 91 = 3,367."
    third = {"request": {"operation": "evaluate", "expression": "1/3"}}
    assert readout.read(math_tool.reads, "math", third, {"result": "1/3", "numeric": "0.333333333333333"}) \
        == "1/3 ≈ 0.3333."
    solve = {"request": {"operation": "solve", "equations": ["c + r = 35", "2c + 4r = 94"]}}
    result = {"solutions": [{"c": {"result": "23", "numeric": "23.0000000000000"},
                             "r": {"result": "12", "numeric": "12.0000000000000"}}], "count": 1}
    assert readout.read(math_tool.reads, "math", solve, result) == "c = 23 and r = 12."


def test_units_and_calendar_read_as_sentences():
    args = {"value": 26.2, "from_unit": "mile", "to_unit": "km"}
    assert readout.read(units_tool.reads, "units", args, {"value": 42.1648128, "unit": "kilometer"}) \
        == "26.2 miles = 42.16 km."
    day = {"request": {"operation": "weekday", "date": "2025-03-03"}}
    assert readout.read(calendar_tool.reads, "calendar", day, {"date": "2025-03-03", "weekday": "Monday"}) \
        == "3 March 2025 is a Monday."


def test_a_reading_that_fails_falls_back_to_the_generic_sentence():
    def broken(arguments, result):
        raise KeyError("value")

    assert readout.read(broken, "weather", {}, {"temperature": 12.5}) == "The weather tool gives 12.5."
    assert readout.read(None, "rates", {}, {"eur": 1.0841, "usd": 1}) == "The rates tool gives eur 1.08; usd 1."


def test_a_manifest_template_reads_result_fields_then_arguments():
    read = readout.template("It is {temperature} °C in {city}.")
    assert read({"city": "Oslo"}, {"temperature": 3.14159}) == "It is 3.14 °C in Oslo."
    assert read({"city": "Oslo"}, {"humidity": 80}) is None  # a missing field: the template does not apply
    assert readout.template("{result.value} kWh")({}, {"result": {"value": 1500}}) == "1,500 kWh"


@pytest.mark.parametrize(("reads", "says"), [
    ("It is {temp:.2f} °C.", "write {temp}"), ("It is {{temp}} °C.", "doubled braces"),
    ("It is {temp °C.", "unbalanced brace"), ("It is {0} °C.", "must be a field name")])
def test_a_manifest_with_a_bad_reading_names_the_file_and_field(tmp_path, reads, says):
    path = tmp_path / "weather.yaml"
    path.write_text(yaml.safe_dump({"name": "weather", "kind": "http", "description": "Weather now.",
                                    "reads": reads, "http": {"url": "https://example.org/w"}}))
    manifest, problems = load_manifest(path)
    assert manifest is None and len(problems) == 1 and isinstance(problems[0], ManifestProblem)
    shown = str(problems[0])
    assert "weather.yaml" in shown and "reads" in shown and says in shown, shown


def test_a_table_aggregate_reads_with_its_function():
    from tansuo.plugins.builtin import table_tool

    args = {"source": {"csv": "a"}, "steps": [{"op": "group", "aggregate": {"price": "mean"}}]}
    assert readout.read(table_tool.reads, "table", args, {"rows": [{"price": 12.5}], "row_count": 1}) \
        == "The mean of price is 12.5."
