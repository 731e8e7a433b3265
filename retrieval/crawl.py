"""Polite fetching for `tansuo index add`: robots.txt, a pause between requests to one host, and
conditional requests, so a re-run downloads only the pages that changed.

robots.txt follows RFC 9309: a 4xx (no file) allows everything, a 5xx or a network failure disallows
everything until it answers, and its Crawl-delay lengthens (never shortens) the configured pause.
Each host is fetched one request at a time; different hosts run side by side.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from tansuo.retrieval.loaders import LoadResult
from tansuo.retrieval.web import ConnectorError, documents_of, read_capped

AGENT = "tansuo"  # the token robots.txt groups are matched against
GONE = (404, 410)

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


class Crawler:
    def __init__(self, client: httpx.AsyncClient, *, delay_s: float = 1.0) -> None:
        self.client = client
        self.delay_s = delay_s
        self._gates: dict[str, _Gate] = {}
        self._robots: dict[str, RobotFileParser] = {}
        self._robots_lock = asyncio.Lock()

    def _gate(self, url: str) -> _Gate:
        host = origin(url)
        if host not in self._gates:
            self._gates[host] = _Gate(self.delay_s)
        return self._gates[host]

    async def allowed(self, url: str) -> bool:
        return (await self._rules(url)).can_fetch(AGENT, url)

    async def _rules(self, url: str) -> RobotFileParser:
        host = origin(url)
        async with self._robots_lock:  # each host's robots.txt is read once
            if host not in self._robots:
                self._robots[host] = rules = await self._read_robots(host)
                delay = rules.crawl_delay(AGENT)
                if delay and float(delay) > self.delay_s:
                    gate = self._gate(url)
                    gate.delay = float(delay)
                    gate.next_at = time.monotonic() + gate.delay  # robots.txt itself was a request
            return self._robots[host]

    async def _read_robots(self, host: str) -> RobotFileParser:
        rules = RobotFileParser(f"{host}/robots.txt")
        try:
            async with self._gate(host), self.client.stream("GET", f"{host}/robots.txt") as response:
                if response.status_code >= 500:
                    rules.disallow_all = True
                elif response.status_code >= 400:
                    rules.allow_all = True
                else:
                    rules.parse((await read_capped(response)).decode("utf-8", "replace").splitlines())
        except (httpx.HTTPError, ConnectorError):
            rules.disallow_all = True  # unreachable: RFC 9309 says assume nothing may be fetched
        return rules

    async def get(self, url: str) -> bytes:
        """A body (a sitemap, a URL list) that robots.txt allows; ConnectorError says why not."""
        if not await self.allowed(url):
            raise ConnectorError(f"robots.txt disallows {url}")
        try:
            async with self._gate(url), self.client.stream("GET", url) as response:
                if response.status_code >= 400:
                    raise ConnectorError(f"HTTP {response.status_code} from {url}")
                return await read_capped(response)
        except httpx.TimeoutException:
            raise ConnectorError(f"timed out fetching {url}") from None
        except httpx.HTTPError as exc:
            raise ConnectorError(f"cannot fetch {url}: {type(exc).__name__}: {exc}") from None

    async def page(self, url: str, known: dict[str, str] | None = None, *, text_field: str | None = None) -> Page:
        """A conditional GET: `known` holds the validators of the last fetch (etag, last_modified)."""
        if not await self.allowed(url):
            return Page(url, "disallowed", reason="robots.txt disallows it")
        try:
            async with self._gate(url), self.client.stream("GET", url, headers=_conditions(known or {})) as response:
                return await self._read(url, response, text_field)
        except httpx.TimeoutException:
            return Page(url, "failed", reason="timed out")
        except (httpx.HTTPError, ConnectorError) as exc:
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
