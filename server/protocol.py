"""The wire types of the OpenAI-compatible API: what a request may hold, and the response shapes.
Unknown request fields are accepted and ignored (clients send temperature, top_p, ...), as an
OpenAI-compatible server must; Tansuo's own extras sit in `tansuo` fields a plain client ignores.
The search options and fields of Perplexity's OpenAI-compatible API are read and written too
(`search_*` filters in, `citations` and `search_results` out), so clients written for it show
Tansuo's sources."""

from __future__ import annotations

import time
import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

MAX_MESSAGES = 200


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(p.text or "" for p in self.content if p.type == "text")
        return self.content or ""


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    include_usage: bool = False


class CompletionRequest(BaseModel):
    """POST /v1/chat/completions. `conversation_id` continues a stored conversation (its history
    replaces the request's earlier messages); `tansuo_events` adds the trace to a stream."""

    model_config = ConfigDict(extra="allow")
    model: str = Field(..., min_length=1, max_length=200)
    messages: list[ChatMessage] = Field(..., min_length=1, max_length=MAX_MESSAGES, description=(
        "the conversation so far; the last message must have role `user` (the question of this turn: "
        "JSON Schema cannot say so, the server answers 400 otherwise); `tool` and `system` messages "
        "are not read"))
    stream: bool = False
    stream_options: StreamOptions | None = None
    conversation_id: str | None = Field(None, pattern=r"^[A-Za-z0-9_.:-]{1,128}$")
    profile: Literal["tools", "plugins", "agent"] | None = None
    tansuo_events: bool = False
    cache: bool = True  # False: never served from (or stored in) the answer cache
    n: int = Field(1, ge=1, le=1, description="one completion per request (the only value served)")
    max_tokens: int | None = Field(None, ge=1, description="accepted for compatibility; the turn's budget rules")
    max_completion_tokens: int | None = Field(None, ge=1)
    # Perplexity's search options, read against the documents' dates and sources (server.search_options)
    search_recency_filter: Literal["hour", "day", "week", "month", "year"] | None = Field(
        None, description="only documents dated within the last hour, day, week, month or year")
    search_domain_filter: list[Annotated[str, StringConstraints(min_length=1, max_length=300)]] | None = Field(
        None, max_length=20, description="sites or source prefixes to search (`example.com`, `/docs/`), or, "
        "with a leading `-`, to leave out (`-example.com`)")
    search_after_date_filter: date | None = Field(None, validation_alias=AliasChoices(
        "search_after_date_filter", "search_after_date"), description="only documents dated on or after "
        "(`3/1/2025` as Perplexity writes it, or `2025-03-01`)")
    search_before_date_filter: date | None = Field(None, validation_alias=AliasChoices(
        "search_before_date_filter", "search_before_date"), description="only documents dated on or before")
    return_related_questions: bool = Field(False, description="add `related_questions`: follow-ups the model "
                                           "suggests from the question and its sources")

    @field_validator("search_after_date_filter", "search_before_date_filter", mode="before")
    @classmethod
    def _us_date(cls, value: object) -> object:
        """Perplexity's month/day/year ("3/1/2025") as well as ISO dates."""
        if isinstance(value, str) and value.count("/") == 2:
            try:
                return datetime.strptime(value.strip(), "%m/%d/%Y").date()
            except ValueError:
                raise ValueError("a date as month/day/year (3/1/2025) or year-month-day (2025-03-01)") from None
        return value

    @field_validator("search_domain_filter")
    @classmethod
    def _domains(cls, entries: list[str] | None) -> list[str] | None:
        for entry in entries or ():
            if not entry.lstrip("-").strip():
                raise ValueError(f"{entry!r} names no site or source")
        return entries

    @model_validator(mode="after")
    def _date_order(self) -> CompletionRequest:
        after, before = self.search_after_date_filter, self.search_before_date_filter
        if after and before and after > before:
            raise ValueError(f"search_after_date_filter ({after}) is later than search_before_date_filter ({before})")
        return self

    @field_validator("messages")
    @classmethod
    def _ends_with_user(cls, messages: list[ChatMessage]) -> list[ChatMessage]:
        if messages[-1].role != "user":
            raise ValueError("the last message must have role 'user' (the question of this turn)")
        if not messages[-1].text().strip():
            raise ValueError("the last user message is empty")
        return messages


def completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex[:24]}"


def completion(cid: str, model: str, content: str, finish: str, usage: dict[str, int],
               extras: dict[str, Any]) -> dict[str, Any]:
    return {"id": cid, "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish,
                         "logprobs": None}],
            "usage": usage, **search_fields(extras), "tansuo": extras}


def search_fields(extras: dict[str, Any]) -> dict[str, Any]:
    """Perplexity's top-level fields from the turn's numbered sources (every one it found, cited or
    not, so that citations[i] is what [i + 1] in the answer points at): `citations` (each one's URL
    or id), `search_results` (title, url, date, snippet), and `related_questions` when asked for."""
    found = extras.get("consulted") or extras.get("sources") or []
    sources = sorted(found, key=lambda s: s.get("n", 0))
    fields: dict[str, Any] = {
        "citations": [s.get("source", "") for s in sources],
        "search_results": [{"title": s.get("title", ""), "url": s.get("source", ""),
                            "date": str(s["date"])[:10] if s.get("date") else None,
                            "snippet": s.get("snippet", ""), "source": s.get("kind", "document")} for s in sources]}
    if extras.get("related_questions") is not None:
        fields["related_questions"] = extras["related_questions"]
    return fields


def chunk(cid: str, model: str, *, delta: dict[str, Any] | None = None, finish: str | None = None,
          usage: dict[str, int] | None = None, extras: dict[str, Any] | None = None) -> dict[str, Any]:
    """A chat.completion.chunk; with no delta its choices are empty (as OpenAI's usage chunk)."""
    body: dict[str, Any] = {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()),
                            "model": model,
                            "choices": [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish,
                                                                  "logprobs": None}]}
    if usage is not None:
        body["usage"] = usage
    if extras is not None:
        body["tansuo"] = extras
        if "sources" in extras:  # the last chunk: the turn's sources, as Perplexity's stream ends with them
            body.update(search_fields(extras))
    return body


def error_body(message: str, kind: str = "invalid_request_error", *, param: str | None = None,
               code: str | None = None) -> dict[str, Any]:
    """OpenAI's error shape, which its clients turn into typed exceptions."""
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


# --- response shapes, for the OpenAPI schema (the handlers build plain dicts of these shapes) ------

class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int
    message: AssistantMessage
    finish_reason: Literal["stop", "content_filter", "length"]
    logprobs: None = None


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class Extras(BaseModel):
    """Tansuo's additions; a plain OpenAI client ignores them."""

    model_config = ConfigDict(extra="allow")
    conversation_id: str
    sources: list[dict[str, Any]] = Field(description="numbered citation targets: n, title, source, chunk_id, date")
    verdicts: list[dict[str, Any]] = Field(description="each verifier's final verdict")
    badges: list[str] = Field(description="supported, unsupported, stale, blocked, caution")
    notice: str | None = None
    cached: dict[str, Any] | None = Field(None, description="set when the answer came from the answer cache")
    timings: dict[str, float] = Field(default_factory=dict)
    trace: list[dict[str, Any]] = Field(default_factory=list, description="the turn's events (non-streaming)")


class SearchResult(BaseModel):
    title: str
    url: str = Field(description="the document's URL, path or id (a tool's result: `tool:<name>`)")
    date: str | None = Field(None, description="YYYY-MM-DD, when the document is dated")
    snippet: str
    source: Literal["document", "tool"]


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    citations: list[str] = Field(description="the numbered sources' URLs or ids; citations[i] is what [i + 1] "
                                 "in the answer cites")
    search_results: list[SearchResult]
    related_questions: list[str] | None = Field(None, description="with `return_related_questions`")
    tansuo: Extras


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorDetail


ERRORS = {status: {"model": ErrorResponse, "description": what} for status, what in (
    (400, "an invalid request (the field is named)"), (401, "an API key is missing or unknown"),
    (403, "the key may not use what was asked for (a profile)"), (404, "not found"),
    (405, "a method the service does not answer; see Allow"), (413, "the request body is too large"),
    (429, "rate limit or full model queue; see Retry-After"),
    (500, "an unexpected failure; the message has an incident id for the service log"),
    (503, "the model backend or the store is down"))}
