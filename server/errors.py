"""The service's errors as clients see them: one JSON body shape (OpenAI's), one place that maps
each exception to its status. Internals (paths, log tails, URLs) stay in the log, under an incident
id the client can quote."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route

from tansuo.errors import BackendUnavailable, TansuoError
from tansuo.retrieval.milvus import IndexUnavailable
from tansuo.server.protocol import error_body
from tansuo.server.store import StoreUnavailable

log = logging.getLogger("tansuo.server")


def incident(exc: BaseException, *, trace: bool = False) -> str:
    """Log what failed under a new id and return the words a client gets instead: internals (paths,
    log tails, internal URLs) stay in the service log."""
    name = uuid.uuid4().hex[:12]
    log.error("incident %s: %s: %s", name, type(exc).__name__, exc, exc_info=exc if trace else None)
    return f"incident {name}; the details are in the service log"


class ApiError(Exception):
    def __init__(self, status: int, message: str, kind: str = "invalid_request_error", *, param: str | None = None,
                 code: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.kind, self.param, self.code, self.headers = status, kind, param, code, headers or {}


def as_api_error(exc: TansuoError) -> Exception:
    if isinstance(exc, (BackendUnavailable, StoreUnavailable, IndexUnavailable)):  # their own handlers: 503
        return exc
    return ApiError(400, str(exc))


def install_errors(app: FastAPI) -> None:
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

    @app.exception_handler(IndexUnavailable)
    async def _index(_: Request, exc: IndexUnavailable) -> JSONResponse:
        return JSONResponse(error_body(f"the document index is unavailable; retry shortly ({incident(exc)})",
                                       "server_error", code="index_unavailable"), 503, headers={"Retry-After": "5"})

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
    methods = {m for route in _routes(request.app.router.routes)
               if route.matches(request.scope)[0] != Match.NONE for m in route.methods or ()}
    return sorted(methods)


def _routes(routes) -> Iterator[Route]:
    """Every route, those of included routers too (FastAPI keeps an included router whole)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _routes(inner.routes)
        elif isinstance(route, Route):
            yield route
