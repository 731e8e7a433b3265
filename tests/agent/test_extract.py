"""Answer by copy: the chosen source sentences, cited; yes or no first; nothing found said plainly."""

from dataclasses import dataclass, replace
from datetime import date, datetime

import pytest

from tansuo.agent.evidence import (
    DEFINING,
    LEAD,
    Sentence,
    asked_term,
    candidates,
    defines,
    gives,
    newest_only,
    rank,
    topics_of,
)
from tansuo.agent.extract import (
    CopyOptions,
    by_rank,
    complete,
    compose,
    is_yes_no,
    part_periods,
    per_part,
    rank_parts,
    yes_or_no,
)
from tansuo.core.sources import SourceBook
from tansuo.retrieval.hits import Hit
from tests.agent.helpers import make_agent, of_type, run, search


@dataclass(frozen=True)
class _Mention:  # the fields of verifiers.dates.DateMention that parts read
    text: str
    start: date
    end: date


def _hit(n, doc, text, day):
    return Hit(chunk_id=f"{doc}#0", doc_id=doc, title=f"Notice {n}", source=f"/news/{doc}", text=text, start=0,
               end=len(text), published=datetime(2025, 1, day), updated=None, date_origin="published", metadata={},
               score=1.0, similarity=0.9)


def test_sentences_rank_against_the_question_and_superseded_ones_drop(embedder):
    book = SourceBook()
    book.add_hit(_hit(1, "old", "A single swim cost 4.50 EUR in 2024. The pool has eight lanes.", 1))
    book.add_hit(_hit(2, "new", "A single swim now costs 5.20 EUR. Children pay 2 EUR.", 20))
    ranked = rank(candidates(book), ["How much does a single swim cost?"], embedder)
    assert "swim" in ranked[0].text and {s.n for s in ranked} == {1, 2}
    current = newest_only(ranked, embedder, margin=0.3)
    assert not any("4.50" in s.text for s in current) and any("5.20" in s.text for s in current)
    # alike sentences in passages about different things are two things: nothing superseded
    apart = {"old": "Chess club yearbook: the winter tournament, its winners and the new board members.",
             "new": "Public pool price list for the coming season."}
    assert {s.n for s in newest_only(ranked, embedder, margin=0.3, topics=topics_of(apart, embedder))} == {1, 2}


def test_the_kind_of_answer_asked_for_is_completed_from_the_chosen_document(embedder):
    book = SourceBook()
    book.add_hit(_hit(1, "lane", "A cycle lane along Harbour Road opened on 15 June. The 2.4 kilometre lane links "
                                 "the station with the ferry terminal.", 1))
    question = "How long is the Harbour Road cycle lane?"
    ranked = rank(candidates(book), [question], embedder)
    chosen = complete(question, [ranked[0]], ranked, CopyOptions())
    assert any("2.4 kilometre" in s.text for s in chosen)  # a length, not the opening date
    assert gives("What did a swim cost in 2024?", "An adult swim costs 4.50 EUR.")
    assert not gives("What did a swim cost in 2024?", "Prices apply from 1 September 2024.")
    assert gives("Which exception is raised?", 'Then "ValueError" is raised.')


def test_a_document_dated_in_the_period_asked_about_ranks_first(embedder):
    book = SourceBook()
    book.add_hit(_hit(1, "old", "Street parking downtown costs 2.00 EUR an hour.", 5))
    book.add_hit(replace(_hit(2, "new", "Street parking downtown costs 2.80 EUR an hour.", 5),
                         published=datetime(2026, 3, 1)))
    question = ["What did downtown parking cost in 2025?"]
    asked = rank(candidates(book), question, embedder, (date(2025, 1, 1), date(2025, 12, 31)))
    assert "2.00" in asked[0].text
    assert "2.80" in rank(candidates(book), question, embedder, (date(2026, 1, 1), date(2026, 12, 31)))[0].text
    notices = SourceBook()  # both from 2025; one names the year asked about
    notices.add_hit(_hit(1, "a", "The council kept the property tax rate at 0.45 percent for 2025.", 3))
    notices.add_hit(_hit(2, "b", "The council raised the property tax rate to 0.52 percent for 2026.", 9))
    tax = rank(candidates(notices), ["What is the property tax rate in 2026?"], embedder,
               (date(2026, 1, 1), date(2026, 12, 31)))
    assert "0.52" in tax[0].text


