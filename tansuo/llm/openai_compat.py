"""Backend for any OpenAI-compatible chat server (vLLM, llama-server, ...), over httpx.

Wire format only: the endpoint and key are passed in. Connection errors and
5xx are retried; everything else maps to a typed `LLMError`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, Literal

import httpx

from tansuo.errors import (
    BackendError,
    BackendTimeout,
    BackendUnavailable,
    InvalidOutput,
    LLMError,
    UnknownModel,
)
from tansuo.llm.errors import error_from_response
from tansuo.llm.output import OutputPlan, decode_output, plan_output
from tansuo.llm.types import (
    ChatRequest,
    ChatResult,
    StreamEnd,
    StreamEvent,
    TextDelta,
    Timings,
    ToolCall,
    Usage,
)
from tansuo.llm.wire import StopCutter, cut_at_stops, split_stops, wire_schema

Dialect = Literal["auto", "vllm", "llama.cpp", "openai"]
_RETRY_BACKOFF_S = 0.25
# At temperature 0 llama-server still runs its whole sampler chain (penalties, DRY,
# top-k 40, top-p, min-p, ...) over the vocabulary before taking the argmax; asking for
# top-k 1 alone gives the same token and ~15% more tokens/s on 2 cores.
GREEDY_LLAMA_CPP = {"samplers": ["top_k"], "top_k": 1}


class OpenAIBackend:
    """Chat completions against ``{base_url}/chat/completions``."""

    def __init__(
        self,
        base_url: str,
        *,
        model: str | None = None,
        api_key: str | None = None,
        dialect: Dialect = "auto",
        timeout_s: float = 120.0,
        connect_timeout_s: float = 5.0,
        max_retries: int = 2,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.max_retries = max_retries
        self._dialect = dialect
        self._served: list[str] | None = None
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s),
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    @property
    def tool_adapter(self) -> Path | None:
        return None  # a served model's adapters are the server's business

    async def ready(self) -> None:
        await self.served_models()

    async def served_models(self) -> list[str]:
        """Model ids the server lists; learns the server dialect on the way."""
        if self._served is None:
            resp = await self._send("GET", "/models")
            if resp.status_code == 404:  # server without a models endpoint
                self._served, owners = [], set()
            else:
                _raise_for_status(resp)
                with _malformed("/models"):
                    data = resp.json().get("data", [])
                    self._served = [m["id"] for m in data]
                    owners = {str(m.get("owned_by", "")).lower() for m in data}
            if self._dialect == "auto":
                self._dialect = _dialect_from_owners(owners)
        return self._served

    async def chat(self, request: ChatRequest) -> ChatResult:
        plan, body = await self._prepare(request, stream=False)
        held = split_stops(request.stop, self._dialect)[1]
        started = time.perf_counter()
        resp = await self._send("POST", "/chat/completions", json=body)
        _raise_for_status(resp)
        with _malformed("/chat/completions"):
            data = resp.json()
            choice = data["choices"][0]
            content, finish = choice["message"].get("content") or "", choice.get("finish_reason") or "stop"
            usage, timings = _usage(data), _server_timings(data)
        content, stopped = cut_at_stops(content, held)
        finish = "stop" if stopped else finish
        timings.total_ms = (time.perf_counter() - started) * 1000
        return _result(plan, data.get("model", body["model"]), content, finish, usage, timings,
                       _native_calls(choice["message"]))

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        plan, body = await self._prepare(request, stream=True)
        started = time.perf_counter()
        state = _StreamState(model=body["model"], cutter=StopCutter(split_stops(request.stop, self._dialect)[1]))
        async with self._open_stream(body) as resp:
            async for chunk in _sse_chunks(resp):
                with _malformed("the stream"):
                    text = state.absorb(chunk)
                if text:
                    if state.first_token_ms is None:
                        state.first_token_ms = (time.perf_counter() - started) * 1000
                    if plan.schema is None:  # constrained JSON is decoded whole, at the end
                        yield TextDelta(text)
                if state.cutter.hit:  # a stop the server was not sent: closing the stream ends the request
                    break
        tail = state.close()
        if tail and plan.schema is None:
            yield TextDelta(tail)
        timings = state.timings
        timings.total_ms = (time.perf_counter() - started) * 1000
        timings.first_token_ms = state.first_token_ms
        if timings.generation_ms is None and state.first_token_ms is not None:
            timings.generation_ms = timings.total_ms - state.first_token_ms
        yield StreamEnd(_result(plan, state.model, "".join(state.parts), state.finish_reason,
                                state.usage, timings, []))

    async def _prepare(self, request: ChatRequest, *, stream: bool) -> tuple[OutputPlan, dict[str, Any]]:
        plan = plan_output(request)
        model = await self._check_model(request.model or self.model)
        body: dict[str, Any] = {
            "model": model,
            "messages": list(plan.messages),
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "stream": stream,
        }
        if request.seed is not None:
            body["seed"] = request.seed
        if request.stop:
            body["stop"] = split_stops(request.stop, self._dialect)[0]
        if stream:
            body["stream_options"] = {"include_usage": True}
        if plan.schema is not None:
            body["response_format"] = response_format(self._dialect, wire_schema(plan.schema, self._dialect))
        if request.temperature == 0 and self._dialect == "llama.cpp":
            body.update(GREEDY_LLAMA_CPP)
        body.update(request.extra_body or {})
        return plan, body

    async def _check_model(self, model: str | None) -> str:
        served = await self.served_models()
        if model is None:
            if not served:
                raise LLMError(f"no model configured and {self.base_url} lists none")
            return served[0]
        if served and model not in served:
            raise UnknownModel(f"model {model!r} is not served by {self.base_url}; it serves: {', '.join(served)}")
        return model

    async def _send(self, method: str, path: str, *, stream: bool = False, **kwargs: Any) -> httpx.Response:
        """Send with retries on connection errors and 5xx; the last answer is returned."""
        request = self._client.build_request(method, path, **kwargs)
        for attempt in range(self.max_retries + 1):
            try:
                resp = await self._send_once(request, stream)
            except httpx.TransportError as exc:
                error = _map_transport_error(exc, self.base_url)
                if isinstance(error, BackendTimeout) or attempt == self.max_retries:
                    raise error from None
            else:
                if resp.status_code < 500 or attempt == self.max_retries:
                    return resp
                await resp.aclose()
            await asyncio.sleep(_RETRY_BACKOFF_S * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send_once(self, request: httpx.Request, stream: bool) -> httpx.Response:
        """One send; a kept-alive connection the server had closed (llama-server's HTTP library
        closes them after a number of requests) fails before the request was read, so it is sent
        again at once on a new connection, retries or not."""
        try:
            return await self._client.send(request, stream=stream)
        except httpx.RemoteProtocolError as exc:
            if "without sending a response" not in str(exc):
                raise
            return await self._client.send(request, stream=stream)

    @asynccontextmanager
    async def _open_stream(self, body: dict[str, Any]) -> AsyncIterator[httpx.Response]:
        resp = await self._send("POST", "/chat/completions", stream=True, json=body)
        try:
            if resp.status_code >= 400:
                await resp.aread()
                _raise_for_status(resp)
            yield resp
        except httpx.TransportError as exc:  # the server went away mid-stream
            raise _map_transport_error(exc, self.base_url) from None
        finally:
            await resp.aclose()


@contextmanager
def _malformed(where: str) -> Iterator[None]:
    """A reply that is not the OpenAI shape is the server's fault, reported as such."""
    try:
        yield
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        raise BackendError(f"model server sent a malformed answer on {where}: "
                           f"{type(exc).__name__}: {exc}") from None


