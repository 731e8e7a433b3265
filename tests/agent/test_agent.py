"""The run loop on the shipped scripted backend: every path ends with an answer or a clear error."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from tansuo.agent.budget import Limits
from tansuo.errors import TansuoError
from tests.agent.helpers import ANSWER, SlowBackend, call, make_agent, of_type, run, search


async def test_a_weak_model_answers_a_tool_request_with_the_tools_own_result():
    agent, backend = make_agent(call(("add", {"a": 2, "b": 40})))
    events = await run(agent, "what is 2 + 40?")
    assert [e.type for e in events][:4] == ["turn_started", "plan", "tool_call", "tool_result"]
    assert of_type(events, "tool_result")[0].content == {"sum": 42.0}
    end = events[-1]
    assert end.complete and end.answer == "2 + 40 = 42 [1]."
    assert [(s.n, s.kind, s.title) for s in end.sources] == [(1, "tool", "add tool")]
    assert len(backend.requests) == 2  # route and fill; the result is not handed to the model to restate


async def test_the_route_and_the_call_ask_for_the_tool_adapter_each_at_its_own_scale():
    agent, backend = make_agent(call(("add", {"a": 2, "b": 40})))
    agent.deps.options = replace(agent.deps.options, route_scale=0.3, calls_scale=0.6)
    await run(agent, "what is 2 + 40?")
    assert [(r.adapter, r.adapter_scale) for r in backend.requests] == [("tools", 0.3), ("tools", 0.6)]
    assert "use" in backend.requests[0].response_schema["properties"]


async def test_a_stronger_profile_writes_prose_from_the_results():
    agent, backend = make_agent([*call(("add", {"a": 2, "b": 40})), ANSWER, "The sum is 42 [1]."],
                                profile="plugins")
    events = await run(agent, "what is 2 + 40?")
    assert events[-1].answer == "2 + 40 = 42 [1].\n\nThe sum is 42 [1]."
    answer_prompt = backend.requests[-1].messages[-1]["content"]
    assert "[1] add tool" in answer_prompt and '"sum": 42.0' in answer_prompt
    assert "".join(e.text for e in of_type(events, "answer_delta")) == events[-1].answer


async def test_the_planner_schema_offers_only_real_tools_and_actions():
    agent, backend = make_agent(call(("add", {"a": 1, "b": 2})))
    events = await run(agent, "add one and two")
    route = backend.requests[0].response_schema["properties"]["use"]["enum"]
    assert route[-1] == "answer" and set(route[:-1]) == {"add", "slow", "broken"}  # no index, no plan
    assert of_type(events, "plan")[0].detail["options"] == route
    fill = backend.requests[1].response_schema["properties"]["calls"]["items"]
    assert fill["properties"]["name"] == {"const": "add"}  # profile tools: only the chosen tool is callable
    demos = [m["content"] for m in backend.requests[0].messages if m["role"] == "assistant"]
    assert '{"use": "answer"}' in demos


async def test_independent_calls_in_one_step_run_concurrently():
    agent, _ = make_agent([*call(("slow", {"seconds": 0.6}), ("slow", {"seconds": 0.7})), "Done."])
    started = time.perf_counter()
    events = await run(agent, "wait twice")
    elapsed = time.perf_counter() - started
    assert [r.ok for r in of_type(events, "tool_result")] == [True, True]
    assert elapsed < 1.2, f"two 0.6-0.7 s calls took {elapsed:.2f}s: they ran one after the other"


async def test_a_malformed_call_goes_back_to_the_model_once():
    route, good = call(("add", {"a": 2, "b": 40}))
    bad = {"calls": [{"name": "add", "arguments": {"a": "two", "b": 40}}]}  # breaks the schema: a is a number
    agent, backend = make_agent([route, bad, good, "42 [1]."])
    events = await run(agent, "what is two plus 40?")
    problems = of_type(events, "problem")
    assert problems[0].kind == "malformed_output" and "does not match the schema" in problems[0].message
    assert "Your last reply was invalid" in backend.requests[2].messages[-1]["content"]
    assert of_type(events, "tool_result")[0].content == {"sum": 42.0}
    assert events[-1].complete


async def test_a_second_malformed_reply_ends_the_turn_with_a_clear_error():
    agent, _ = make_agent(["not json", "still not json"])
    events = await run(agent, "what is two plus 40?")
    end = events[-1]
    assert not end.complete and not of_type(events, "tool_call")
    assert end.answer.startswith("I could not complete this request: the model failed: model output is not JSON")


async def test_a_tool_that_times_out_is_reported_and_the_answer_says_so():
    agent, _ = make_agent([*call(("slow", {"seconds": 30})), ANSWER, "I could not wait."])
    started = time.perf_counter()
    events = await run(agent, "wait 30 seconds")
    assert time.perf_counter() - started < 5
    result = of_type(events, "tool_result")[0]
    assert not result.ok and "longer than 1s" in result.error
    end = events[-1]
    assert end.complete and "Not done: the slow tool failed: took longer than 1s" in end.answer


async def test_a_tool_error_goes_back_to_the_model_once_then_the_turn_answers():
    agent, backend = make_agent([*call(("broken", {"x": 1})), *call(("broken", {"x": 2})), "Sorry."])
    events = await run(agent, "use the broken tool")
    assert [r.ok for r in of_type(events, "tool_result")] == [False, False]
    assert "ERROR: the service behind this tool is down" in backend.requests[2].messages[-1]["content"]
    assert "Not done: the broken tool failed" in events[-1].answer
    assert len(backend.requests) == 5  # plan (2 calls), re-plan (2 calls), answer: no third try


async def test_a_loop_of_identical_calls_is_stopped():
    replies = call(("broken", {"x": 1})) * 3 + ["Stopped."]
    agent, _ = make_agent(replies, profile="agent")
    events = await run(agent, "keep trying")
    assert len(of_type(events, "tool_call")) == 2
    problems = [p.message for p in of_type(events, "problem")]
    assert any("the same call broken({\"x\":1}) was made 3 times" in m for m in problems)
    end = events[-1]
    assert not end.complete and end.answer.startswith("Stopped.")


async def test_a_step_budget_that_runs_out_still_ends_with_an_answer():
    replies = [r for i in range(3) for r in call(("add", {"a": i, "b": 1}))] + ["Partial answer."]
    agent, _ = make_agent(replies, profile="agent", limits=Limits(steps=3))
    events = await run(agent, "add forever")
    end = events[-1]
    assert not end.complete and end.budget["steps"] == 3
    assert "Not done: turn budget exhausted: steps (limit 3)" in end.answer and "\n\nPartial answer." in end.answer


async def test_a_token_budget_that_runs_out_ends_without_another_model_call():
    agent, backend = make_agent(call(("add", {"a": 1, "b": 1})), limits=Limits(tokens=3))
    events = await run(agent, "add")
    end = events[-1]
    assert not end.complete and len(backend.requests) == 2  # route, fill: no call and no answer after
    assert not of_type(events, "tool_call")
    assert end.answer.startswith("I could not complete this request: turn budget exhausted: tokens")


async def test_a_model_that_is_too_slow_hits_the_wall_clock_limit():
    agent, _ = make_agent([], backend=SlowBackend([ANSWER, "late"], delay_s=5),
                          limits=Limits(seconds=0.5))
    started = time.perf_counter()
    events = await run(agent, "hello")
    assert time.perf_counter() - started < 2
    end = events[-1]
    assert not end.complete and "ran out of time (limit 0.5s)" in end.answer


async def test_search_results_become_numbered_sources_and_bad_citations_are_dropped(tmp_path):
    replies = [*search("Halden tram line opening"),
               "The tram line opened on 3 March 2025 [1]. It is 12 km long [7]."]
    agent, _ = make_agent(replies, tmp_path)
    events = await run(agent, "When did the tram open?")
    searched = of_type(events, "search")[0]
    assert searched.hits[0].title == "Halden tram line" and searched.hits[0].n == 1
    end = events[-1]
    assert "[7]" not in end.answer and "[1]" in end.answer
    assert end.sources[0].title == "Halden tram line" and end.sources[0].date.year == 2025
    assert any(p.kind == "citation" for p in of_type(events, "problem"))


async def test_a_plan_runs_its_steps_in_dependency_order_and_checks_each(tmp_path):
    plan = {"steps": [{"task": "When does the library close?", "needs": [2]},
                      {"task": "When did the tram line open?", "needs": []}]}
    replies = [{"use": "plan"}, plan,
               *search("tram line opening date"), {"answered": True},
               *search("library closing hour"), {"answered": False},
               "The tram opened on 3 March 2025 [1] and the library closes at 20:00 [2]."]
    agent, backend = make_agent(replies, tmp_path, profile="agent", judge=False)
    events = await run(agent, "When did the tram open, and when does the library close?")
    checks = of_type(events, "check")
    assert [(c.step, c.ok) for c in checks] == [(2, True), (1, False)]
    assert checks[1].retry == "search"
    assert "Known from earlier steps" in backend.requests[5].messages[-1]["content"]  # step 1 sees step 2
    assert {s.title for s in events[-1].sources} == {"Halden tram line", "Halden library hours"}


async def test_the_model_judges_which_hits_to_keep_when_the_profile_allows(tmp_path):
    replies = [*search("Halden opening hours and dates"), {"relevant": [2]}, "Answer."]
    agent, backend = make_agent(replies, tmp_path, profile="plugins")
    events = await run(agent, "Halden?")
    searched = of_type(events, "search")[0]
    judged = backend.requests[2].messages[0]["content"]
    assert "(1) " in judged and "(2) " in judged and searched.kept == 1
    assert searched.hits[0].title == judged.split("(2) ")[1].split(":")[0]


async def test_an_unknown_profile_or_empty_question_is_a_typed_error():
    agent, _ = make_agent([])
    with pytest.raises(TansuoError, match="unknown model profile 'genius'"):
        await run(agent, "hi", profile="genius")
    with pytest.raises(TansuoError, match="empty"):
        await run(agent, "   ")


async def test_every_event_has_a_json_wire_form(tmp_path):
    import json

    agent, _ = make_agent([*search("tram"), "It opened in 2025 [1]."], tmp_path)
    events = await run(agent, "tram?")
    wire = [json.loads(json.dumps(e.to_dict())) for e in events]
    assert wire[0]["type"] == "turn_started" and wire[-1]["type"] == "turn_ended"
    assert wire[-1]["sources"][0]["date"].startswith("2025-03-03")


async def test_no_model_at_all_is_the_callers_error_not_an_answer():
    from tansuo.errors import BackendUnavailable
    from tansuo.llm.testing import ScriptedBackend

    class Down(ScriptedBackend):
        async def chat(self, request):
            raise BackendUnavailable("cannot reach the model server at http://127.0.0.1:9/v1")

    agent, _ = make_agent([], backend=Down([]))
    with pytest.raises(BackendUnavailable, match="cannot reach"):
        await run(agent, "what is 2 + 40?")


async def test_sources_longer_than_the_context_budget_are_summarised_per_document_first(tmp_path):
    from tansuo.agent.answer import Writing

    replies = [*search("Halden tram and library"), "Tram summary.", "Library summary.", "Both [1] [2]."]
    agent, backend = make_agent(replies, tmp_path)
    agent.deps.options = replace(agent.deps.options, writing=Writing(context_tokens=10, copy_options={"x": 1}))
    events = await run(agent, "Tell me about Halden")
    summarised = [p for p in of_type(events, "plan") if p.action == "summarise"]
    assert summarised and summarised[0].detail == {"documents": 2}
    summary_prompts = [r.messages[0]["content"] for r in backend.requests[2:4]]
    assert all(p.startswith("Source: Halden") and "Copy the sentences" in p for p in summary_prompts)
    answer_prompt = backend.requests[4].messages[-1]["content"]
    assert "Tram summary." in answer_prompt and "Library summary." in answer_prompt
    assert all(r.extra_body == {"x": 1} for r in backend.requests[2:5])  # copy-heavy requests get the options
    assert events[-1].answer == "Both [1] [2]."


async def test_a_follow_up_is_planned_with_the_conversation_so_far(tmp_path):
    history = [{"role": "user", "content": "When did the tram line open?"},
               {"role": "assistant", "content": "The Halden tram line opened on 3 March 2025."}]
    agent, backend = make_agent([*search("Halden tram line length"), "12 km [1]."], tmp_path)
    events = await run(agent, "and how long is it?", history=history)
    query_prompt = backend.requests[1].messages[-1]["content"]
    assert "Earlier: user: When did the tram line open?" in query_prompt
    assert query_prompt.endswith("Question: and how long is it?")
    # the question is searched as asked too; the model's query carries the referent
    assert [e.query for e in of_type(events, "search")] == ["and how long is it?", "Halden tram line length"]
    assert backend.requests[-1].messages[1:3] == history  # the answer sees the conversation too


async def test_sources_the_answer_does_not_cite_are_consulted_not_cited(tmp_path):
    agent, _ = make_agent([*search("Halden tram"), "I do not know."], tmp_path)
    end = (await run(agent, "tram?"))[-1]
    assert end.sources == () and end.consulted and end.consulted[0].title == "Halden tram line"


async def test_a_follow_ups_prompt_starts_with_the_first_turns_so_the_server_can_reuse_its_cache(tmp_path):
    """The answer prompt's system message is the same with sources or without, and this turn's message
    starts with its bare question (what the history will hold): the follow-up's prompt, up to the first
    question, is the first prompt's (bench/turns.py measures what that saves)."""
    first = "When did the tram line open?"
    agent, backend = make_agent([*search("Halden tram line opening"), "It opened on 3 March 2025 [1]."], tmp_path)
    end = (await run(agent, first))[-1]
    sent = backend.requests[-1].messages
    assert sent[-1]["content"].startswith(first + "\n\nSources:\n<sources>\n")
    assert sent[-1]["content"].endswith(f"</sources>\n\nQuestion: {first}")
    history = [{"role": "user", "content": first}, {"role": "assistant", "content": end.answer}]
    agent, backend = make_agent([ANSWER, "You are welcome."], tmp_path)
    await run(agent, "Thanks!", history=history)
    follow_up = backend.requests[-1].messages
    assert follow_up[0] == sent[0] and follow_up[1:3] == history and follow_up[-1]["content"] == "Thanks!"