def test_a_definition_is_read_from_the_start_of_a_document(embedder):
    text = "The pass statement is a null operation. When it is executed, nothing happens."

    def first_sentence(question, chunk):
        book = SourceBook()
        book.add_hit(replace(_hit(1, "pass", text, 1), chunk_id=f"pass#{chunk}"))
        return next(s for s in rank(candidates(book), [question], embedder) if s.text.startswith("The pass"))

    defining, detail = "What does the pass statement do?", "When was the pass statement added?"
    assert first_sentence(defining, 0).score == pytest.approx(first_sentence(defining, 3).score + LEAD[0])
    assert first_sentence(detail, 0).score == pytest.approx(first_sentence(detail, 3).score)


def test_a_definition_is_the_sentence_whose_subject_is_the_thing_asked_about(embedder):
    text = 'The "skip" command may only occur inside a batch file. It moves the reader past the next record.'

    def scores(chunk):
        book = SourceBook()
        book.add_hit(replace(_hit(1, "skip", text, 1), chunk_id=f"skip#{chunk}", title="The skip command"))
        return {s.text[:6]: s.score for s in rank(candidates(book), ["What does the skip command do?"], embedder)}

    first, later = scores(0), scores(3)  # the document's first passage, and a later one
    # "It moves ..." early in the skip command's own document defines it; a rule about where it may occur does not
    assert first["It mov"] == pytest.approx(later["It mov"] + LEAD[1] + DEFINING)
    assert first['The "s'] == pytest.approx(later['The "s'] + LEAD[0])

    def halt(chunk):  # "It ..." early in a document about something else defines nothing asked about
        book = SourceBook()
        book.add_hit(replace(_hit(1, "halt", "It stops the reader at once.", 1), chunk_id=f"halt#{chunk}",
                             title="The halt command"))
        return rank(candidates(book), ["What does the skip command do?"], embedder)[0].score

    assert halt(0) == pytest.approx(halt(3) + LEAD[0])

    def said(text, title):
        return Sentence(1, text, "d", None, title=title, lead=0)

    # the thing as the subject defines it fully in its own document, half as much in another's
    assert defines("skip", said('A "skip" command moves the reader on.', "The skip command")) == 1.0
    assert defines("skip", said('A "skip" command run in a loop moves it on.', "The loop statement")) == 0.5
    assert defines("skip", said("It moves the reader on.", "The loop statement")) == 0.0

    def elsewhere(own_title):  # "A skip command ..." in the loop's topic, beside a topic that may be skip's own
        book = SourceBook()
        book.add_hit(replace(_hit(1, "loop", 'A "skip" command in a loop moves the reader on.', 1),
                             chunk_id="loop#2", title="The loop statement"))
        book.add_hit(replace(_hit(2, "skip", "It moves the reader past the next record.", 1), chunk_id="skip#0",
                             title=own_title))
        return next(s.score for s in rank(candidates(book), ["What does the skip command do?"], embedder)
                    if s.doc_id == "loop")

    # half the weight when the thing's own document defines it, the whole when none does
    assert elsewhere("The skip command") == pytest.approx(elsewhere("The batch reader") - DEFINING / 2)
    assert asked_term("What does 'async for' do?") == "async for" and asked_term("When did it open?") == ""
    assert asked_term("What is the __call__ special method for?") == "__call__"
    assert asked_term("What does Python's 'yield' do?") == "yield"  # an apostrophe opens no quote
    assert asked_term("What does it mean?") == "" and asked_term("What is the rent for a student flat in 2025?") == ""


