"""Polite fetching for `tansuo index add`: robots.txt, a pause between requests to one host, and
conditional requests, so a re-run downloads only the pages that changed.

robots.txt follows RFC 9309 (`retrieval.robots`): a 4xx (no file) allows everything; a 5xx or a
network failure means nothing is fetched from that host this run, and since the site did not say no,
what it gave before stays. Its Crawl-delay lengthens (never shortens) the configured pause, up to 60 s.
Each host is fetched one request at a time; different hosts run side by side.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

import httpx

from tansuo.retrieval.loaders import LoadResult
from tansuo.retrieval.robots import ALLOW_ALL, DISALLOW_ALL, Rules, parse
from tansuo.retrieval.web import ConnectorError, documents_of, get_capped, read_capped

AGENT = "tansuo"  # the token robots.txt groups are matched against
GONE = (404, 410)
MAX_CRAWL_DELAY_S = 60.0  # a robots.txt Crawl-delay is obeyed up to this

Status = Literal["ok", "not_modified", "gone", "disallowed", "failed"]


@dataclass
class Page:
    """One page's fetch: its documents (ok), or why there are none."""

    url: str
    status: Status
    result: LoadResult = field(default_factory=LoadResult)
    validators: dict[str, str] = field(default_factory=dict)  # etag, last_modified: for the next request
    reason: str = ""


class _Gate:
    """One request at a time to a host, `delay` seconds apart."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.lock = asyncio.Lock()
        self.next_at = 0.0

    async def __aenter__(self) -> None:
        await self.lock.acquire()
        wait = self.next_at - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)

    async def __aexit__(self, *exc: object) -> None:
        self.next_at = time.monotonic() + self.delay
        self.lock.release()


@dataclass
class _Host:
    gate: _Gate
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # robots.txt is read once per host
    rules: Rules | None = None
    unreachable: str | None = None  # why robots.txt could not be read: nothing is fetched, nothing removed


class Crawler:
    def __init__(self, client: httpx.AsyncClient, *, delay_s: float = 1.0) -> None:
        self.client = client
        self.delay_s = delay_s
        self._hosts: dict[str, _Host] = {}

    async def _host(self, url: str) -> _Host:
        base = origin(url)
        host = self._hosts.setdefault(base, _Host(_Gate(self.delay_s)))
        async with host.lock:
            if host.rules is None:
                await self._read_robots(host, base)
        return host

    async def _read_robots(self, host: _Host, base: str) -> None:
        try:
            async with host.gate, self.client.stream("GET", f"{base}/robots.txt") as response:
                if response.status_code >= 500:
                    host.rules, host.unreachable = DISALLOW_ALL, f"robots.txt answered HTTP {response.status_code}"
                elif response.status_code >= 400:
                    host.rules = ALLOW_ALL
                else:
                    host.rules = parse((await read_capped(response)).decode("utf-8", "replace"), AGENT)
        except (httpx.HTTPError, ConnectorError) as exc:
            host.rules, host.unreachable = DISALLOW_ALL, f"robots.txt unreachable ({type(exc).__name__})"
        delay = min(host.rules.crawl_delay or 0.0, MAX_CRAWL_DELAY_S)
        if delay > host.gate.delay:
            host.gate.delay = delay
            host.gate.next_at = time.monotonic() + delay  # robots.txt itself was a request

    async def allowed(self, url: str) -> bool:
        return (await self._host(url)).rules.allows(url)

    async def get(self, url: str) -> bytes:
        """A body (a sitemap, a URL list) that robots.txt allows; ConnectorError says why not."""
        host = await self._host(url)
        if host.unreachable or not host.rules.allows(url):
            raise ConnectorError(f"{host.unreachable}: nothing fetched" if host.unreachable
                                 else f"robots.txt disallows {url}")
        async with host.gate:
            body, _ = await get_capped(self.client, url)
        return body

    async def page(self, url: str, known: dict[str, str] | None = None, *, text_field: str | None = None) -> Page:
        """A conditional GET: `known` holds the validators of the last fetch (etag, last_modified)."""
        host = await self._host(url)
        if host.unreachable:  # not "disallowed": the site did not say no, so what it gave before stays
            return Page(url, "failed", reason=f"{host.unreachable}: not fetched")
        if not host.rules.allows(url):
            return Page(url, "disallowed", reason="robots.txt disallows it")
        try:
            async with host.gate, self.client.stream("GET", url, headers=_conditions(known or {})) as response:
                return await self._read(url, response, text_field)
        except httpx.TimeoutException:
            return Page(url, "failed", reason="timed out")
        except (httpx.HTTPError, httpx.InvalidURL, ConnectorError) as exc:
            return Page(url, "failed", reason=str(exc) if isinstance(exc, ConnectorError) else type(exc).__name__)

    async def _read(self, url: str, response: httpx.Response, text_field: str | None) -> Page:
        if response.status_code == 304:
            return Page(url, "not_modified", reason="not modified since the last run")
        if response.status_code in GONE:
            return Page(url, "gone", reason=f"HTTP {response.status_code}")
        if response.status_code >= 400:
            return Page(url, "failed", reason=f"HTTP {response.status_code}")
        body = await read_capped(response)
        validators = {k: v for k, v in (("etag", response.headers.get("etag")),
                                        ("last_modified", response.headers.get("last-modified"))) if v}
        return Page(url, "ok", documents_of(body, response, url, text_field=text_field), validators)


def _conditions(known: dict[str, str]) -> dict[str, str]:
    headers = {}
    if known.get("etag"):
        headers["If-None-Match"] = known["etag"]
    if known.get("last_modified"):
        headers["If-Modified-Since"] = known["last_modified"]
    return headers


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
