"""The LLM seam: the one interface the rest of Tansuo talks to."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol, runtime_checkable

from tansuo.llm.types import ChatRequest, ChatResult, StreamEvent


@runtime_checkable
class LLMBackend(Protocol):
    """Chat completion in the OpenAI message format.

    `chat` returns the whole result; `stream` yields `TextDelta`s and ends with
    one `StreamEnd` carrying the same result. Both raise `tansuo.errors.LLMError`
    subclasses for failures the caller must see.
    """

    @property
    def tool_adapter(self) -> Path | None:
        """The LoRA adapter the backend applies to tool requests (None: the model alone)."""
        ...

    async def ready(self) -> None:
        """Raise when the backend cannot serve (for /readyz): the embedded one is started (and restarted
        when it died) and asked for its models; a served one is asked for its models."""
        ...

    async def chat(self, request: ChatRequest) -> ChatResult: ...

    def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]: ...

    async def aclose(self) -> None: ...
