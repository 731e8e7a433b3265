"""The chat API: OpenAI-compatible chat completions (JSON or server-sent events), the served model,
and the caller's own conversations."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from tansuo.agent.events import AnswerRevised
from tansuo.errors import TansuoError
from tansuo.server.chat import TurnStep, is_delta
from tansuo.server.deps import PartsDep, owner_of
from tansuo.server.errors import ApiError, as_api_error
from tansuo.server.gate import QueueFull
from tansuo.server.parts import Parts
from tansuo.server.protocol import ChatCompletion, CompletionRequest, chunk, completion, completion_id, error_body
from tansuo.settings import Settings

router = APIRouter()


@router.post("/v1/chat/completions", tags=["chat"], summary="Chat completion (OpenAI-compatible)",
          description="JSON, or with `stream: true` server-sent events: `chat.completion.chunk` data "
                      "lines ending in `data: [DONE]`, `event: tansuo` chunks with the trace when "
                      "`tansuo_events` is true, Tansuo's extras on the chunk with `finish_reason`.",
          responses={200: {"model": ChatCompletion, "content": {"text/event-stream": {}}}})
async def chat_completions(body: CompletionRequest, request: Request, parts: PartsDep):
    question = body.messages[-1].text()
    if len(question) > parts.settings.max_question_chars:
        raise ApiError(400, f"the question is {len(question)} characters; the limit is "
                            f"{parts.settings.max_question_chars}", param="messages", code="question_too_long")
    body.profile = _profile(body.profile, request, parts.settings)
    steps = parts.chat.turn(body, owner=owner_of(request))
    try:
        first = await _first_step(steps)
    except TansuoError as exc:
        raise as_api_error(exc) from None
    if body.stream:
        return StreamingResponse(_sse(body, first, steps, parts, request), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    return JSONResponse(await _until_disconnect(request, _collect(body, first, steps, request.app)))

@router.get("/v1/models", tags=["chat"], summary="The served model")
async def models(parts: PartsDep) -> dict[str, Any]:
    settings = parts.settings
    name = settings.model_name if settings.backend == "embedded" else settings.openai_model
    return {"object": "list", "data": [{"id": name or "tansuo", "object": "model", "created": 0,
                                        "owned_by": "tansuo"}]}

@router.get("/v1/conversations/{conversation_id}", tags=["conversations"], summary="A conversation's stored turns")
async def get_conversation(conversation_id: str, request: Request, parts: PartsDep) -> dict[str, Any]:
    entries = await parts.chat.conversations.entries(owner_of(request), conversation_id)
    if not entries:
        raise ApiError(404, f"no conversation {conversation_id!r} (never started, deleted or expired)",
                       "not_found_error", code="conversation_not_found")
    return {"id": conversation_id, "messages": entries}

@router.delete("/v1/conversations/{conversation_id}", tags=["conversations"], summary="Forget a conversation")
async def delete_conversation(conversation_id: str, request: Request, parts: PartsDep) -> dict[str, Any]:
    if not await parts.chat.conversations.delete(owner_of(request), conversation_id):
        raise ApiError(404, f"no conversation {conversation_id!r}", "not_found_error",
                       code="conversation_not_found")
    return {"id": conversation_id, "deleted": True}


def _profile(asked: str | None, request: Request, settings: Settings) -> str:
    """The profile this turn runs under: the one asked for, if the key may use it (403 if not);
    else the service's default, or the key's first profile when the default is not among its own."""
    allowed = request.scope.get("state", {}).get("profiles")  # None: keys off, every profile
    if asked is not None:
        if allowed is not None and asked not in allowed:
            raise ApiError(403, f"this key may not use the profile {asked!r}; it may use: {', '.join(allowed)}",
                           "permission_error", param="profile", code="profile_not_allowed")
        return asked
    default = settings.model_profile
    return default if allowed is None or default in allowed else allowed[0]


async def _until_disconnect(request: Request, work: Awaitable[dict[str, Any]]) -> dict[str, Any]:
    """Run a non-streaming turn, cancelling it when the client goes away (nobody would read it)."""
    task = asyncio.ensure_future(work)
    while not task.done():
        await asyncio.wait({task}, timeout=0.5)
        if not task.done() and await request.is_disconnected():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            raise ApiError(499, "the client closed the request", code="client_closed")
    return task.result()


async def _first_step(steps: AsyncIterator[TurnStep]) -> TurnStep:
    """Run the turn up to its first step, so a bad request or a full queue is an HTTP error, not a
    broken stream."""
    try:
        return await anext(steps)
    except QueueFull as exc:
        raise ApiError(429, str(exc), "rate_limit_error", code="queue_full",
                       headers={"Retry-After": str(exc.retry_after_s)}) from None


async def _rest(first: TurnStep, steps: AsyncIterator[TurnStep]) -> AsyncIterator[TurnStep]:
    yield first
    async for step in steps:
        yield step


async def _collect(body: CompletionRequest, first: TurnStep, steps: AsyncIterator[TurnStep],
                   app: FastAPI) -> dict[str, Any]:
    trace = []
    task = asyncio.current_task()
    app.state.inflight.add(task)
    try:
        async for step in _rest(first, steps):
            if step.kind == "event" and not is_delta(step):
                trace.append(step.event.to_dict())
            elif step.kind == "end":
                return completion(completion_id(), body.model, step.answer, step.finish, step.usage,
                                  {**step.extras, "trace": trace})
    finally:
        app.state.inflight.discard(task)
    raise ApiError(500, "the turn ended without an answer", "server_error")


async def _sse(body: CompletionRequest, first: TurnStep, steps: AsyncIterator[TurnStep], parts: Parts,
               request: Request) -> AsyncIterator[str]:
    """OpenAI's chunks; Tansuo's trace as `event: tansuo` chunks with no choices, when asked for;
    the extras on the last chunk. A client that goes away cancels the turn (the generator closes)."""
    cid, model = completion_id(), body.model
    task = asyncio.current_task()
    request.app.state.inflight.add(task)
    try:
        yield _data(chunk(cid, model, delta={"role": "assistant", "content": ""}))
        async for step in _rest(first, steps):
            if is_delta(step):
                yield _data(chunk(cid, model, delta={"content": step.event.text}))
            elif step.kind == "event":
                if body.tansuo_events:  # first: the page withdraws a draft before the new text comes
                    yield _data(chunk(cid, model, extras={"event": step.event.to_dict()}), event="tansuo")
                if isinstance(step.event, AnswerRevised) and step.event.text:
                    yield _data(chunk(cid, model, delta={"content": step.event.text}))
            else:
                yield _data(chunk(cid, model, delta={}, finish=step.finish, extras={**step.extras,
                                                                                   "answer": step.answer}))
                if body.stream_options and body.stream_options.include_usage:
                    yield _data(chunk(cid, model, usage=step.usage))
        yield "data: [DONE]\n\n"
    except TansuoError as exc:
        yield _data(error_body(str(exc), "server_error"))
    finally:
        request.app.state.inflight.discard(task)


def _data(body: dict[str, Any], event: str | None = None) -> str:
    line = f"data: {json.dumps(body, ensure_ascii=False, default=str)}\n\n"
    return f"event: {event}\n{line}" if event else line
