"""One question in, a streamed answer out (the agent pipeline takes this over later)."""

from __future__ import annotations

from typing import TextIO

from tansuo.errors import LLMError
from tansuo.llm import ChatRequest, ChatResult, StreamEnd, TextDelta, make_backend
from tansuo.settings import Settings


async def ask_stream(settings: Settings, question: str, *, system: str, max_tokens: int,
                     out: TextIO) -> ChatResult:
    """Stream the model's answer to `out`; return the final result with usage and timings."""
    backend = make_backend(settings)
    request = ChatRequest(
        messages=[{"role": "system", "content": system}, {"role": "user", "content": question}],
        max_tokens=max_tokens, temperature=0.2,
    )
    try:
        async for event in backend.stream(request):
            if isinstance(event, TextDelta):
                out.write(event.text)
                out.flush()
            elif isinstance(event, StreamEnd):
                out.write("\n")
                return event.result
    finally:
        await backend.aclose()
    raise LLMError("the model stream ended without a result")