def response_format(dialect: str, schema: dict[str, Any]) -> dict[str, Any]:
    """The constrained-output request each server understands."""
    if dialect == "llama.cpp":
        return {"type": "json_object", "schema": schema}
    return {"type": "json_schema", "json_schema": {"name": "output", "schema": schema, "strict": True}}


def _dialect_from_owners(owners: set[str]) -> str:
    if "llamacpp" in owners or "llama.cpp" in owners:
        return "llama.cpp"
    if "vllm" in owners:
        return "vllm"
    return "openai"


def _map_transport_error(exc: httpx.TransportError, url: str) -> LLMError:
    if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.ConnectTimeout):
        return BackendTimeout(f"model server at {url} did not answer in time ({type(exc).__name__})")
    return BackendUnavailable(f"cannot reach the model server at {url}: {exc or type(exc).__name__}")


def _raise_for_status(resp: httpx.Response) -> None:
    if resp.status_code >= 500:
        raise BackendError(f"model server failed with HTTP {resp.status_code}: {resp.text[:300]}")
    if resp.status_code >= 400:
        raise error_from_response(resp.status_code, resp.text)


def _usage(data: dict[str, Any]) -> Usage:
    u = data.get("usage") or {}
    return Usage(prompt_tokens=u.get("prompt_tokens", 0), completion_tokens=u.get("completion_tokens", 0))


