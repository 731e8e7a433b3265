"""The FastAPI app: the OpenAI-compatible chat API, conversations, plugins, plots, health, metrics
and the chat page. `create_app` takes its parts ready-made (tests pass a scripted backend) or
builds them from settings at startup (`tansuo serve`)."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route
from tansuo.server.auth import keys_required
from tansuo.server.chat import Step, is_delta
from tansuo.server.conversations import ANONYMOUS
from tansuo.server.gate import QueueFull
from tansuo.server.parts import Parts, build_parts
from tansuo.server.protocol import ERRORS, ChatCompletion, ChatRequest, chunk, completion, completion_id, error_body
from tansuo.server.readiness import backend_ready
from tansuo.server.store import StoreUnavailable, reachable

from tansuo import __version__
from tansuo.errors import BackendUnavailable, ConfigError, TansuoError
from tansuo.settings import Settings

STATIC = Path(__file__).parent / "static"
# HTTP methods the service answers; any other gets 405 before it reaches a route or a metric label
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
ALLOW = "GET, HEAD, POST, DELETE, OPTIONS"
log = logging.getLogger(__name__)


def incident(exc: BaseException, *, trace: bool = False) -> str:
    """Log what failed under a new id and return the words a client gets instead: internals (paths,
    log tails, internal URLs) stay in the service log."""
    name = uuid.uuid4().hex[:12]
    log.error("incident %s: %s: %s", name, type(exc).__name__, exc, exc_info=exc if trace else None)
    return f"incident {name}; the details are in the service log"


def owner_of(request: Request) -> str:
    """Who the request acts for: its API key's name, or ANONYMOUS (keys off, no key sent)."""
    return request.scope.get("state", {}).get("owner", ANONYMOUS)


