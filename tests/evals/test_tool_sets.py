"""Strict scoring of the built-in tool questions: the answer must state the gold value as its
result (not merely contain it), and a tool must have computed it (a table step that answers the
question, not the table echoed). Also the QA facts' whole-word matching and the claim rule."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from tansuo.evals import claims
from tansuo.evals.tool_sets import computed, stated

ROOT = Path(__file__).resolve().parents[2]
TABLE = "Which team has the most goals?\nteam,goals\nRovers,12\nAlbion,45\nUnited,7"


def expect(answer: str, numeric: float | None = None, tolerance: float = 1e-6) -> dict:
    return {"answer": answer, "numeric": numeric, "tolerance": tolerance}


def test_the_stated_result_must_be_the_gold_value_and_the_only_one() -> None:
    q = "What is 37 times 91?"
    assert stated("37 × 91 = 3,367.", q, expect("3367", 3367))  # the operands come from the question
    assert stated("math: result 3367; numeric 3367.00000000000 [1]", q, expect("3367", 3367))
    assert not stated("It is 3366, or maybe 3367.", q, expect("3367", 3367))  # two results state none
    assert not stated("37 × 91 = 3,376.", q, expect("3367", 3367))
    assert not stated("I could not work that out.", q, expect("3367", 3367))
    assert stated("The mean is 234.33.", "Mean?", expect("234.333333", 234.333333))  # rounded as written
    assert not stated("The mean is 234.", "Mean?", expect("234.333333", 234.333333))
    assert stated("−5 °C = 23 °F.", "Convert -5 degrees Celsius to Fahrenheit", expect("23", 23, 5e-3))


def test_dates_weekdays_and_names_are_read_as_results() -> None:
    q = "Which date falls 45 days after 2023-05-01?"
    assert stated("45 days after 1 May 2023 is 15 June 2023 [1].", q, expect("2023-06-15"))
    assert not stated("It is 16 June 2023.", q, expect("2023-06-15"))
    assert stated("From 13 May 2018 to 13 July 2020 there are 792 days.", "13 May 2018 to 2020-07-13?",
                  expect("792", 792))
    assert stated("It was a Tuesday.", "Weekday of 2020-01-07?", expect("Tuesday"))
    assert not stated("Monday or Tuesday.", "Weekday of 2020-01-07?", expect("Tuesday"))
    assert stated("Albion scored the most [1].", TABLE, expect("Albion"))
    assert not stated("Rovers 12, Albion 45, United 7.", TABLE, expect("Albion"))  # an echo names every row


def _turn(name: str, arguments: dict, content: dict) -> list:
    return [SimpleNamespace(type="tool_call", call_id="c1", name=name, arguments=arguments),
            SimpleNamespace(type="tool_result", call_id="c1", name=name, ok=True, content=content)]


def test_a_table_echo_computes_nothing_and_a_step_that_answers_does() -> None:
    csv = "team,goals\nRovers,12\nAlbion,45\nUnited,7"
    rows = [{"team": "Rovers", "goals": 12}, {"team": "Albion", "goals": 45}, {"team": "United", "goals": 7}]
    echo = _turn("table", {"source": {"csv": csv}}, {"columns": ["team", "goals"], "rows": rows, "row_count": 3})
    assert not computed(echo, expect("45", 45)) and not computed(echo, expect("Albion"))
    top = _turn("table", {"source": {"csv": csv}, "steps": [{"op": "sort", "by": ["goals"], "descending": True}]},
                {"columns": ["team", "goals"], "rows": sorted(rows, key=lambda r: -r["goals"]), "row_count": 3})
    assert computed(top, expect("45", 45)) and computed(top, expect("Albion"))
    most = _turn("table", {"source": {"csv": csv}, "steps": [{"op": "group", "aggregate": {"goals": "max"}}]},
                 {"columns": ["goals"], "rows": [{"goals": 45}], "row_count": 1})
    assert computed(most, expect("45", 45)) and not computed(most, expect("12", 12))
    product = _turn("math", {}, {"result": "3367", "numeric": "3367.00000000000"})
    assert computed(product, expect("3367", 3367)) and not computed(product, expect("3376", 3376))
    weekday = _turn("calendar", {}, {"date": "2020-01-07", "weekday": "Tuesday"})
    assert computed(weekday, expect("Tuesday")) and computed(weekday, expect("2020-01-07"))


def test_both_splits_have_every_kind_and_enough_items() -> None:
    for name, size in (("questions.jsonl", 150), ("test.jsonl", 150)):
        rows = [json.loads(line) for line in (ROOT / "eval_sets/tools" / name).read_text().splitlines()]
        assert len(rows) >= size and {r["category"] for r in rows} == {"math", "units", "dates", "tables"}
        assert len({r["question"] for r in rows}) == len(rows)


def test_qa_facts_match_as_whole_words() -> None:
    from tansuo.evals.qa_sets import states

    assert states("The first ferry leaves at 06:40 [1].", ["06:40"])
    assert states("Halden had 102,300 inhabitants.", ["102300"])
    assert not states("A single swim costs 12.50 EUR.", ["12 EUR", "12"])  # 12.50 is not 12
    assert not states("It is not known.", ["no longer"])


def test_a_claim_is_held_only_by_the_sources_it_cites() -> None:
    sources = {1: "The library reopened on 3 March 2025 after roof repairs.", 2: "Parking costs 4 EUR an hour."}
    assert not claims.unsupported("The library reopened on 3 March 2025 [1].", sources)
    assert not claims.unsupported("It reopened on March 3, 2025 [1].", sources)  # any spelling of the date
    changed = claims.unsupported("The library reopened on 5 March 2025 [1].", sources)
    assert [c.missing for c in changed] == [("2025-03-05",)]
    assert claims.unsupported("The library reopened on 3 March 2025 [2].", sources)  # the wrong source
    assert claims.unsupported("Parking costs 4 EUR an hour.", sources)  # a fact with no citation
    assert not claims.unsupported("I found this in the documents.", sources)  # nothing to check
    assert not claims.unsupported("Halden's library reopened on 3 March 2025 [1].", sources,
                                  question="When did Halden's library reopen?")  # a name from the question
