"""Request and result types of the LLM seam, in the OpenAI chat format."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

TOOLS_ADAPTER = "tools"  # ChatRequest.adapter for the tool-calling fine-tune (`tansuo train tools`)
Message = dict[str, Any]  # {"role": ..., "content": ...} as in the OpenAI API
ToolChoice = Literal["auto", "none", "required"] | dict[str, Any]


@dataclass(frozen=True)
class Tool:
    """A function the model may call; `parameters` is a JSON Schema object."""

    name: str
    description: str
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})

    def to_openai(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]

    def to_openai(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": json.dumps(self.arguments)},
        }


@dataclass
class ChatRequest:
    """One chat completion request.

    `response_schema` asks for JSON that validates against it (the result's
    `parsed`); `tools` with `tool_choice` asks for tool calls.
    """

    messages: list[Message]
    max_tokens: int = 256
    temperature: float = 0.0
    seed: int | None = 0
    stop: list[str] | None = None
    tools: list[Tool] | None = None
    tool_choice: ToolChoice = "auto"
    # Several calls in one reply (OpenAI's flag). Off by default, unlike OpenAI: asked for a list,
    # a small model tends to repeat one call.
    parallel_tool_calls: bool = False
    response_schema: dict[str, Any] | None = None
    model: str | None = None  # default: the backend's configured model
    extra_body: dict[str, Any] | None = None  # server-specific fields, e.g. llama.cpp's ignore_eos
    # A fine-tune this request is for: "tools" (the planner's route and fill prompts). The embedded
    # backend applies its tool adapter to these and to requests with tools, and to nothing else;
    # other backends ignore it (serve a merged model there instead).
    adapter: str | None = None
    adapter_scale: float = 1.0  # how strongly it applies (llama-server's per-request LoRA scale)


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass
class Timings:
    """Wall-clock timings measured by the client, in milliseconds."""

    total_ms: float = 0.0
    first_token_ms: float | None = None  # streaming only
    prompt_ms: float | None = None  # as reported by the server, when it does
    generation_ms: float | None = None

    def per_second(self, usage: Usage) -> dict[str, float | None]:
        def rate(n: int, ms: float | None) -> float | None:
            return n / (ms / 1000) if ms else None

        return {
            "prompt_tokens_per_s": rate(usage.prompt_tokens, self.prompt_ms),
            "generation_tokens_per_s": rate(usage.completion_tokens, self.generation_ms),
        }


@dataclass
class ChatResult:
    content: str
    finish_reason: str
    model: str
    usage: Usage
    timings: Timings
    tool_calls: list[ToolCall] = field(default_factory=list)
    parsed: Any = None  # the decoded JSON when `response_schema` was given

    def to_message(self) -> Message:
        """This result as the assistant message to append to a conversation."""
        msg: Message = {"role": "assistant", "content": self.content or None}
        if self.tool_calls:
            msg["tool_calls"] = [c.to_openai() for c in self.tool_calls]
        return msg


@dataclass(frozen=True)
class TextDelta:
    """A piece of streamed answer text."""

    text: str


@dataclass(frozen=True)
class StreamEnd:
    """Last event of every stream: the whole result, usage and timings included."""

    result: ChatResult


StreamEvent = TextDelta | StreamEnd
