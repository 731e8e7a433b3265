"""Tansuo as an MCP server (the official SDK's MCPServer): `search` (passages from the document
index), `ask` (a whole checked turn) and, over stdio with TANSUO_MCP_INDEX_ADD on, `index_add`.

Over stdio (`tansuo mcp`, for a desktop host) the caller is the local user, and only there may
`index_add` be offered: the index is shared by every key, so a key holder over HTTP never writes to
it. Over streamable HTTP (`/mcp` under `tansuo serve`) every request has passed the service's
admission first (API keys, rate limit), and a turn runs as the key's owner with the key's profiles,
as on /v1/chat/completions.
Arguments are checked against each tool's JSON Schema by the SDK; what the tool itself refuses (a
date range that ends before it starts, a profile the key may not use) raises ToolError, which the
SDK returns as an error result the host shows to its model."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from tansuo import __version__
from tansuo.errors import TansuoError
from tansuo.retrieval.documents import Document
from tansuo.retrieval.hits import Filters, Hit
from tansuo.server.conversations import ANONYMOUS
from tansuo.server.parts import Parts
from tansuo.server.protocol import ChatMessage, CompletionRequest
from tansuo.server.search_options import day_bounds

INSTRUCTIONS = ("Tansuo answers from its indexed documents and tools, with numbered citations, and checks its "
                "answers. `search` returns passages to read; `ask` returns a checked answer with its sources.")


class Passage(BaseModel):
    citation_id: str = Field(description="the passage's id (GET /v1/sources/{id} on the service shows it)")
    title: str
    source: str = Field(description="the document's URL or path")
    date: str | None = Field(description="the document's date (YYYY-MM-DD), when it has one")
    text: str


class Cited(BaseModel):
    n: int = Field(description="the number [n] the answer cites it by")
    title: str
    source: str
    date: str | None
    citation_id: str


class Verdict(BaseModel):
    verifier: str
    action: str = Field(description="pass, annotate, revise, caution or block")
    reason: str


class Answer(BaseModel):
    answer: str
    sources: list[Cited]
    verdicts: list[Verdict]
    complete: bool = Field(description="false when the turn ran out of budget or a step failed")


class NewDocument(BaseModel):
    title: str = Field(min_length=1, max_length=500)
    text: str = Field(min_length=1, max_length=100_000)
    source: str | None = Field(None, max_length=2000, description="its URL or path (default: mcp:<title>)")
    published: date | None = Field(None, description="its publication date")


class Added(BaseModel):
    added: int
    unchanged: int
    replaced: int
    chunks: int


def build_mcp(get_parts: Callable[[], Parts], *, index_add: bool = False) -> MCPServer:
    """The server; `get_parts` gives the service's parts at call time (built after the app starts)."""
    server = MCPServer("tansuo", version=__version__, instructions=INSTRUCTIONS)

    @server.tool(description="Search the indexed documents (hybrid dense + BM25); passages with their citation ids.")
    async def search(query: Annotated[str, Field(min_length=1, max_length=2000)],
                     k: Annotated[int, Field(ge=1, le=20)] = 5, after: date | None = None,
                     before: date | None = None,
                     source_prefix: Annotated[str | None, Field(max_length=2000)] = None) -> list[Passage]:
        index = get_parts().index
        if index is None:
            raise ToolError("this service has no document index")
        filters = _filters(after, before, source_prefix)
        with _reasons():
            hits = await asyncio.to_thread(index.search, query, k, filters=filters)
        return [_passage(h) for h in hits]

    @server.tool(description="Ask Tansuo a question: a whole turn (search, tools, checks); the answer with its "
                             "numbered sources and the verifiers' verdicts.")
    async def ask(question: Annotated[str, Field(min_length=1, max_length=8000)],
                  ctx: Context, profile: Literal["tools", "plugins", "agent"] | None = None) -> Answer:
        parts = get_parts()
        if len(question) > parts.settings.max_question_chars:
            raise ToolError(f"the question is {len(question)} characters; the limit is "
                            f"{parts.settings.max_question_chars}")
        owner, profiles = _caller(ctx)
        if profile is not None and profiles is not None and profile not in profiles:
            raise ToolError(f"this key may not use the profile {profile!r}; it may use: {', '.join(profiles)}")
        request = CompletionRequest(model="tansuo", messages=[ChatMessage(role="user", content=question)],
                                    profile=profile or (profiles[0] if profiles and
                                                        parts.settings.model_profile not in profiles else None))
        end = None
        with _reasons():  # a full queue, a model or store that is down: said, with what to do
            async for step in parts.chat.turn(request, owner=owner):
                end = step if step.kind == "end" else end
        if end is None:
            raise ToolError("the turn ended without an answer")
        return _answer(end.answer, end.extras)

    if index_add:
        @server.tool(description="Add documents to the index (changed ones replace their earlier version).")
        async def index_add(documents: Annotated[list[NewDocument], Field(min_length=1, max_length=100)]) -> Added:
            index = get_parts().index
            if index is None:
                raise ToolError("this service has no document index")
            report = await asyncio.to_thread(index.add, [_document(d) for d in documents])
            return Added(added=len(report.added), unchanged=len(report.unchanged), replaced=len(report.replaced),
                         chunks=report.chunks)

    return server


@contextlib.contextmanager
def _reasons():
    """Tansuo's own errors (QueueFull with its retry time, BackendUnavailable, IndexUnavailable, ...)
    as tool errors with their message: the SDK would otherwise answer only "Error executing tool"."""
    try:
        yield
    except TansuoError as exc:
        raise ToolError(str(exc)) from exc


def _filters(after: date | None, before: date | None, prefix: str | None) -> Filters | None:
    if after and before and after > before:
        raise ToolError(f"after ({after}) is later than before ({before})")
    since, until = day_bounds(after, before)
    filters = Filters(since=since, until=until, sources=(prefix,) if prefix else ())
    return None if filters.empty else filters


def _caller(ctx: Context) -> tuple[str, tuple[str, ...] | None]:
    """The owner a turn runs as and the profiles it may use: the HTTP request's key (set by the
    service's admission), or the local user over stdio."""
    request = getattr(ctx.request_context, "request", None)
    state = getattr(request, "scope", {}).get("state", {}) if request is not None else {}
    return state.get("owner", ANONYMOUS), state.get("profiles")


def _passage(hit: Hit) -> Passage:
    return Passage(citation_id=hit.chunk_id, title=hit.title, source=hit.source,
                   date=hit.date.date().isoformat() if hit.date else None, text=hit.text)


def _answer(text: str, extras: dict[str, Any]) -> Answer:
    sources = [Cited(n=s["n"], title=s["title"], source=s["source"], date=(s.get("date") or "")[:10] or None,
                     citation_id=s["chunk_id"]) for s in extras.get("sources", [])]
    verdicts = [Verdict(verifier=v["verifier"], action=v["action"], reason=v.get("reason") or "")
                for v in extras.get("verdicts", [])]
    return Answer(answer=text, sources=sources, verdicts=verdicts, complete=bool(extras.get("complete", True)))


def _document(new: NewDocument) -> Document:
    published = day_bounds(new.published, None)[0]
    source = new.source or f"mcp:{new.title}"
    # an id of its own: an MCP host can replace what it added, never a document indexed another way
    return Document(id=f"mcp:{source}", title=new.title, source=source, text=new.text, published=published)
