"""Web sources, off by default: pages to ingest (fetched by `retrieval.crawl`), a SearXNG JSON search
API, the MediaWiki API.

All go through httpx with connect/read timeouts and a size cap; every failure is a
ConnectorError that says which source and what happened. Results are Documents with
their dates, so they can be cited, filtered by date, or ingested.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from email.utils import parsedate_to_datetime
from html import unescape
from pathlib import PurePosixPath
from urllib.parse import urlsplit

import httpx

from tansuo.retrieval.documents import Document, parse_date
from tansuo.retrieval.loaders import HTML_SUFFIXES, SUPPORTED, LoadResult, Problem, load_bytes

MAX_BYTES = 20 * 1024 * 1024
USER_AGENT = "tansuo/0.1 (+self-hosted search assistant)"
CONTENT_TYPES = {"text/html": ".html", "application/xhtml+xml": ".html", "text/plain": ".txt",
                 "text/markdown": ".md", "text/x-markdown": ".md", "application/pdf": ".pdf",
                 "application/json": ".json", "application/x-ndjson": ".jsonl", "application/jsonl": ".jsonl"}


class ConnectorError(Exception):
    """A web source failed; the message names it and the reason."""


def make_client(timeout_s: float = 10.0, transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0)), follow_redirects=True,
                             headers={"User-Agent": USER_AGENT}, transport=transport)


def documents_of(body: bytes, response: httpx.Response, url: str, *, text_field: str | None = None) -> LoadResult:
    """A fetched page's body to documents, read by its content type; `url` is the one asked for."""
    final = str(response.url)
    kind = _kind(response.headers.get("content-type", ""), final)
    if kind is None:
        return LoadResult(problems=[Problem(url, f"unsupported content type {response.headers.get('content-type')!r}")])
    title = PurePosixPath(urlsplit(final).path).stem or urlsplit(final).netloc
    return load_bytes(body, kind, source=final, default_title=title, text_field=text_field,
                      header_date=_http_date(response.headers.get("last-modified")))


async def read_capped(response: httpx.Response) -> bytes:
    """A streamed response's body, refused past MAX_BYTES."""
    body = bytearray()
    async for part in response.aiter_bytes():
        body += part
        if len(body) > MAX_BYTES:
            raise ConnectorError(f"response larger than {MAX_BYTES // (1024 * 1024)} MiB")
    return bytes(body)


async def get_capped(client: httpx.AsyncClient, url: str, params: dict | None = None) -> tuple[bytes, httpx.Response]:
    """A GET whose body is capped; any failure, a 4xx/5xx included, is a ConnectorError."""
    try:
        async with client.stream("GET", url, params=params) as response:
            if response.status_code >= 400:
                raise ConnectorError(f"HTTP {response.status_code} from {response.url}")
            return await read_capped(response), response
    except httpx.TimeoutException:
        raise ConnectorError(f"timed out fetching {url}") from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise ConnectorError(f"cannot fetch {url}: {type(exc).__name__}: {exc}") from None


def _kind(content_type: str, url: str) -> str | None:
    mime = content_type.split(";")[0].strip().lower()
    if mime in CONTENT_TYPES:
        return CONTENT_TYPES[mime]
    suffix = PurePosixPath(urlsplit(url).path).suffix.lower()
    if suffix in SUPPORTED:
        return suffix
    return ".html" if mime.startswith("text/") and suffix in HTML_SUFFIXES | {""} else None


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parse_date(parsedate_to_datetime(value))
    except (TypeError, ValueError):
        return None


async def _get_json(client: httpx.AsyncClient, url: str, params: dict, who: str) -> dict:
    body, _ = await get_capped(client, url, params)
    try:
        value = json.loads(body)
    except ValueError:
        raise ConnectorError(f"{who}: the reply is not JSON") from None
    if not isinstance(value, dict):
        raise ConnectorError(f"{who}: unexpected reply shape")
    return value


class SearxngSearch:
    """A SearXNG instance's JSON API (``/search?format=json``; the instance must allow the json format)."""

    def __init__(self, base_url: str, client: httpx.AsyncClient) -> None:
        self.url = base_url.rstrip("/") + "/search"
        self.client = client

    async def search(self, query: str, k: int = 5) -> list[Document]:
        data = await _get_json(self.client, self.url, {"q": query, "format": "json"}, "SearXNG")
        results = data.get("results")
        if not isinstance(results, list):
            raise ConnectorError("SearXNG: reply has no 'results' list")
        docs = []
        for r in results:
            if isinstance(r, dict) and r.get("url") and (r.get("content") or r.get("title")):
                docs.append(Document(
                    id=str(r["url"]), title=str(r.get("title") or r["url"]), source=str(r["url"]),
                    text=str(r.get("content") or r.get("title")),
                    published=parse_date(r.get("publishedDate") or r.get("pubdate")),
                    metadata={"connector": "searxng", "engine": r.get("engine"), "snippet": True}))
            if len(docs) >= k:
                break
        return docs


class MediaWikiSearch:
    """MediaWiki's search and TextExtracts APIs (``api.php``): page extracts dated by their last edit."""

    def __init__(self, api_url: str, client: httpx.AsyncClient) -> None:
        self.url = api_url
        self.client = client

    async def search(self, query: str, k: int = 5) -> list[Document]:
        found = await _get_json(self.client, self.url, {
            "action": "query", "list": "search", "srsearch": query, "srlimit": k, "format": "json",
            "formatversion": 2}, "MediaWiki search")
        hits = (found.get("query") or {}).get("search")
        if not isinstance(hits, list):
            raise ConnectorError(_api_error(found) or "MediaWiki search: reply has no query.search list")
        if not hits:
            return []
        ids = [str(h["pageid"]) for h in hits if isinstance(h, dict) and "pageid" in h]
        pages = await _get_json(self.client, self.url, {
            "action": "query", "prop": "extracts|info", "explaintext": 1, "exlimit": "max", "inprop": "url",
            "pageids": "|".join(ids), "format": "json", "formatversion": 2}, "MediaWiki extracts")
        by_id = {str(p.get("pageid")): p for p in (pages.get("query") or {}).get("pages", []) if isinstance(p, dict)}
        docs = []
        for h in hits:
            page = by_id.get(str(h.get("pageid")), {})
            text = page.get("extract") or _strip_tags(h.get("snippet", ""))
            if not text:
                continue
            url = page.get("fullurl") or f"{self.url}?curid={h.get('pageid')}"
            docs.append(Document(id=url, title=str(h.get("title") or page.get("title")), source=url, text=text,
                                 updated=parse_date(h.get("timestamp") or page.get("touched")),
                                 metadata={"connector": "mediawiki", "pageid": h.get("pageid")}))
        return docs


def _api_error(data: dict) -> str | None:
    err = data.get("error")
    return f"MediaWiki: {err.get('code')}: {err.get('info')}" if isinstance(err, dict) else None


def _strip_tags(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html))
