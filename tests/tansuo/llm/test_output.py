"""Structured output and tool-call decoding, through the scripted backend (no model)."""

from __future__ import annotations

import pytest

from tansuo.errors import BadRequest, InvalidOutput, LLMError
from tansuo.llm import ChatRequest, StreamEnd, TextDelta, Tool
from tansuo.llm.testing import ScriptedBackend

ADD = Tool("add", "Add two integers.", {
    "type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"],
})
MSG = [{"role": "user", "content": "what is 2 + 3?"}]


async def test_tool_call_is_decoded_and_tools_are_described_to_the_model():
    backend = ScriptedBackend([{"name": "add", "arguments": {"a": 2, "b": 3}}])
    result = await backend.chat(ChatRequest(messages=MSG, tools=[ADD], tool_choice="required"))
    [call] = result.tool_calls
    assert (call.name, call.arguments, result.finish_reason) == ("add", {"a": 2, "b": 3}, "tool_calls")
    assert len(backend.requests) == 1


async def test_tool_prompt_is_merged_into_an_existing_system_message():
    from tansuo.llm.output import plan_output

    plan = plan_output(ChatRequest(messages=[{"role": "system", "content": "Be brief."}, *MSG],
                                   tools=[ADD], tool_choice="auto"))
    assert [m["role"] for m in plan.messages] == ["system", "user"]
    assert plan.messages[0]["content"].startswith("Be brief.") and '"a"' in plan.messages[0]["content"]
    assert {"name", "arguments"} <= set(plan.schema["anyOf"][0]["properties"])


async def test_auto_tool_choice_may_answer_in_text():
    result = await ScriptedBackend([{"content": "Five."}]).chat(ChatRequest(messages=MSG, tools=[ADD]))
    assert result.tool_calls == [] and result.content == "Five." and result.finish_reason == "stop"


async def test_a_broken_tool_call_raises_instead_of_passing_as_no_call():
    backend = ScriptedBackend([{"name": "add", "arguments": {"a": "two"}}, '{"name": "add", "argu'])
    with pytest.raises(InvalidOutput, match="does not match"):
        await backend.chat(ChatRequest(messages=MSG, tools=[ADD], tool_choice="required"))
    with pytest.raises(InvalidOutput, match="not JSON"):
        await backend.chat(ChatRequest(messages=MSG, tools=[ADD], tool_choice="required"))


async def test_tool_choice_naming_a_missing_tool_is_a_bad_request():
    with pytest.raises(BadRequest, match="'mul'"):
        await ScriptedBackend(["x"]).chat(ChatRequest(messages=MSG, tools=[ADD], tool_choice={"name": "mul"}))


async def test_tools_and_response_schema_together_are_refused():
    with pytest.raises(BadRequest, match="either"):
        await ScriptedBackend(["x"]).chat(ChatRequest(messages=MSG, tools=[ADD], response_schema={"type": "object"}))


async def test_tool_choice_none_means_plain_text():
    result = await ScriptedBackend(["just text"]).chat(ChatRequest(messages=MSG, tools=[ADD], tool_choice="none"))
    assert result.content == "just text" and result.parsed is None


async def test_scripted_stream_reassembles_the_text_exactly():
    events = [e async for e in ScriptedBackend(["two  spaces and\nnewline"]).stream(ChatRequest(messages=MSG))]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "two  spaces and\nnewline"
    assert isinstance(events[-1], StreamEnd)


async def test_scripted_backend_out_of_replies_is_an_llm_error():
    with pytest.raises(LLMError):
        await ScriptedBackend([]).chat(ChatRequest(messages=MSG))


async def test_parallel_tool_calls_decode_every_call_and_cap_the_list():
    from tansuo.llm.output import MAX_PARALLEL_CALLS, plan_output

    two = {"calls": [{"name": "add", "arguments": {"a": 2, "b": 3}}, {"name": "add", "arguments": {"a": 4, "b": 5}}]}
    backend = ScriptedBackend([two, {"content": "None fits."}])
    result = await backend.chat(ChatRequest(messages=MSG, tools=[ADD], parallel_tool_calls=True))
    assert [c.arguments for c in result.tool_calls] == [{"a": 2, "b": 3}, {"a": 4, "b": 5}]
    assert len({c.id for c in result.tool_calls}) == 2 and result.finish_reason == "tool_calls"
    answered = await backend.chat(ChatRequest(messages=MSG, tools=[ADD], parallel_tool_calls=True))
    assert answered.tool_calls == [] and answered.content == "None fits."
    plan = plan_output(ChatRequest(messages=MSG, tools=[ADD], tool_choice="required", parallel_tool_calls=True))
    assert plan.schema["properties"]["calls"]["maxItems"] == MAX_PARALLEL_CALLS and '"calls"' in plan.messages[0]["content"]
    looped = {"calls": [{"name": "add", "arguments": {"a": 1, "b": 1}}, {"name": "add", "arguments": {"b": 2, "a": 2}},
                        {"name": "add", "arguments": {"a": 1, "b": 1}}, {"name": "add", "arguments": {"a": 2, "b": 2}}]}
    deduped = await ScriptedBackend([looped]).chat(ChatRequest(messages=MSG, tools=[ADD], parallel_tool_calls=True))
    assert [c.arguments for c in deduped.tool_calls] == [{"a": 1, "b": 1}, {"b": 2, "a": 2}]  # repeats dropped
    too_many = {"calls": [{"name": "add", "arguments": {"a": 1, "b": i}} for i in range(MAX_PARALLEL_CALLS + 1)]}
    with pytest.raises(InvalidOutput, match="does not match"):
        await ScriptedBackend([too_many]).chat(ChatRequest(messages=MSG, tools=[ADD], parallel_tool_calls=True))
