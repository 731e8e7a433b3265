"""Factuality with the real embedding model and no judge: exact facts, wording support, re-pointing,
marking and removing."""

from __future__ import annotations

import pytest

from tansuo.verifiers.factuality import Factuality
from tests.verifiers.conftest import book_of, hit

TRAM = hit("n57", "Construction of Halden's first tram line, from the railway station to the university, began "
           "on 30 June. The 7 kilometre line will have 12 stops and is planned to open in 2028.", "Tram construction")
POOL = hit("n04", "From 1 March 2025 an adult single swim at Halden Aquatic Centre costs 5.20 EUR, up from 4.50 "
           "EUR, because of higher energy costs.", "New prices at the aquatic centre")
TOOL_ANSWER = "math: result 3367 [3]"


@pytest.fixture(scope="module")
def facts(embedder) -> Factuality:
    return Factuality(embedder)


def book():
    b = book_of(TRAM, POOL)
    b.add_tool_result("call_1", "math", {"expression": "37*91"}, {"result": "3367"})
    return b


async def test_a_correct_answer_with_correct_citations_passes_unchanged(facts):
    answer = ("The tram line will have 12 stops and should open in 2028 [1]. A single adult swim now costs "
              "5.20 EUR [2].\n\n" + TOOL_ANSWER)
    verdict, text = await facts.check(answer, book(), final=True)
    assert verdict.action == "pass" and verdict.flags == () and text == answer, verdict.evidence
    assert verdict.scores["claims"] == 3 and verdict.scores["unsupported"] == 0


async def test_a_changed_number_is_caught_and_sent_back_then_removed(facts):
    answer = "The tram line will have 14 stops [1]."
    verdict, _ = await facts.check(answer, book())
    assert verdict.action == "revise" and "number 14" in verdict.reason
    verdict, text = await facts.check(answer, book(), final=True)
    assert verdict.action == "pass" and "unsupported" in verdict.flags
    assert text == "" and verdict.evidence[0]["status"] == "unsupported"  # the trace keeps the claim


async def test_only_the_unsupported_claim_is_removed(facts):
    verdict, text = await facts.check("A swim costs 5.20 EUR [2]. The tram opens in 2031 [1].", book(), final=True)
    assert text == "A swim costs 5.20 EUR [2]." and verdict.scores["unsupported"] == 1
    assert "[not supported" not in text


async def test_a_claim_citing_the_wrong_source_is_repointed(facts):
    verdict, text = await facts.check("A single adult swim costs 5.20 EUR [1].", book(), final=True)
    assert verdict.action == "pass" and verdict.flags == ("repointed",)
    assert text == "A single adult swim costs 5.20 EUR [2]."


async def test_an_uncited_claim_gets_the_source_that_backs_it(facts):
    _, text = await facts.check("The tram line will have 12 stops.", book(), final=True)
    assert text == "The tram line will have 12 stops [1]."


async def test_a_claim_without_facts_is_judged_by_its_wording(facts):
    supported, _ = await facts.check("Swimming got more expensive because energy costs went up [2].", book())
    unrelated, _ = await facts.check("The council wants more parks for dogs and children [2].", book())
    assert supported.action == "pass"
    assert unrelated.action == "revise", unrelated.evidence


async def test_a_wrong_tool_result_is_caught(facts):
    verdict, _ = await facts.check("math: result 3377 [3]", book())
    assert verdict.action == "revise" and "number 3377" in verdict.reason


async def test_an_answer_without_sources_is_not_held_to_citations(facts):
    verdict, text = await facts.check("Hello! I can search the documents for you.", book_of())
    assert verdict.action == "pass" and text == "Hello! I can search the documents for you."


async def test_a_year_is_backed_by_the_date_of_its_source(facts):
    from datetime import datetime

    notice = hit("n13", "Street parking downtown costs 2.00 EUR per hour on weekdays.", "Downtown parking fees",
                 datetime(2024, 1, 15))
    passed, _ = await facts.check("In 2024 parking downtown cost 2.00 EUR an hour [1].", book_of(notice), final=True)
    failed, _ = await facts.check("In 2023 parking downtown cost 2.00 EUR an hour [1].", book_of(notice), final=True)
    assert "unsupported" not in passed.flags and "unsupported" in failed.flags
