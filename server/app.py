"""The FastAPI app: the OpenAI-compatible chat API, conversations, plugins, plots, health, metrics,
MCP at /mcp and the chat page (routes in `routes_chat`, `routes_data`, `routes_ops`). `create_app` takes its
parts ready-made (tests pass a scripted backend) or builds them from settings at startup (`tansuo serve`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from tansuo import __version__
from tansuo.server import routes_chat as chat_routes
from tansuo.server import routes_data as data_routes
from tansuo.server import routes_ops as ops_routes
from tansuo.server.admission import install_admission
from tansuo.server.errors import install_errors
from tansuo.server.mcp_server import build_mcp
from tansuo.server.parts import Parts, build_parts
from tansuo.server.protocol import ERRORS
from tansuo.server.routes_ops import STATIC
from tansuo.settings import Settings

log = logging.getLogger(__name__)


def create_app(settings: Settings, parts: Parts | Callable[[], Awaitable[Parts]] | None = None, *,
               stopping: Callable[[], bool] = lambda: False) -> FastAPI:
    """The app; `parts` ready-made, or a coroutine function that builds them in the app's own event
    loop at startup (default: from settings). `stopping` says a stop was asked for (SIGTERM): a
    start still building (indexing, listing plugins) is cancelled then, not finished first."""
    inflight: set[asyncio.Task] = set()

    mcp = build_mcp(lambda: app.state.parts)  # no index_add over HTTP: the index is every key's

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if parts is None or callable(parts):
            built = await _until_stopped(build_parts(settings) if parts is None else parts(), stopping)
            if built is not None:
                app.state.parts = built
        else:
            app.state.parts = parts
        try:
            async with mcp.session_manager.run():
                yield
        finally:  # graceful stop: in-flight turns get the grace period, then are cancelled
            if inflight:
                _, late = await asyncio.wait(inflight, timeout=settings.shutdown_grace_s)
                for task in late:
                    task.cancel()
            if getattr(app.state, "parts", None) is not None:
                await app.state.parts.aclose()

    # every path may answer with these (keys, rate limit, body checks and the unexpected happen
    # before any route), so every path documents them
    app = FastAPI(title="Tansuo", version=__version__, lifespan=lifespan, responses=ERRORS,
                  description="A self-hosted agentic search assistant: an OpenAI-compatible chat API whose "
                              "answers carry citations, the tool trace and the verifiers' verdicts.")
    app.state.inflight, app.state.ready = inflight, {}
    install_errors(app)
    install_admission(app, settings)
    for routes in (chat_routes.router, data_routes.router, ops_routes.router):
        app.include_router(routes)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # MCP over streamable HTTP at /mcp, behind the same admission (keys, rate limit) as the API;
    # stateless, so any replica answers any request; the SDK's DNS-rebinding check answers 421 to a
    # Host that is not the address served (a proxy forwards Host unchanged)
    app.router.routes.extend(mcp.streamable_http_app(streamable_http_path="/mcp", stateless_http=True,
                                                     json_response=True, host=settings.host).routes)
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
