"""Exact facts (numbers, dates, names) and date expressions resolved against a fixed clock."""

from __future__ import annotations

from datetime import date

import pytest

from tansuo.core.sources import SourceBook
from tansuo.retrieval.hits import Hit
from tansuo.verifiers.claims import check_claims
from tansuo.verifiers.dates import resolve
from tansuo.verifiers.facts import facts

SOURCE = ("The board of Halden University appointed marine biologist Dr. Amira Haddad as rector for a "
          "four-year term starting 1 January 2025. The budget of 1,250,000 EUR was approved on 2024-08-20.")


@pytest.mark.parametrize(("a", "b"), [
    ("It cost 1,000 EUR.", "It cost 1000 EUR."),
    ("It opened on March 3, 2025.", "It opened on 2025-03-03."),
    ("It opened on 3rd March 2025.", "It opened on 3 March, 2025."),
    ("A fare of 3.50 EUR.", "A fare of 3.5 EUR."),
])
def test_formats_that_say_the_same_thing_compare_equal(a, b):
    assert facts(a) == facts(b)


def test_numbers_dates_and_names_are_found():
    found = facts(SOURCE)
    assert {"1250000", "4"} <= found.numbers  # "four-year" states 4
    assert found.dates == {date(2025, 1, 1), date(2024, 8, 20)}
    assert "Amira Haddad" in found.names and "Halden University" in found.names


@pytest.mark.parametrize(("claim", "missing"), [
    ("Amira Haddad became rector on 1 January 2025.", []),
    ("Haddad was appointed for 4 years.", []),
    ("Amira Haddad became rector on 1 January 2026.", ["date 2026-01-01"]),
    ("The budget was 1,350,000 EUR.", ["number 1350000"]),
    ("Olav Lunde became rector in 2025.", ["name Olav Lunde"]),
])
def test_a_changed_fact_is_missing_from_the_source_and_a_kept_one_is_not(claim, missing):
    assert facts(claim).missing_from(facts(SOURCE)) == missing


def hit(n: int, text: str, title: str) -> Hit:
    return Hit(chunk_id=f"d{n}#0", doc_id=f"d{n}", title=title, source=f"/d{n}", text=text, start=0, end=len(text),
               published=None, updated=None, date_origin="none", metadata={}, score=1.0)


def test_each_claim_is_checked_against_the_sources_it_cites():
    book = SourceBook()
    book.add_hit(hit(1, SOURCE, "New university rector"))
    book.add_hit(hit(2, "The tram line will have 12 stops and open in 2029.", "Tram opening delayed"))
    book.add_tool_result("call_1", "math", {"expression": "37*91"}, {"result": "3367"})
    checks = check_claims("Hello! Dr. Amira Haddad is rector [1]. The tram has 14 stops [2]. "
                          "The tram opens in 2029 [1]. 37 times 91 is 3367 [3].", book)
    by_claim = {c.claim: c for c in checks}
    assert "Hello!" not in by_claim  # states no fact
    assert by_claim["Dr. Amira Haddad is rector."].supported
    assert by_claim["The tram has 14 stops."].missing == ("number 14",)
    wrong_source = by_claim["The tram opens in 2029."]
    assert not wrong_source.supported and wrong_source.backed_by == (2,)  # re-pointable to [2]
    assert by_claim["37 times 91 is 3367."].supported  # the tool's arguments and result are its text
    assert not check_claims("The rector is Amira Haddad.", book)[0].supported  # nothing cited


TODAY = date(2026, 11, 28)  # a Saturday


@pytest.mark.parametrize(("text", "start", "end"), [
    ("What happened last Tuesday?", "2026-11-24", "2026-11-24"),
    ("next Saturday", "2026-12-05", "2026-12-05"),
    ("this Saturday", "2026-11-28", "2026-11-28"),
    ("yesterday", "2026-11-27", "2026-11-27"),
    ("next month", "2026-12-01", "2026-12-31"),
    ("last week", "2026-11-16", "2026-11-22"),
    ("this year", "2026-01-01", "2026-12-31"),
    ("3 days ago", "2026-11-25", "2026-11-25"),
    ("in two weeks", "2026-12-12", "2026-12-12"),
    ("a year ago", "2025-11-28", "2025-11-28"),
    ("Why was the ferry out of service in January?", "2026-01-01", "2026-01-31"),  # the latest January
    ("closed in December", "2025-12-01", "2025-12-31"),  # December 2026 has not begun on the 28th of November
])
def test_relative_dates_resolve_against_the_clock(text, start, end):
    (mention,) = resolve(text, TODAY)
    assert (mention.start.isoformat(), mention.end.isoformat(), mention.relative) == (start, end, True)


@pytest.mark.parametrize(("text", "start", "end"), [
    ("What did a swim cost in 2024?", "2024-01-01", "2024-12-31"),
    ("Who won the race in May 2025?", "2025-05-01", "2025-05-31"),
])
def test_a_named_year_or_month_is_that_whole_period(text, start, end):
    (mention,) = resolve(text, TODAY)
    assert (mention.start.isoformat(), mention.end.isoformat(), mention.relative) == (start, end, False)
    assert not resolve("I may go; the 2024-05 data", TODAY)[1:]  # "may" is no month


def test_explicit_dates_stay_as_written_and_come_in_order():
    mentions = resolve("Between March 5, 2025 and yesterday, and since 2024-02-29.", TODAY)
    assert [(m.text, m.relative) for m in mentions] == [("March 5, 2025", False), ("yesterday", True),
                                                        ("2024-02-29", False)]
    assert mentions[0].start == date(2025, 3, 5)
