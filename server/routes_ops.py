"""Operations and the page: liveness, readiness (backend and store), Prometheus metrics, the chat page."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response

from tansuo.server.deps import PartsDep
from tansuo.server.errors import incident
from tansuo.server.store import reachable

STATIC = Path(__file__).parent / "static"
router = APIRouter()


@router.get("/healthz", tags=["operations"], summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}

@router.get("/readyz", tags=["operations"], summary="The model backend and the store answer")
async def readyz(request: Request, parts: PartsDep) -> JSONResponse:
    # the last "ready" and when: /readyz needs no key, so it must not be a way to load the backend
    checked = request.app.state.ready
    if time.monotonic() - checked.get("at", -1e9) < 2.0:
        return JSONResponse({**checked["body"], **_corpus(parts)}, 200)
    problems = {}
    try:
        await asyncio.wait_for(parts.backend.ready(), 10)
    except Exception as exc:  # any failure means not ready; the details go to the log
        problems["backend"] = f"does not answer ({incident(exc)})"
    store_problem = await reachable(parts.chat.conversations.store)
    if store_problem:
        problems["store"] = f"does not answer ({incident(RuntimeError(store_problem))})"
    body = {"status": "ready" if not problems else "not ready", "problems": problems,
            "store": parts.chat.conversations.store.name}
    if not problems:  # a success is kept briefly; a failure is checked again on the next poll
        checked.update(at=time.monotonic(), body=body)
    return JSONResponse({**body, **_corpus(parts)}, 200 if not problems else 503)


def _corpus(parts) -> dict:
    """While the default corpus is built in the background: how far it has come (ready all the same)."""
    corpus = parts.chat.corpus
    if corpus is None or corpus.complete:
        return {}
    state = corpus.state
    return {"default_corpus": {"building": corpus.building, "documents": state.done, "of": state.total,
                               "error": state.error}}

@router.get("/metrics", tags=["operations"], summary="Prometheus metrics", response_class=PlainTextResponse)
async def metrics(parts: PartsDep) -> Response:
    chat = parts.chat
    gauges = {"tansuo_queue_running": ("turns running now", chat.gate.running),
              "tansuo_queue_waiting": ("turns waiting for the model", chat.gate.waiting)}
    return PlainTextResponse(chat.metrics.render(gauges), media_type="text/plain; version=0.0.4")

@router.get("/", include_in_schema=False)
async def page() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html")
