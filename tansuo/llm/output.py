"""Structured output: JSON-schema-constrained answers and tool calls built on them.

Small models served by llama.cpp (SmolLM2 among them) emit no native tool
calls, so a tool call is asked for as JSON constrained to
``{"name": <const>, "arguments": <the tool's parameters>}`` and turned into a
`ToolCall` here. Decoding never guesses: output that does not validate raises
`InvalidOutput` rather than passing as "no tool call".
"""

from __future__ import annotations

import functools
import json
import uuid
from dataclasses import dataclass
from typing import Any

import jsonschema

from tansuo.errors import BadRequest, InvalidOutput
from tansuo.llm.types import ChatRequest, Message, Tool, ToolCall

_ANSWER_KEY = "content"
_CALLS_KEY = "calls"
MAX_PARALLEL_CALLS = 8  # bounds a reply that repeats itself


@dataclass(frozen=True)
class OutputPlan:
    """What to ask the server for, and how to read its reply."""

    schema: dict[str, Any] | None  # JSON Schema the output must follow, if any
    tools: tuple[Tool, ...] = ()  # non-empty: the output is a tool call (or a plain answer)
    messages: tuple[Message, ...] = ()


def plan_output(request: ChatRequest) -> OutputPlan:
    """Turn `tools`/`tool_choice`/`response_schema` into one output schema."""
    tools = _offered_tools(request)
    if tools and request.response_schema is not None:
        raise BadRequest("give either tools or response_schema, not both")
    if not tools:
        return OutputPlan(schema=request.response_schema, messages=tuple(request.messages))
    options = [_call_schema(t) for t in tools]
    if request.parallel_tool_calls:
        calls = options[0] if len(options) == 1 else {"anyOf": options}
        options = [{"type": "object", "required": [_CALLS_KEY],
                    "properties": {_CALLS_KEY: {"type": "array", "items": calls, "minItems": 1,
                                                "maxItems": MAX_PARALLEL_CALLS}}}]
    if request.tool_choice == "auto":
        options.append({
            "type": "object",
            "properties": {_ANSWER_KEY: {"type": "string"}},
            "required": [_ANSWER_KEY],
        })
    schema = options[0] if len(options) == 1 else {"anyOf": options}
    messages = _with_tool_prompt(request.messages, tools, request.tool_choice, request.parallel_tool_calls)
    return OutputPlan(schema=schema, tools=tuple(tools), messages=tuple(messages))


def decode_output(plan: OutputPlan, content: str, finish_reason: str) -> tuple[Any, list[ToolCall], str]:
    """Return (parsed JSON, tool calls, answer text) for a constrained reply."""
    if plan.schema is None:
        return None, [], content
    if finish_reason == "length":
        raise InvalidOutput("structured output was cut off at max_tokens; raise max_tokens")
    try:
        data = json.loads(content)
    except json.JSONDecodeError as exc:
        raise InvalidOutput(f"model output is not JSON ({exc.msg}): {content[:200]!r}") from None
    error = jsonschema.exceptions.best_match(schema_validator(plan.schema).iter_errors(data))
    if error is not None:
        raise InvalidOutput(f"model output does not match the schema: {error.message}")
    if not plan.tools:
        return data, [], content
    if _ANSWER_KEY in data and "name" not in data and _CALLS_KEY not in data:
        return data, [], data[_ANSWER_KEY]
    calls = [ToolCall(id=f"call_{uuid.uuid4().hex[:24]}", name=c["name"], arguments=c["arguments"])
             for c in _distinct(data.get(_CALLS_KEY, [data]))]
    return data, calls, ""


def _distinct(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop repeats of an identical call: a small model asked for a list tends to loop over the same
    calls until the cap, and a second identical call adds nothing."""
    seen: set[str] = set()
    out = []
    for call in calls:
        key = json.dumps(call, sort_keys=True)
        if key not in seen:
            seen.add(key)
            out.append(call)
    return out


def schema_validator(schema: dict[str, Any]) -> jsonschema.protocols.Validator:
    """The validator for `schema`, built once per distinct schema (`jsonschema.validate` checks the
    schema itself on every call, which costs far more than checking a value)."""
    return _validator(json.dumps(schema, sort_keys=True))


@functools.lru_cache(maxsize=256)
def _validator(schema_json: str) -> jsonschema.protocols.Validator:
    """A validator per schema, built once: checking the schema itself costs more than the output."""
    schema = json.loads(schema_json)
    return jsonschema.validators.validator_for(schema)(schema)


def _offered_tools(request: ChatRequest) -> list[Tool]:
    tools = list(request.tools or [])
    choice = request.tool_choice
    if not tools or choice == "none":
        return []
    if isinstance(choice, dict):
        wanted = choice.get("function", {}).get("name") or choice.get("name")
        chosen = [t for t in tools if t.name == wanted]
        if not chosen:
            raise BadRequest(f"tool_choice names {wanted!r}, which is not among the tools given")
        return chosen
    if choice not in ("auto", "required"):
        raise BadRequest(f"tool_choice must be auto, none, required or a named function, not {choice!r}")
    return tools


def _call_schema(tool: Tool) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"name": {"const": tool.name}, "arguments": tool.parameters},
        "required": ["name", "arguments"],
    }


def _with_tool_prompt(messages: list[Message], tools: list[Tool], choice: Any, parallel: bool) -> list[Message]:
    """Describe the tools in a system message: the chat template won't."""
    if parallel:
        lines = ['You can call these tools. To call them, reply with JSON {"calls": [{"name": <tool name>, '
                 '"arguments": {...}}, ...]}: one entry per call, several when the request asks for several.']
    else:
        lines = ["You can call these tools. To call one, reply with JSON "
                 '{"name": <tool name>, "arguments": {...}}.']
    if choice == "auto":
        lines.append('If no tool fits, reply with JSON {"content": <your answer>}.')
    for tool in tools:
        lines.append(f"- {tool.name}: {tool.description} Arguments schema: {json.dumps(tool.parameters)}")
    text = "\n".join(lines)
    if messages and messages[0].get("role") == "system":
        first = dict(messages[0], content=f"{messages[0].get('content') or ''}\n\n{text}".strip())
        return [first, *messages[1:]]
    return [{"role": "system", "content": text}, *messages]