def _server_timings(data: dict[str, Any]) -> Timings:
    """llama-server reports its own prompt and generation times."""
    t = data.get("timings") or {}
    return Timings(prompt_ms=t.get("prompt_ms"), generation_ms=t.get("predicted_ms"))


def _native_calls(message: dict[str, Any]) -> list[ToolCall]:
    calls = []
    for raw in message.get("tool_calls") or []:
        fn = raw.get("function", {})
        try:
            args = json.loads(fn.get("arguments") or "{}")
        except json.JSONDecodeError as exc:
            raise InvalidOutput(f"tool call {fn.get('name')!r} has arguments that are not JSON: {exc.msg}") from None
        calls.append(ToolCall(id=raw.get("id", ""), name=fn.get("name", ""), arguments=args))
    return calls


def _result(plan: OutputPlan, model: str, content: str, finish: str, usage: Usage,
            timings: Timings, native_calls: list[ToolCall]) -> ChatResult:
    parsed, calls, text = decode_output(plan, content, finish)
    calls = calls or native_calls
    return ChatResult(content=text, finish_reason="tool_calls" if calls else finish, model=model,
                      usage=usage, timings=timings, tool_calls=calls, parsed=parsed)


class _StreamState:
    """Accumulates a streamed completion."""

    def __init__(self, model: str, cutter: StopCutter) -> None:
        self.model = model
        self.cutter = cutter
        self.deltas = 0
        self.parts: list[str] = []
        self.finish_reason = "stop"
        self.usage = Usage()
        self.timings = Timings()
        self.first_token_ms: float | None = None

    def absorb(self, chunk: dict[str, Any]) -> str:
        if chunk.get("usage"):
            self.usage = _usage(chunk)
        if chunk.get("timings"):
            self.timings = _server_timings(chunk)
        self.model = chunk.get("model") or self.model
        text = ""
        for choice in chunk.get("choices") or []:
            text += (choice.get("delta") or {}).get("content") or ""
            self.finish_reason = choice.get("finish_reason") or self.finish_reason
        self.deltas += bool(text)
        text = self.cutter.feed(text) if self.cutter.stops else text
        if text:
            self.parts.append(text)
        if self.cutter.hit:
            self.finish_reason = "stop"
        return text

    def close(self) -> str:
        """What the stop cutter still held back (the stream ended without a stop). A stream closed
        at a stop of our own ends before the server's usage chunk: its pieces stand in for tokens
        (a server streams one token per piece), so budgets and metrics still count them."""
        tail = self.cutter.flush() if self.cutter.stops else ""
        if tail:
            self.parts.append(tail)
        if self.cutter.hit and not self.usage.completion_tokens:
            self.usage = Usage(self.usage.prompt_tokens, self.deltas)
        return tail


async def _sse_chunks(resp: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    async for line in resp.aiter_lines():
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if payload == "[DONE]":
            return
        with _malformed("the stream"):
            chunk = json.loads(payload)
        if isinstance(chunk, dict) and "error" in chunk:
            raise error_from_response(400, payload)
        yield chunk
