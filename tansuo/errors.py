"""Typed errors the caller must see (the model never gets these).

Foreign exceptions (httpx, subprocess, pydantic) are mapped to these at the
boundary where they happen, so callers catch one family.
"""

from __future__ import annotations


class TansuoError(Exception):
    """Base of every error Tansuo raises on purpose; its message is for people."""


class ConfigError(TansuoError):
    """The configuration is invalid or names something that is not there."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


class LLMError(TansuoError):
    """A chat completion could not be produced."""


class BackendUnavailable(LLMError):
    """The model server is down, refused the connection or died."""


class BackendTimeout(LLMError):
    """The model server did not answer within the configured timeout."""


class BackendError(LLMError):
    """The model server failed (5xx) after the configured retries."""


class BadRequest(LLMError):
    """The server rejected the request; retrying the same request will not help."""


class UnknownModel(BadRequest):
    """The requested model is not served by this backend."""


class ContextOverflow(BadRequest):
    """Prompt plus requested completion do not fit the model's context."""


class InvalidOutput(LLMError):
    """The model's constrained output did not parse or validate."""
