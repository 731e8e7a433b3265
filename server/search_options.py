"""Perplexity's search options as document filters. The recency filter and the after/before dates
are read against each document's date (updated, else published; an undated document never passes
a date filter); the domain filter against its source: a site name (`example.com`) stands for the
URLs on that host and its subdomains; anything else (`https://example.com/blog/`, `/srv/docs/`) is
a source prefix as it is; a leading `-` leaves those sources out."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock

from tansuo.retrieval.hits import Filters
from tansuo.server.protocol import CompletionRequest

RECENCY = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1),
           "month": timedelta(days=31), "year": timedelta(days=366)}
_SITE = re.compile(r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$", re.I)


def day_bounds(after: date | None, before: date | None) -> tuple[datetime | None, datetime | None]:
    """From the start of `after` to the end of `before`, in UTC (None where not given)."""
    return (datetime.combine(after, clock.min, tzinfo=UTC) if after else None,
            datetime.combine(before, clock.max, tzinfo=UTC) if before else None)


def filters_of(request: CompletionRequest, now: datetime) -> Filters | None:
    """The request's search options as filters (None: it sets none). `now` is aware (UTC)."""
    since = now - RECENCY[request.search_recency_filter] if request.search_recency_filter else None
    after, until = day_bounds(request.search_after_date_filter, request.search_before_date_filter)
    if after:
        since = max(since, after) if since else after
    kept: dict[str, list[str]] = {"sources": [], "sites": [], "excluded": [], "excluded_sites": []}
    for entry in request.search_domain_filter or ():
        out = entry.startswith("-")
        entry = entry.removeprefix("-").strip()
        if _SITE.match(entry):
            kept["excluded_sites" if out else "sites"].append(entry.lower().removeprefix("www."))
        else:
            kept["excluded" if out else "sources"].append(entry)
    filters = Filters(since=since, until=until, **{k: tuple(dict.fromkeys(v)) for k, v in kept.items()})
    return None if filters.empty else filters
