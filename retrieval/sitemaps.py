"""Sitemaps (sitemaps.org: a urlset, or a sitemap index of further sitemaps, gzipped or not) and
URL lists (one URL per line, `#` comments) to the pages they list."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from xml.etree import ElementTree

import httpx

from tansuo.retrieval.crawl import Crawler
from tansuo.retrieval.web import MAX_BYTES, ConnectorError

MAX_PAGES = 50_000  # the sitemaps.org limit for one sitemap file
MAX_SITEMAPS = 100  # nested sitemaps read from one index


class ListingError(ConnectorError):
    """A sitemap or URL list that cannot be read; the message names it."""


@dataclass(frozen=True)
class Entry:
    url: str
    lastmod: str | None = None  # as the sitemap says it; compared as text between runs


def parse_sitemap(data: bytes, where: str) -> tuple[list[Entry], list[str]]:
    """A sitemap's pages, and the sitemaps a sitemap index points to."""
    try:
        root = ElementTree.fromstring(_gunzip(data, where))
    except ElementTree.ParseError as exc:
        raise ListingError(f"{where}: not a sitemap (invalid XML: {exc})") from None
    kind = _local(root.tag)
    if kind not in ("urlset", "sitemapindex"):
        raise ListingError(f"{where}: not a sitemap (root element <{kind}>, expected <urlset> or <sitemapindex>)")
    entries = []
    for item in root:
        fields = {_local(child.tag): (child.text or "").strip() for child in item}
        if is_web_url(fields.get("loc", "")):  # anything else (relative, ftp:, broken) is not a page to fetch
            entries.append(Entry(fields["loc"], fields.get("lastmod") or None))
    if kind == "sitemapindex":
        return [], [e.url for e in entries]
    return entries, []


def parse_url_list(text: str, where: str) -> list[Entry]:
    """One URL per line, `#` comments; a line that is not an http(s) URL refuses the list, named by line."""
    entries: dict[str, Entry] = {}
    for n, line in enumerate(text.splitlines(), start=1):
        url = line.split("#", 1)[0].strip()
        if not url:
            continue
        if not is_web_url(url):
            raise ListingError(f"{where}:{n}: not an http(s) URL: {url!r}")
        entries.setdefault(url, Entry(url))
    return list(entries.values())


def is_web_url(text: str) -> bool:
    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, ValueError, TypeError):
        return False
    return url.scheme in ("http", "https") and bool(url.host)


async def sitemap_pages(crawler: Crawler, url: str) -> list[Entry]:
    """Every page a sitemap lists, following a sitemap index one level down."""
    pages, children = parse_sitemap(await crawler.get(url), url)
    if len(children) > MAX_SITEMAPS:
        raise ListingError(f"{url}: a sitemap index of {len(children)} sitemaps (at most {MAX_SITEMAPS} are read)")
    for child in children:
        if len(pages) > MAX_PAGES:  # no need to read the rest
            break
        more, nested = parse_sitemap(await crawler.get(child), child)
        if nested:
            raise ListingError(f"{child}: a sitemap index inside a sitemap index")
        pages += more
    if len(pages) > MAX_PAGES:
        raise ListingError(f"{url}: lists more than {MAX_PAGES} pages")
    return list({e.url: e for e in pages}.values())


def _gunzip(data: bytes, where: str) -> bytes:
    if not data.startswith(b"\x1f\x8b"):
        return data
    inflate = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflate.decompress(data, MAX_BYTES)
    except zlib.error as exc:
        raise ListingError(f"{where}: broken gzip: {exc}") from None
    if inflate.unconsumed_tail:
        raise ListingError(f"{where}: larger than {MAX_BYTES // (1024 * 1024)} MiB unpacked")
    return out


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
