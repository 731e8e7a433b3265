"""Queries that keep the question: searched as asked, guesses dropped before they search."""

from tansuo.agent.queries import needed, parts


def test_the_question_is_searched_as_asked_and_a_guess_is_dropped():
    question = "What does the Python statement 'with' do?"
    kept = needed(question, ["with", "python.util.with_all_non_zero_values", "python with statement"])
    assert kept == [question, "python with statement"]


def test_a_query_may_take_its_names_from_the_conversation():
    kept = needed("and how long is it?", ["Halden tram line length", "weather in Paris"],
                  context="When did the Halden tram line open?")
    assert kept == ["and how long is it?", "Halden tram line length"]


def test_a_two_part_question_is_searched_in_its_parts_too():
    question = "When did the museum reopen, and how much is a ticket now?"
    assert parts(question) == ["When did the museum reopen?", "How much is a ticket now?"]
    assert needed(question, ["museum reopening date", "museum ticket price"]) == [
        question, "When did the museum reopen?", "How much is a ticket now?", "museum reopening date",
        "museum ticket price"]


def test_one_question_asked_of_two_things_or_two_times_is_asked_in_parts():
    assert parts("Why did the pool close, and with how many votes was the plan passed?") == [
        "Why did the pool close?", "With how many votes was the plan passed?"]
    assert parts("What does a ticket cost at the zoo and at the aquarium?") == [
        "What does a ticket cost at the zoo?", "What does a ticket cost at the aquarium?"]
    assert parts("What did a ticket cost before and after the change?") == [
        "What did a ticket cost before the change?", "What did a ticket cost after the change?"]
    assert parts("What is the difference between a list and a tuple?") == []  # one question
