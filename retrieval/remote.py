"""Remote origins for `retrieval.sync`: a page, a URL list or a sitemap, fetched politely.

A page whose sitemap lastmod matches the last run's is not requested at all; any other page already
seen is asked for conditionally (If-None-Match / If-Modified-Since), so an unchanged one costs a 304.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tansuo.retrieval.crawl import Crawler, Page, origin
from tansuo.retrieval.loaders import Problem
from tansuo.retrieval.sitemaps import Entry
from tansuo.retrieval.sync import NOT_MODIFIED, Outcome, Tick

DISALLOWED = "disallowed by robots.txt"



async def remote_outcomes(crawler: Crawler, entries: list[Entry], before: dict[str, dict[str, Any]], *,
                          text_field: str | None = None, tick: Tick | None = None) -> list[Outcome]:
    """Each entry's outcome, in the entries' order; hosts are read side by side."""
    hosts: dict[str, list[Entry]] = {}
    for entry in entries:
        hosts.setdefault(origin(entry.url), []).append(entry)
    done: dict[str, Outcome] = {}

    async def read_host(queue: list[Entry]) -> None:
        for entry in queue:
            done[entry.url] = await _outcome(crawler, entry, before.get(entry.url), text_field)
            if tick:
                tick(len(done), len(entries))

    await asyncio.gather(*(read_host(queue) for queue in hosts.values()))
    return [done[e.url] for e in entries]


async def _outcome(crawler: Crawler, entry: Entry, old: dict[str, Any] | None, text_field: str | None) -> Outcome:
    if old and entry.lastmod and old.get("lastmod") == entry.lastmod:
        return Outcome(entry.url, skip=NOT_MODIFIED)
    page = await crawler.page(entry.url, (old or {}).get("validators"), text_field=text_field)
    return _from_page(page, entry, old)


def _from_page(page: Page, entry: Entry, old: dict[str, Any] | None) -> Outcome:
    url = entry.url
    if page.status == "ok":
        if not page.result.documents:
            return Outcome(url, problems=page.result.problems)
        state = {"validators": page.validators, "lastmod": entry.lastmod}
        return Outcome(url, page.result.documents, state, problems=page.result.problems)
    if page.status == "not_modified":
        return Outcome(url, skip=NOT_MODIFIED, state={"lastmod": entry.lastmod})
    if page.status == "disallowed":  # remembered with no documents: any it gave before leave the index
        return Outcome(url, [], skip=DISALLOWED)
    if page.status == "gone" and old is not None:  # it was here: it is removed, not a failure
        return Outcome(url, [], skip=f"gone ({page.reason})")
    return Outcome(url, problems=[Problem(url, page.reason)])
