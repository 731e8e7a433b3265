"""What every request passes before a route runs: the method, the body's size and text, API keys
(and /metrics' own token), and the rate limit; then the request's metrics. A plain ASGI middleware."""

from __future__ import annotations

import hmac
import json
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tansuo.errors import ConfigError
from tansuo.server.auth import keys_required
from tansuo.server.deps import parts_of
from tansuo.server.parts import Parts
from tansuo.server.protocol import error_body
from tansuo.server.store import StoreUnavailable
from tansuo.settings import Settings

# HTTP methods the service answers; any other gets 405 before it reaches a route or a metric label
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


ALLOW = "GET, HEAD, POST, DELETE, OPTIONS"
# Paths that answer without a key even when keys are on: the chat page and its files, and the probes
# an orchestrator polls (their bodies say only ready or not). Plots are named by an unguessable id.
OPEN = ("/", "/healthz", "/readyz", "/favicon.ico")
OPEN_PREFIXES = ("/static/", "/plots/")
DOCS = ("/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json")


def install_admission(app: FastAPI, settings: Settings) -> None:
    """Size limit, API keys and rate limits, and request metrics, before any route runs. A plain
    ASGI middleware: it adds no task per request and leaves the client's disconnect visible to
    the routes (which cancel their turn on it)."""
    required = keys_required(settings.api_keys, settings.host)

    class Admission:
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
                denied = await _gatekeep(request, settings, parts_of(request), required)
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
            metrics = parts_of(request).chat.metrics
            method = scope["method"] if scope["method"] in METHODS else "other"
            metrics.count("tansuo_http_requests_total", "HTTP requests", route=route, method=method,
                          status=str(status.get("code", 0)))
            metrics.observe("tansuo_http_request_seconds", "HTTP request latency (the whole response)",
                            time.perf_counter() - started, route=route)

    app.add_middleware(Admission)


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
