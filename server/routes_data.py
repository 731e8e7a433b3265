"""What answers point to: the built-in tools and plugins (and the plugin index's matches), the
indexed passage a citation names, and the plots the plot tool drew."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse

from tansuo.server.deps import PartsDep
from tansuo.server.errors import ApiError

router = APIRouter()


@router.get("/v1/plugins", tags=["plugins"], summary="Built-in tools and installed plugins")
async def plugins(parts: PartsDep) -> dict[str, Any]:
    tools_router = parts.router
    tools = [{"name": s.name, "description": s.description, "kind": "builtin"}
             for s in (tools_router.toolbox.specs if tools_router.toolbox is not None else [])]
    plugs = [{"name": name, "description": pl.spec.description, "kind": "plugin"}
             for name, pl in (tools_router.plugins or {}).items()]
    return {"object": "list", "data": tools + plugs}

@router.get("/v1/plugins/search", tags=["plugins"], summary="Plugins whose descriptions fit a request")
async def plugin_search(q: str = Query(..., min_length=1, max_length=2000),
                        k: int = Query(5, ge=1, le=50), *, parts: PartsDep) -> dict[str, Any]:
    index = parts.router.plugin_index
    if index is None:
        return {"object": "list", "data": [], "abstained": True}
    result = await asyncio.to_thread(index.search, q, k)
    return {"object": "list", "abstained": result.abstained,
            "data": [{"name": h.name, "score": round(h.score, 4)} for h in result.hits]}

@router.get("/v1/sources/{chunk_id:path}", tags=["sources"], summary="The text a citation points to")
async def source(chunk_id: str, parts: PartsDep) -> dict[str, Any]:
    index = parts.index
    doc_id, _, n = chunk_id.rpartition("#")
    record = index.document(doc_id) if index is not None and doc_id else None
    chunk = next((c for c in index.chunks(doc_id) if str(c.n) == n), None) if record else None
    if chunk is None:
        raise ApiError(404, f"no indexed passage {chunk_id!r}", "not_found_error", code="source_not_found")
    return {"chunk_id": chunk_id, "document": record, "text": chunk.text}

@router.get("/plots/{name}", tags=["plots"], summary="A plot the plot tool drew", response_class=FileResponse)
async def plot(name: str, parts: PartsDep):
    if not name.endswith(".png") or "/" in name or name.startswith("."):
        raise ApiError(404, f"no plot {name!r}", "not_found_error")
    path = parts.plots_dir / name
    if not path.is_file():
        raise ApiError(404, f"no plot {name!r}", "not_found_error")
    return FileResponse(path, media_type="image/png")