def test_a_timetable_question_asks_for_a_time_of_day_and_a_fare_for_money():
    assert gives("When does the first ferry leave?", "The first departure is at 06:40.")
    assert not gives("When does the first ferry leave?", "The ferry returned to the route on 10 February.")
    assert gives("When did the ferry return?", "The ferry returned to the route on 10 February.")
    assert gives("What fares were announced?", "Fares start at 89 EUR one way.")
    assert not gives("What fares were announced?", "The route starts on 5 June.")
    assert not gives("What cost-cutting measures were taken?", "It saves 5 EUR.")  # not a price question
    assert not gives("What time does it open?", "The bill has 5 amendments.")  # "5 am" needs the word to end
    assert gives("When does the next election take place?", "It is on 13 September 2027.")  # a date, no timetable


def test_each_part_of_a_question_has_the_period_it_names():
    mentions = [_Mention("2024", date(2024, 1, 1), date(2024, 12, 31)),
                _Mention("2025", date(2025, 1, 1), date(2025, 12, 31))]
    asked = ["What did students pay in 2024?", "What do they pay in 2025?", "Who is the rector?"]
    assert part_periods(asked, mentions, date(2026, 1, 1)) == [
        (date(2024, 1, 1), date(2024, 12, 31)), (date(2025, 1, 1), date(2025, 12, 31)), None]
    assert part_periods(asked[1:2], mentions, date(2024, 6, 1)) == [None]  # not past yet
    assert part_periods(["What did it cost before the 2025 change?"], mentions, date(2026, 1, 1)) == [None]


def test_a_part_whose_best_sentence_is_taken_does_not_reach_for_a_far_one():
    shared = Sentence(1, "The route was cancelled, citing weak bookings.", "a", None, score=0.75, dense=0.6)
    far = Sentence(2, "The ferry returned on 10 February.", "b", None, score=0.45, dense=0.4)
    assert per_part([], [[shared, far], [shared, far]], CopyOptions()) == [shared]


def test_a_part_that_refers_back_is_ranked_with_its_subject_and_its_own_year(embedder):
    book = SourceBook()
    book.add_hit(replace(_hit(1, "pass24", "Students pay 33 EUR for a monthly bus pass.", 1),
                         published=datetime(2024, 3, 1)))
    book.add_hit(_hit(2, "pass25", "Students pay 29 EUR for a monthly bus pass.", 2))
    book.add_hit(_hit(3, "bridge", "Work on the new harbour bridge starts in 2025.", 3))
    asked = ["What did students pay for a monthly bus pass in 2024?", "What do they pay in 2025?"]
    periods = [(date(2024, 1, 1), date(2024, 12, 31)), (date(2025, 1, 1), date(2025, 12, 31))]
    first, second = rank_parts(candidates(book), asked, embedder, periods)
    assert "33 EUR" in first[0].text and "29 EUR" in second[0].text  # not the bridge, which only shares 2025


def test_two_parts_that_find_one_sentence_take_the_second_from_another_document():
    shared = Sentence(1, "The card now costs 46 EUR.", "new", None, score=0.8, dense=0.7)
    old = Sentence(2, "The card costs 40 EUR.", "old", None, score=0.6, dense=0.5)
    same_doc = Sentence(1, "The pool has eight lanes.", "new", None, score=0.7, dense=0.6)
    assert per_part([], [[shared, same_doc, old], [shared, same_doc, old]], CopyOptions()) == [shared, old]


def test_by_rank_adds_a_close_sentence_only_for_words_the_first_does_not_cover():
    first = Sentence(1, "The tram opens in 2029.", "d1", None, score=0.8, dense=0.7)
    same = Sentence(1, "The tram line opens late.", "d1", None, score=0.75, dense=0.6)
    other = Sentence(2, "The rector is Amira Haddad.", "d2", None, score=0.74, dense=0.6)
    chosen = by_rank("When does the tram open and who is the rector?", [first, same, other], CopyOptions())
    assert chosen == [first, other]
    assert compose([first, other], "Yes.") == "Yes. The tram opens in 2029 [1]. The rector is Amira Haddad [2]."


def test_yes_no_questions_are_told_by_their_form():
    assert is_yes_no("Can a tuple be changed in place?") and is_yes_no("Is the ferry back?")
    assert not is_yes_no("What does with do?") and not is_yes_no("Is it the ferry or the water taxi?")


