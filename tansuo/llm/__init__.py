"""The LLM backend seam and its implementations."""

from tansuo.llm.factory import make_backend
from tansuo.llm.protocol import LLMBackend
from tansuo.llm.types import (
    TOOLS_ADAPTER,
    ChatRequest,
    ChatResult,
    Message,
    StreamEnd,
    StreamEvent,
    TextDelta,
    Timings,
    Tool,
    ToolCall,
    Usage,
)

__all__ = [
    "TOOLS_ADAPTER", "ChatRequest", "ChatResult", "LLMBackend", "Message", "StreamEnd", "StreamEvent",
    "TextDelta", "Timings", "Tool", "ToolCall", "Usage", "make_backend",
]
