"""Map a server's error answer to a typed error, whatever server sent it."""

from __future__ import annotations

import json
import re

from tansuo.errors import BadRequest, ContextOverflow, LLMError, UnknownModel

# llama-server: "exceed_context_size_error" / "exceeds the available context size";
# vLLM: "This model's maximum context length is N tokens".
_CONTEXT = re.compile(r"context (size|length|window)|exceed_context|too many tokens|prompt is too long", re.I)
_MODEL = re.compile(r"model .*(does not exist|not found)|model_not_found|unknown model", re.I)


def error_from_response(status: int, text: str) -> LLMError:
    message, kind = _message_of(text)
    probe = f"{kind} {message}"
    if _CONTEXT.search(probe):
        return ContextOverflow(f"prompt and completion do not fit the model's context: {message}")
    if status == 404 or _MODEL.search(probe):
        return UnknownModel(f"model not served: {message}")
    return BadRequest(f"model server rejected the request (HTTP {status}): {message}")


def _message_of(text: str) -> tuple[str, str]:
    try:
        body = json.loads(text)
    except json.JSONDecodeError:
        return text.strip()[:300] or "no details", ""
    err = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(err, dict):
        return str(err.get("message") or err.get("detail") or err)[:500], str(err.get("type", ""))
    return str(err)[:500], ""