class ApiError(Exception):
    def __init__(self, status: int, message: str, kind: str = "invalid_request_error", *, param: str | None = None,
                 code: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.kind, self.param, self.code, self.headers = status, kind, param, code, headers or {}


def create_app(settings: Settings, parts: Parts | Callable[[], Awaitable[Parts]] | None = None, *,
               stopping: Callable[[], bool] = lambda: False) -> FastAPI:
    """The app; `parts` ready-made, or a coroutine function that builds them in the app's own event
    loop at startup (default: from settings). `stopping` says a stop was asked for (SIGTERM): a
    start still building (indexing, listing plugins) is cancelled then, not finished first."""
    holder: dict[str, Parts] = {}
    inflight: set[asyncio.Task] = set()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if parts is None or callable(parts):
            built = await _until_stopped(build_parts(settings) if parts is None else parts(), stopping)
            if built is not None:
                holder["parts"] = built
        else:
            holder["parts"] = parts
        try:
            yield
        finally:  # graceful stop: in-flight turns get the grace period, then are cancelled
            if inflight:
                _, late = await asyncio.wait(inflight, timeout=settings.shutdown_grace_s)
                for task in late:
                    task.cancel()
            if "parts" in holder:
                await holder["parts"].aclose()

    # every path may answer with these (keys, rate limit, body checks and the unexpected happen
    # before any route), so every path documents them
    app = FastAPI(title="Tansuo", version=__version__, lifespan=lifespan, responses=ERRORS,
                  description="A self-hosted agentic search assistant: an OpenAI-compatible chat API whose "
                              "answers carry citations, the tool trace and the verifiers' verdicts.")
    app.state.inflight = inflight

    def p() -> Parts:
        return holder["parts"]

    _install_errors(app)
    _install_guards(app, settings, p)
    _chat_routes(app, p)
    _other_routes(app, p)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


async def _until_stopped(work: Awaitable[Parts], stopping: Callable[[], bool]) -> Parts | None:
    """`work`'s result, or None when a stop is asked for first (then `work` is cancelled)."""
    task = asyncio.ensure_future(work)
    while not task.done():
        await asyncio.wait({task}, timeout=0.2)
        if stopping() and not task.done():
            log.warning("stopped while starting: the start was cancelled")
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            return None
    return task.result()


def _install_errors(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(str(exc), exc.kind, param=exc.param, code=exc.code), exc.status,
                            headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(x) for x in first["loc"] if x != "body")
        message = first["msg"].removeprefix("Value error, ")
        return JSONResponse(error_body(f"{where}: {message}" if where else message, param=where or None,
                                       code="invalid_value"), 400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = exc.headers
        if exc.status_code == 405:  # Allow names every route on the path, not only the first one tried
            headers = {**(headers or {}), "Allow": ", ".join(_allowed(request))}
        return JSONResponse(error_body(str(exc.detail), "not_found_error" if exc.status_code == 404
                                       else "invalid_request_error"), exc.status_code, headers=headers)

    @app.exception_handler(BackendUnavailable)
    async def _backend(_: Request, exc: BackendUnavailable) -> JSONResponse:
        # its log path, log tail and URLs are for the operator: in the log, under the incident id
        return JSONResponse(error_body(f"the model backend is unavailable; retry shortly ({incident(exc)})",
                                       "server_error", code="backend_unavailable"), 503, headers={"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        # what failed stays in the log, under an id the client can quote
        return JSONResponse(error_body(f"the server failed on this request ({incident(exc, trace=True)})",
                                       "server_error", code="internal_error"), 500)

    @app.exception_handler(StoreUnavailable)
    async def _store(_: Request, exc: StoreUnavailable) -> JSONResponse:
        return JSONResponse(error_body(f"the conversation store does not answer; retry shortly ({incident(exc)})",
                                       "server_error", code="store_unavailable"), 503, headers={"Retry-After": "5"})


def _allowed(request: Request) -> list[str]:
    """The methods of every route whose path matches the request's."""
    methods = {m for route in request.app.router.routes if isinstance(route, Route)
               and route.matches(request.scope)[0] != Match.NONE for m in route.methods or ()}
    return sorted(methods)


def _install_guards(app: FastAPI, settings: Settings, p) -> None:
    """Size limit, API keys and rate limits, and request metrics, before any route runs. A plain
    ASGI middleware: it adds no task per request and leaves the client's disconnect visible to
    the routes (which cancel their turn on it)."""
    required = keys_required(settings.api_keys, settings.host)

    class Guard:
        def __init__(self, inner) -> None:
            self.inner = inner

        async def __call__(self, scope, receive, send) -> None:
            if scope["type"] != "http":
                return await self.inner(scope, receive, send)
            started = time.perf_counter()
            request = Request(scope)
            denied = _bad_method(scope["method"]) or _too_large(request, settings)
            if denied is None and scope["method"] in ("POST", "PUT", "PATCH"):
                # the body is read here, counted as it streams (a chunked body has no Content-Length),
                # checked for text that cannot be encoded, and handed on to the route as it came
                body, denied = await _read_body(receive, settings.max_request_bytes)
                if denied is None:
                    receive, denied = _replay(body, receive), _bad_text(body)
            if denied is None:
                denied = await _gatekeep(request, settings, p(), required)
            status = {}

            async def sending(message) -> None:
                if message["type"] == "http.response.start":
                    status["code"] = message["status"]
                await send(message)

            if denied is not None:
                await denied(scope, receive, sending)
            else:
                await self.inner(scope, receive, sending)
            route = getattr(scope.get("route"), "path", "other")
            metrics = p().chat.metrics
            method = scope["method"] if scope["method"] in METHODS else "other"
            metrics.count("tansuo_http_requests_total", "HTTP requests", route=route, method=method,
                          status=str(status.get("code", 0)))
            metrics.observe("tansuo_http_request_seconds", "HTTP request latency (the whole response)",
                            time.perf_counter() - started, route=route)

    app.add_middleware(Guard)


def _bad_method(method: str) -> JSONResponse | None:
    if method in METHODS:
        return None
    return JSONResponse(error_body(f"the method {method[:32]!r} is not allowed; allowed: {ALLOW}",
                                   code="method_not_allowed"), 405, headers={"Allow": ALLOW})


async def _read_body(receive, limit: int) -> tuple[bytes, JSONResponse | None]:
    """The whole body, or a 413 as soon as it passes `limit` bytes (the rest is never read)."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away: the route sees it next
            return b"".join(chunks), None
        piece = message.get("body", b"")
        size += len(piece)
        if size > limit:
            # "Connection: close": the server stops reading, rather than drain the rest unread
            return b"", JSONResponse(error_body(f"the request body is over the limit of {limit} bytes",
                                                code="request_too_large"), 413, headers={"Connection": "close"})
        chunks.append(piece)
        if not message.get("more_body", False):
            return b"".join(chunks), None


def _replay(body: bytes, receive):
    """A `receive` that gives the body read already, then whatever the client sends next."""
    given = False

    async def replayed():
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()
    return replayed


def _bad_text(body: bytes) -> JSONResponse | None:
    """400 for a JSON body whose text cannot be stored or sent back: bytes that are not UTF-8, or a
    lone UTF-16 surrogate escape ("\\ud800") anywhere in it."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return JSONResponse(error_body(f"the request body is not valid UTF-8 (byte {exc.start})",
                                       code="invalid_text"), 400)
    if "\\u" not in text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None  # not JSON: the route says so
    except RecursionError:
        return JSONResponse(error_body("the request body is nested too deeply", code="invalid_json"), 400)
    where = _lone_surrogate(value, "")
    if where is None:
        return None
    return JSONResponse(error_body(f"{where or 'the body'}: the text holds a lone UTF-16 surrogate, which is not "
                                   "valid Unicode", param=where or None, code="invalid_text"), 400)


def _lone_surrogate(value: Any, where: str) -> str | None:
    """Where in a JSON value a string cannot be encoded as UTF-8 ("messages.0.content"), or None."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return where
        return None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        inner = f"{where}.{key}" if where else str(key)
        found = _lone_surrogate(key, inner) if isinstance(key, str) else None
        found = found if found is not None else _lone_surrogate(item, inner)
        if found is not None:
            return found
    return None


def _too_large(request: Request, settings: Settings) -> JSONResponse | None:
    try:
        size = int(request.headers.get("content-length") or 0)
    except ValueError:
        size = 0
    if size > settings.max_request_bytes:
        return JSONResponse(error_body(f"the request body is {size} bytes; the limit is {settings.max_request_bytes}",
                                       code="request_too_large"), 413)
    return None


# Paths that answer without a key even when keys are on: the chat page and its files, and the probes
# an orchestrator polls (their bodies say only ready or not). Plots are named by an unguessable id.
OPEN = ("/", "/healthz", "/readyz", "/favicon.ico")
OPEN_PREFIXES = ("/static/", "/plots/")
DOCS = ("/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json")


async def _gatekeep(request: Request, settings: Settings, parts: Parts, required: bool) -> JSONResponse | None:
    """Which paths need what: the API (and anything unknown) a key when keys are on; /metrics its own
    token when one is set; the API's docs a key unless TANSUO_PUBLIC_DOCS."""
    path = request.url.path
    if path in OPEN or path.startswith(OPEN_PREFIXES) or (path in DOCS and settings.public_docs):
        return None
    if path == "/metrics" and settings.metrics_token is not None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(),
                                                              settings.metrics_token.get_secret_value().encode()):
            return None
        return JSONResponse(error_body("/metrics needs 'Authorization: Bearer <TANSUO_METRICS_TOKEN>'",
                                       "authentication_error", code="invalid_metrics_token"), 401)
    return await _admit(request, settings, parts, required)


async def _admit(request: Request, settings: Settings, parts: Parts, required: bool) -> JSONResponse | None:
    who = request.client.host if request.client else "unknown"
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    key = credentials.strip() if scheme.lower() == "bearer" else ""  # the scheme is case-insensitive (RFC 6750)
    if required or key:
        try:
            record = parts.keys.check(key) if key else None
        except ConfigError as exc:  # a damaged key file: say so, never a bare 500
            return JSONResponse(error_body(str(exc), "server_error", code="key_file_invalid"), 500)
        if required and record is None:
            message = "an API key is required: send 'Authorization: Bearer <key>'" if not key else "unknown API key"
            return JSONResponse(error_body(message, "authentication_error", code="invalid_api_key"), 401)
        who = f"key:{record.name}" if record else who
        if record is not None:
            request.state.owner = f"key:{record.name}"
            request.state.profiles = record.profiles or tuple(settings.key_profiles)
    try:
        wait = await parts.chat.conversations.store.take(f"rate:{who}", rate=settings.rate_limit_per_min / 60,
                                                         burst=settings.rate_limit_burst)
    except StoreUnavailable:
        wait = 0.0  # no store, no shared bucket: serve rather than refuse everyone
    if wait > 0:
        parts.chat.metrics.count("tansuo_rate_limited_total", "requests refused by the rate limit")
        return JSONResponse(error_body(f"rate limit: {settings.rate_limit_per_min:g} requests per minute; retry in "
                                       f"{wait:.1f} s", "rate_limit_error", code="rate_limited"), 429,
                            headers={"Retry-After": str(max(1, round(wait)))})
    return None


def _chat_routes(app: FastAPI, p) -> None:
    @app.post("/v1/chat/completions", tags=["chat"], summary="Chat completion (OpenAI-compatible)",
              description="JSON, or with `stream: true` server-sent events: `chat.completion.chunk` data "
                          "lines ending in `data: [DONE]`, `event: tansuo` chunks with the trace when "
                          "`tansuo_events` is true, Tansuo's extras on the chunk with `finish_reason`.",
              responses={200: {"model": ChatCompletion, "content": {"text/event-stream": {}}}})
    async def chat_completions(body: ChatRequest, request: Request):
        parts = p()
        question = body.messages[-1].text()
        if len(question) > parts.settings.max_question_chars:
            raise ApiError(400, f"the question is {len(question)} characters; the limit is "
                                f"{parts.settings.max_question_chars}", param="messages", code="question_too_long")
        body.profile = _profile(body.profile, request, parts.settings)
        steps = parts.chat.turn(body, owner=owner_of(request))
        try:
            first = await _first_step(steps)
        except TansuoError as exc:
            raise _as_api_error(exc) from None
        if body.stream:
            return StreamingResponse(_sse(body, first, steps, parts, request), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        return JSONResponse(await _until_disconnect(request, _collect(body, first, steps, app)))

    @app.get("/v1/models", tags=["chat"], summary="The served model")
    async def models() -> dict[str, Any]:
        name = p().settings.model_name if p().settings.backend == "embedded" else p().settings.openai_model
        return {"object": "list", "data": [{"id": name or "tansuo", "object": "model", "created": 0,
                                            "owned_by": "tansuo"}]}

    @app.get("/v1/conversations/{conversation_id}", tags=["conversations"], summary="A conversation's stored turns")
    async def get_conversation(conversation_id: str, request: Request) -> dict[str, Any]:
        entries = await p().chat.conversations.entries(owner_of(request), conversation_id)
        if not entries:
            raise ApiError(404, f"no conversation {conversation_id!r} (never started, deleted or expired)",
                           "not_found_error", code="conversation_not_found")
        return {"id": conversation_id, "messages": entries}

    @app.delete("/v1/conversations/{conversation_id}", tags=["conversations"], summary="Forget a conversation")
    async def delete_conversation(conversation_id: str, request: Request) -> dict[str, Any]:
        if not await p().chat.conversations.delete(owner_of(request), conversation_id):
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


async def _first_step(steps: AsyncIterator[Step]) -> Step:
    """Run the turn up to its first step, so a bad request or a full queue is an HTTP error, not a
    broken stream."""
    try:
        return await anext(steps)
    except QueueFull as exc:
        raise ApiError(429, str(exc), "rate_limit_error", code="queue_full",
                       headers={"Retry-After": str(exc.retry_after_s)}) from None


def _as_api_error(exc: TansuoError) -> Exception:
    if isinstance(exc, (BackendUnavailable, StoreUnavailable)):  # their own handlers: 503
        return exc
    return ApiError(400, str(exc))


async def _rest(first: Step, steps: AsyncIterator[Step]) -> AsyncIterator[Step]:
    yield first
    async for step in steps:
        yield step


async def _collect(body: ChatRequest, first: Step, steps: AsyncIterator[Step], app: FastAPI) -> dict[str, Any]:
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


async def _sse(body: ChatRequest, first: Step, steps: AsyncIterator[Step], parts: Parts,
               request: Request) -> AsyncIterator[str]:
    """OpenAI's chunks; Tansuo's trace as `event: tansuo` chunks with no choices, when asked for;
    the extras on the last chunk. A client that goes away cancels the turn (the generator closes)."""
    cid, model = completion_id(), body.model
    streamed: list[str] = []
    task = asyncio.current_task()
    request.app.state.inflight.add(task)
    try:
        yield _data(chunk(cid, model, delta={"role": "assistant", "content": ""}))
        async for step in _rest(first, steps):
            if is_delta(step):
                streamed.append(step.event.text)
                yield _data(chunk(cid, model, delta={"content": step.event.text}))
            elif step.kind == "event":
                if step.event.type == "plan" and step.event.action == "revise":
                    streamed.clear()
                if body.tansuo_events:
                    yield _data(chunk(cid, model, extras={"event": step.event.to_dict()}), event="tansuo")
            else:
                tail = _tail("".join(streamed), step.answer)
                if tail:
                    yield _data(chunk(cid, model, delta={"content": tail}))
                yield _data(chunk(cid, model, delta={}, finish=step.finish, extras={**step.extras,
                                                                                   "answer": step.answer}))
                if body.stream_options and body.stream_options.include_usage:
                    yield _data(chunk(cid, model, usage=step.usage))
        yield "data: [DONE]\n\n"
    except TansuoError as exc:
        yield _data(error_body(str(exc), "server_error"))
    finally:
        request.app.state.inflight.discard(task)


def _tail(streamed: str, final: str) -> str:
    """What to send after the streamed draft so the text reads as the checked answer: the rest of
    it when the draft is its start, else the checked answer in full, marked."""
    if final == streamed or not final.strip():
        return ""
    if final.startswith(streamed):
        return final[len(streamed):]
    return ("\n\n" if streamed.strip() else "") + ("Checked answer: " if streamed.strip() else "") + final


def _data(body: dict[str, Any], event: str | None = None) -> str:
    line = f"data: {json.dumps(body, ensure_ascii=False, default=str)}\n\n"
    return f"event: {event}\n{line}" if event else line


def _other_routes(app: FastAPI, p) -> None:
    @app.get("/v1/plugins", tags=["plugins"], summary="Built-in tools and installed plugins")
    async def plugins() -> dict[str, Any]:
        router = p().router
        tools = [{"name": s.name, "description": s.description, "kind": "builtin"}
                 for s in (router.toolbox.specs if router.toolbox is not None else [])]
        plugs = [{"name": name, "description": pl.spec.description, "kind": "plugin"}
                 for name, pl in (router.plugins or {}).items()]
        return {"object": "list", "data": tools + plugs}

    @app.get("/v1/plugins/search", tags=["plugins"], summary="Plugins whose descriptions fit a request")
    async def plugin_search(q: str = Query(..., min_length=1, max_length=2000),
                            k: int = Query(5, ge=1, le=50)) -> dict[str, Any]:
        index = p().router.plugin_index
        if index is None:
            return {"object": "list", "data": [], "abstained": True}
        result = await asyncio.to_thread(index.search, q, k)
        return {"object": "list", "abstained": result.abstained,
                "data": [{"name": h.name, "score": round(h.score, 4)} for h in result.hits]}

    @app.get("/v1/sources/{chunk_id:path}", tags=["sources"], summary="The text a citation points to")
    async def source(chunk_id: str) -> dict[str, Any]:
        index = p().index
        doc_id, _, n = chunk_id.rpartition("#")
        record = index.document(doc_id) if index is not None and doc_id else None
        chunk = next((c for c in index.chunks(doc_id) if str(c.n) == n), None) if record else None
        if chunk is None:
            raise ApiError(404, f"no indexed passage {chunk_id!r}", "not_found_error", code="source_not_found")
        return {"chunk_id": chunk_id, "document": record, "text": chunk.text}

    @app.get("/plots/{name}", tags=["plots"], summary="A plot the plot tool drew", response_class=FileResponse)
    async def plot(name: str):
        if not name.endswith(".png") or "/" in name or name.startswith("."):
            raise ApiError(404, f"no plot {name!r}", "not_found_error")
        path = p().plots_dir / name
        if not path.is_file():
            raise ApiError(404, f"no plot {name!r}", "not_found_error")
        return FileResponse(path, media_type="image/png")

    @app.get("/healthz", tags=["operations"], summary="The process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    # the last "ready" and when: /readyz needs no key, so it must not be a way to load the backend
    checked: dict[str, Any] = {}

    @app.get("/readyz", tags=["operations"], summary="The model backend and the store answer")
    async def readyz() -> JSONResponse:
        if time.monotonic() - checked.get("at", -1e9) < 2.0:
            return JSONResponse(checked["body"], 200)
        parts = p()
        problems = {}
        try:
            await asyncio.wait_for(backend_ready(parts.backend), 10)
        except Exception as exc:  # any failure means not ready; the details go to the log
            problems["backend"] = f"does not answer ({incident(exc)})"
        store_problem = await reachable(parts.chat.conversations.store)
        if store_problem:
            problems["store"] = f"does not answer ({incident(RuntimeError(store_problem))})"
        body = {"status": "ready" if not problems else "not ready", "problems": problems,
                "store": parts.chat.conversations.store.name}
        if not problems:  # a success is kept briefly; a failure is checked again on the next poll
            checked.update(at=time.monotonic(), body=body)
        return JSONResponse(body, 200 if not problems else 503)

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics", response_class=PlainTextResponse)
    async def metrics() -> Response:
        chat = p().chat
        gauges = {"tansuo_queue_running": ("turns running now", chat.gate.running),
                  "tansuo_queue_waiting": ("turns waiting for the model", chat.gate.waiting)}
        return PlainTextResponse(chat.metrics.render(gauges), media_type="text/plain; version=0.0.4")

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")