async def test_a_weak_model_answers_by_choosing_source_sentences(tmp_path):
    agent, backend = make_agent([*search("tram line length"), {"sentences": [2]}], tmp_path,
                                copy=CopyOptions(margin=1.0, floor=-1.0, chooser="model"))
    events = await run(agent, "How long is the Halden tram line?")
    end = events[-1]
    chooser = backend.requests[-1]
    assert chooser.response_schema["properties"]["sentences"]["items"]["enum"][0] == 1
    second = chooser.messages[-1]["content"].split("(2) ", 1)[1].split("\n", 1)[0]
    assert end.answer == second.rstrip(".") + f" [{end.sources[0].n}]."  # the chosen sentence, as written, cited
    assert [e.action for e in of_type(events, "plan")][-1] == "copy"


async def test_a_yes_no_question_gets_yes_or_no_first(tmp_path):
    agent, _ = make_agent(search("library opening"), tmp_path, copy=CopyOptions(floor=-1.0, chooser="rank"))
    events = await run(agent, "Does the Halden library open at 9:00 on weekdays?")
    first = [e for e in of_type(events, "plan") if e.action == "copy"][-1].detail["sentences"][0]
    lead = yes_or_no("Does the Halden library open at 9:00 on weekdays?", [Sentence(1, first, "d", None)])
    assert lead in ("Yes.", "No.") and events[-1].answer.startswith(lead + " ") and "[" in events[-1].answer


def test_yes_or_no_is_read_from_the_sentence_that_answers():
    def said(text):
        return [Sentence(1, text, "d", None, score=0.9, dense=0.9)]

    assert yes_or_no("Can a tuple be changed?", said("A tuple cannot be changed in place.")) == "No."
    assert yes_or_no("Is the queue thread-safe?", said("The queue is safe to share between threads.")) == "Yes."
    assert yes_or_no("Do any built-in types implement @?", said("No builtin types implement it.")) == "No."
    assert yes_or_no("Isn't a set mutable?", said("A set is mutable.")) == "Yes."
    assert yes_or_no("Is it true that X is not hashable?", said("X is not hashable.")) == "Yes."
    assert yes_or_no("Is the rare case handled?", said("The not-so-rare case is handled.")) == "Yes."  # no denial
    assert yes_or_no("Does X block?", said("X doesn’t block.")) == "No."  # a typeset apostrophe
    assert yes_or_no("Can a key be None?", said("Keys must be hashable.")) == "Yes."  # None is a value
    assert yes_or_no("Do all types support @?", said("None of the types support it.")) == "No."
    assert yes_or_no("Is it fast?", said("It is not only fast but small.")) == "Yes."
    assert yes_or_no("Is X hashable?", []) == ""


async def test_nothing_relevant_is_said_in_one_sentence_with_what_was_searched(tmp_path):
    agent, _ = make_agent(search("ferry timetable"), tmp_path, copy=CopyOptions(floor=0.99))
    end = (await run(agent, "When does the ferry leave?"))[-1]
    assert end.answer.startswith("I found nothing in the documents that answers this")
    assert "“When does the ferry leave?”" in end.answer and "“ferry timetable”" in end.answer


def test_a_weak_model_is_not_offered_a_tool_far_below_the_documents(tmp_path):
    from tansuo.agent import planning
    from tansuo.agent.budget import Budget
    from tansuo.agent.router import Offer
    from tansuo.agent.turn import Turn, TurnRequest

    agent, _ = make_agent([], tmp_path, copy=CopyOptions())
    spec = agent.deps.router.toolbox.specs[0]
    near, far = Offer(spec, "tool", 0.8, None), Offer(spec, "tool", 0.7, None)  # the documents match at 0.9
    hit = _hit(1, "d", "Python statements.", 1)
    turn = Turn(TurnRequest("Is bool a subtype of int?"), "tools", ("answer", "search", "tools"), Budget(), today="")
    assert planning.tools_for_weak_model(agent.deps, turn, [near, far], [hit], ["preview"]) == [near]
    assert planning.tools_for_weak_model(agent.deps, turn, [near, far], [hit], []) == [near, far]  # nothing to read
