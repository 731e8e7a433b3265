"""The backend contract, run against the embedded backend and the openai backend
pointed at a real llama-server on 127.0.0.1, both with the real GGUF model."""

from __future__ import annotations

import asyncio
import time

import jsonschema
import pytest

from tansuo.errors import ContextOverflow, UnknownModel
from tansuo.llm import ChatRequest, StreamEnd, TextDelta, Tool

pytestmark = pytest.mark.model

WEATHER = Tool(
    name="get_weather",
    description="Current weather for a city.",
    parameters={
        "type": "object",
        "properties": {
            "city": {"type": "string", "minLength": 1},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["city", "unit"],
        "additionalProperties": False,
    },
)
CONVERT = Tool(
    name="convert_units",
    description="Convert a quantity between units.",
    parameters={
        "type": "object",
        "properties": {"value": {"type": "number"}, "from_unit": {"type": "string"}, "to_unit": {"type": "string"}},
        "required": ["value", "from_unit", "to_unit"],
    },
)


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


async def test_plain_chat(backend):
    result = await backend.chat(ChatRequest(messages=user("Name three colours of the rainbow."), max_tokens=32))
    assert result.content.strip()
    assert result.finish_reason in {"stop", "length"}
    assert result.usage.prompt_tokens > 5
    assert 0 < result.usage.completion_tokens <= 32
    assert result.timings.total_ms > 0
    assert result.tool_calls == [] and result.parsed is None


async def test_streaming_matches_final_result(backend):
    deltas, ends = [], []
    async for event in backend.stream(ChatRequest(messages=user("Count from one to ten in words."), max_tokens=40)):
        (deltas if isinstance(event, TextDelta) else ends).append(event)
    assert len(ends) == 1 and isinstance(ends[0], StreamEnd)
    result = ends[0].result
    assert len(deltas) > 3, "a stream arrives in pieces"
    assert "".join(d.text for d in deltas) == result.content
    assert result.usage.completion_tokens > 3
    assert 0 < result.timings.first_token_ms <= result.timings.total_ms


async def test_forced_tool_call_validates_against_the_tool_schema(backend):
    request = ChatRequest(
        messages=user("What's the weather like in Paris right now, in celsius?"),
        tools=[WEATHER, CONVERT],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        max_tokens=64,
    )
    result = await backend.chat(request)
    assert result.finish_reason == "tool_calls"
    [call] = result.tool_calls
    assert call.name == "get_weather" and call.id.startswith("call_")
    jsonschema.validate(call.arguments, WEATHER.parameters)
    assert result.to_message()["tool_calls"][0]["function"]["name"] == "get_weather"


async def test_required_tool_choice_picks_one_of_the_offered_tools(backend):
    request = ChatRequest(messages=user("Convert 5 miles to kilometres."), tools=[WEATHER, CONVERT],
                          tool_choice="required", max_tokens=64)
    [call] = (await backend.chat(request)).tool_calls
    tool = {"get_weather": WEATHER, "convert_units": CONVERT}[call.name]
    jsonschema.validate(call.arguments, tool.parameters)


async def test_json_schema_output_validates(backend):
    schema = {
        "type": "object",
        "properties": {
            "answer": {"type": "string", "minLength": 1, "maxLength": 200},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "needs_search": {"type": "boolean"},
            "queries": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
        },
        "required": ["answer", "confidence", "needs_search", "queries"],
        "additionalProperties": False,
    }
    request = ChatRequest(messages=user("Who wrote Hamlet? Reply in JSON."), response_schema=schema, max_tokens=160)
    result = await backend.chat(request)
    jsonschema.validate(result.parsed, schema)


async def test_streamed_json_schema_output_is_decoded_at_the_end(backend):
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    events = [e async for e in backend.stream(ChatRequest(messages=user("Capital of France?"),
                                                          response_schema=schema, max_tokens=40))]
    assert not any(isinstance(e, TextDelta) for e in events), "partial JSON is not streamed as text"
    jsonschema.validate(events[-1].result.parsed, schema)


async def test_unknown_model_is_a_typed_error(backend):
    with pytest.raises(UnknownModel, match="no-such-model"):
        await backend.chat(ChatRequest(messages=user("hi"), model="no-such-model"))


async def test_context_overflow_is_a_typed_error(backend):
    long_prompt = "Summarise this. " + " ".join(f"word{i}" for i in range(3000))
    with pytest.raises(ContextOverflow, match="context"):
        await backend.chat(ChatRequest(messages=user(long_prompt), max_tokens=16))
    with pytest.raises(ContextOverflow):
        async for _ in backend.stream(ChatRequest(messages=user(long_prompt), max_tokens=16)):
            pass


async def test_concurrent_streams_are_not_serialized(backend):
    """Every stream's first token arrives before the others finish: one decode batch, not a queue."""
    started = time.perf_counter()
    first: dict[int, float] = {}
    done: dict[int, float] = {}

    async def run(i: int) -> None:
        request = ChatRequest(messages=user(f"Write a short story about robot number {i}."), max_tokens=48)
        async for event in backend.stream(request):
            if isinstance(event, TextDelta):
                first.setdefault(i, time.perf_counter() - started)
        done[i] = time.perf_counter() - started

    await asyncio.gather(*(run(i) for i in range(4)))
    assert len(done) == 4
    assert max(first.values()) < min(done.values())
