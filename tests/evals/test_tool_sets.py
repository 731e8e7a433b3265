"""Scoring of the built-in tool questions: the value must be stated, in any common spelling."""

from __future__ import annotations

import json
from pathlib import Path

from evals.tool_sets import answer_matches

ROOT = Path(__file__).resolve().parents[2]


def expect(answer: str, numeric: float | None = None, tolerance: float = 1e-3) -> dict:
    return {"answer": answer, "numeric": numeric, "tolerance": tolerance}


def test_numbers_match_within_tolerance_in_any_spelling() -> None:
    assert answer_matches("math: result 3367 [1]", expect("3367", 3367))
    assert answer_matches("The total is 12,450 euros.", expect("12450", 12450))
    assert answer_matches("about 1.3209 gallons", expect("1.32086", 1.32086, 5e-3))
    assert not answer_matches("The total is 12,451 euros.", expect("12450", 12450, 1e-6))
    assert not answer_matches("No number here.", expect("7", 7))


def test_text_and_dates_match() -> None:
    assert answer_matches("2024-02-29 was a Thursday [1]", expect("Thursday"))
    assert answer_matches("That is 3 March 2025.", expect("2025-03-03"))
    assert not answer_matches("That is 4 March 2025.", expect("2025-03-03"))


def test_the_set_has_every_kind_and_enough_items() -> None:
    rows = [json.loads(line) for line in (ROOT / "eval_sets/tools/questions.jsonl").read_text().splitlines()]
    assert len(rows) >= 150 and {r["category"] for r in rows} == {"math", "units", "dates", "tables"}
    assert len({r["question"] for r in rows}) == len(rows)


def test_qa_facts_match_as_whole_words() -> None:
    from evals.qa_sets import states

    assert states("The first ferry leaves at 06:40 [1].", ["06:40"])
    assert states("Halden had 102,300 inhabitants.", ["102300"])
    assert not states("A single swim costs 12.50 EUR.", ["12 EUR", "12"])  # 12.50 is not 12
    assert not states("It is not known.", ["no longer"])
    rows = [json.loads(line) for line in (ROOT / "eval_sets/qa/questions.jsonl").read_text().splitlines()]
    assert len(rows) >= 150 and all(r["documents"] and r["facts"] for r in rows)
