"""Recency with the real embedding model and no judge, on a fixed clock."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from tansuo.core.sources import order_newest_first
from tansuo.verifiers.recency import Recency, RecencyOptions, default_windows
from tests.verifiers.conftest import book_of, hit

TODAY = date(2026, 11, 28)
OLD = hit("n62", "A monthly adult pass for city buses costs 55 EUR from 1 July 2024. Students and seniors pay 33 EUR.",
          "Monthly bus pass price", datetime(2024, 7, 1))
NEW = hit("n63", "The monthly adult bus pass price drops from 55 EUR to 49 EUR on 1 July 2025. The student and "
          "senior price falls to 29 EUR.", "Monthly bus pass gets cheaper", datetime(2025, 7, 1))


@pytest.fixture(scope="module")
def recency(embedder) -> Recency:
    return Recency(embedder)


@pytest.mark.parametrize(("question", "kind"), [
    ("How much is a monthly bus pass at the moment?", "price"),
    ("Who runs the city as mayor these days?", "office_holder"),
    ("What is the most recent release of pandas?", "version"),
])
async def test_time_sensitive_questions_are_recognised_with_their_kind(recency, question, kind):
    ts = await recency.classify(question, TODAY)
    assert ts.sensitive and ts.current and ts.kind == kind, ts


@pytest.mark.parametrize("question", ["Is the swimming pool still closed?", "Does the night train run again?",
                                      "Can I visit the castle this summer?"])
async def test_words_that_ask_about_now_make_a_question_current(recency, question):
    ts = await recency.classify(question, TODAY)
    assert ts.sensitive and ts.current and ts.kind != "weather", ts


@pytest.mark.parametrize("question", ["Who painted The Starry Night?", "What is the chemical formula of table salt?"])
async def test_timeless_questions_are_not(recency, question):
    ts = await recency.classify(question, TODAY)
    assert not ts.sensitive, ts


async def test_a_relative_date_is_resolved_against_the_clock(recency):
    ts = await recency.classify("What did the council decide last Tuesday?", TODAY)
    assert ts.sensitive and ts.period is not None
    assert (ts.period.start, ts.period.end) == (date(2026, 11, 24), date(2026, 11, 24))


async def test_a_stale_source_for_a_current_question_gets_one_sentence(recency):
    ts = await recency.classify("How much does a monthly bus pass cost now?", TODAY)
    verdict = await recency.check(ts, "A monthly pass costs 49 EUR [1].", book_of(NEW), [1], TODAY, final=True)
    assert "stale" in verdict.flags
    assert verdict.message == ("This may be out of date: the newest source it rests on [1] is older than a price "
                               "stays current.")


async def test_reference_documentation_of_a_release_is_not_stale_by_its_date(recency):
    import dataclasses

    ts = await recency.classify("Is the loop variable still bound after the loop?", TODAY)
    manual = hit("ref", "Names in the target list are not deleted when the loop is finished.", "The for statement",
                 datetime(2023, 12, 4))
    def checked(metadata):
        book = book_of(dataclasses.replace(manual, metadata=metadata))
        return recency.check(ts, "Yes. Names are not deleted [1].", book, [1], TODAY)

    verdict = await checked({"package": "python", "version": "3.11.7"})
    assert ts.current and "stale" not in verdict.flags  # it describes the Python that is installed
    for metadata in ({}, {"version": "3"}, {"package": "python", "version": None}):
        # no release named (a "version" alone is the page's own revision): the same text is an old page
        assert "stale" in (await checked(metadata)).flags, metadata


async def test_a_fresh_source_is_not_flagged(embedder):
    recency = Recency(embedder, options=RecencyOptions(windows={**default_windows(), "price": 800}))
    ts = await recency.classify("How much does a monthly bus pass cost now?", TODAY)
    verdict = await recency.check(ts, "A monthly pass costs 49 EUR since 1 July 2025 [1].", book_of(NEW), [1], TODAY)
    assert verdict.action == "pass" and "stale" not in verdict.flags
    assert verdict.message is None  # the answer already states its evidence's date


async def test_an_answer_from_the_older_of_two_sources_is_sent_back_and_the_change_named(recency):
    ts = await recency.classify("How much does a monthly bus pass cost now?", TODAY)
    book = book_of(OLD, NEW)
    verdict = await recency.check(ts, "A monthly pass costs 55 EUR [1].", book, [1], TODAY)
    assert verdict.action == "revise" and "[2]" in verdict.reason and "newer" in verdict.reason
    final = await recency.check(ts, "A monthly pass costs 49 EUR [2].", book, [2], TODAY, final=True)
    assert {"disagreement", "stale"} <= set(final.flags) and final.message.startswith("This may be out of date")


async def test_sources_that_differ_over_time_get_one_sentence_naming_the_newest(embedder):
    recency = Recency(embedder, options=RecencyOptions(windows={**default_windows(), "price": 800}))
    ts = await recency.classify("How much does a monthly bus pass cost now?", TODAY)
    final = await recency.check(ts, "A monthly pass costs 49 EUR [2].", book_of(OLD, NEW), [2], TODAY, final=True)
    assert final.flags == ("disagreement",)
    assert final.message == "Older sources say otherwise; this answer follows the newest [2]."


async def test_a_timeless_question_passes_without_notes(recency):
    ts = await recency.classify("What is the capital of Norway?", TODAY)
    verdict = await recency.check(ts, "Oslo.", book_of(OLD), [], TODAY)
    assert verdict.action == "pass" and verdict.message is None


def test_sources_render_newest_first_keeping_their_numbers():
    ordered = order_newest_first(book_of(OLD, NEW))
    assert [e.source.n for e in ordered.items] == [2, 1]
