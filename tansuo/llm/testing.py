"""A scripted backend for fast unit tests of code built on the LLM seam.

Like httpx's MockTransport: a real `LLMBackend`, fed the model's replies in
advance. Each reply is text, or a dict/list that is sent as JSON (what a
constrained model would emit); it goes through the same decoding as a real
server's reply, so a reply that breaks the schema raises `InvalidOutput`.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

from tansuo.errors import LLMError
from tansuo.llm.output import decode_output, plan_output
from tansuo.llm.types import ChatRequest, ChatResult, StreamEnd, StreamEvent, TextDelta, Timings, Usage

Reply = str | dict[str, Any] | list[Any] | Callable[[ChatRequest], Any]


class ScriptedBackend:
    def __init__(self, replies: Iterable[Reply] = (), *, model: str = "scripted") -> None:
        self.replies = list(replies)
        self.model = model
        self.requests: list[ChatRequest] = []

    tool_adapter = None

    async def ready(self) -> None:
        return None

    async def chat(self, request: ChatRequest) -> ChatResult:
        started = time.perf_counter()
        self.requests.append(request)
        plan = plan_output(request)
        text = self._next_text(request)
        parsed, calls, answer = decode_output(plan, text, "stop")
        prompt = sum(len(str(m.get("content") or "").split()) for m in plan.messages)
        return ChatResult(
            content=answer, finish_reason="tool_calls" if calls else "stop", model=self.model,
            usage=Usage(prompt_tokens=prompt, completion_tokens=len(text.split())),
            timings=Timings(total_ms=(time.perf_counter() - started) * 1000),
            tool_calls=calls, parsed=parsed,
        )

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        result = await self.chat(request)
        if result.parsed is None:
            for piece in re.findall(r"\S+\s*|\s+", result.content):
                yield TextDelta(piece)
        yield StreamEnd(result)

    async def aclose(self) -> None:
        pass

    def _next_text(self, request: ChatRequest) -> str:
        if not self.replies:
            raise LLMError("ScriptedBackend has no reply left for this request")
        reply = self.replies.pop(0)
        if callable(reply):
            reply = reply(request)
        return reply if isinstance(reply, str) else json.dumps(reply)
