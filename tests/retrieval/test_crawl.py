"""Pages, sitemaps and URL lists kept in step with the index, politely, against a real site on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path

import pytest

from tansuo.embedding import HashingEmbedder
from tansuo.retrieval import DocumentIndex
from tansuo.retrieval.crawl import Crawler
from tansuo.retrieval.remote import DISALLOWED, remote_outcomes
from tansuo.retrieval.robots import parse as parse_robots
from tansuo.retrieval.sitemaps import Entry, ListingError, parse_sitemap, parse_url_list, sitemap_pages
from tansuo.retrieval.sync import NOT_MODIFIED, UNCHANGED, apply, remembered
from tansuo.retrieval.web import make_client
from tests.retrieval.site import Site, serving


def _site(**kwargs) -> Site:
    site = Site(**kwargs)
    site.put("/docs/ferry", "Ferry timetable", "The island ferry leaves the harbour at 07:15 and 16:40.")
    site.put("/docs/library", "Library hours", "The town library opens at nine on weekdays.")
    site.put("/docs/pool", "Pool notice", "The outdoor pool is closed for repairs until May.")
    site.put("/private/payroll", "Payroll", "Salaries of the harbour staff.")
    return site


async def _sync(index: DocumentIndex, site: Site, *, delay: float = 0.0, url_list: bool = False):
    async with make_client(5) as client:
        crawler = Crawler(client, delay_s=delay)
        origin = f"{site.base}/sitemap.xml"
        if url_list:
            entries = [Entry(e.url) for e in await sitemap_pages(crawler, origin)]  # the same pages, no lastmod
        else:
            entries = await sitemap_pages(crawler, origin)
        outcomes = await remote_outcomes(crawler, entries, remembered(index, origin))
    return apply(index, origin, outcomes)


@pytest.fixture
def index(tmp_path: Path) -> DocumentIndex:
    return DocumentIndex(tmp_path / "index", HashingEmbedder())


def test_a_sitemap_rerun_fetches_only_the_page_that_changed(index: DocumentIndex) -> None:
    with serving(_site()) as site:
        first = asyncio.run(_sync(index, site))
        assert (first.added, first.changed, first.removed) == (3, 0, 0)
        assert first.skipped == {DISALLOWED: 1} and not first.problems
        assert sorted(site.fetched()) == ["/docs/ferry", "/docs/library", "/docs/pool"]
        assert not any(r.path.startswith("/private/") for r in site.log)  # robots.txt was obeyed

        site.put("/docs/pool", "Pool notice", "The outdoor pool reopens on Saturday.", lastmod="2026-02-01")
        mark = len(site.log)
        second = asyncio.run(_sync(index, site))
        assert [r.path for r in site.requested(mark)] == ["/docs/pool"]  # the others were not even asked
        assert (second.added, second.changed, second.removed) == (0, 1, 0)
        assert second.skipped == {NOT_MODIFIED: 2, DISALLOWED: 1}
        assert "reopens on Saturday" in index.chunks(f"{site.base}/docs/pool")[0].text

        del site.pages["/docs/library"]  # it leaves the sitemap: it leaves the index
        third = asyncio.run(_sync(index, site))
        assert third.removed == 1 and f"{site.base}/docs/library" not in index
        assert f"{site.base}/docs/ferry" in index


def test_pages_without_lastmod_are_asked_for_conditionally(index: DocumentIndex) -> None:
    with serving(_site()) as site:
        asyncio.run(_sync(index, site, url_list=True))
        site.put("/docs/ferry", "Ferry timetable", "The island ferry now leaves at 07:30.")
        mark = len(site.log)
        again = asyncio.run(_sync(index, site, url_list=True))
        asked = site.requested(mark)
        assert {r.path for r in asked} == {"/docs/ferry", "/docs/library", "/docs/pool"}
        assert all(r.conditional for r in asked)
        assert {r.path: r.status for r in asked} == {"/docs/ferry": 200, "/docs/library": 304, "/docs/pool": 304}
        assert (again.added, again.changed) == (0, 1) and again.skipped[NOT_MODIFIED] == 2


def test_a_page_gone_is_removed_and_a_failing_one_kept(index: DocumentIndex) -> None:
    with serving(_site()) as site:
        asyncio.run(_sync(index, site, url_list=True))
        site.broken["/docs/pool"] = 404
        site.broken["/docs/library"] = 503
        report = asyncio.run(_sync(index, site, url_list=True))
        assert report.removed == 1 and report.skipped["gone (HTTP 404)"] == 1
        assert [str(p) for p in report.problems] == [f"{site.base}/docs/library: HTTP 503"]
        assert f"{site.base}/docs/library" in index and f"{site.base}/docs/pool" not in index
        del site.broken["/docs/library"]  # back: it is asked for again, conditionally, and is unchanged
        mark = len(site.log)
        later = asyncio.run(_sync(index, site, url_list=True))
        assert [r.status for r in site.requested(mark) if r.path == "/docs/library"] == [304]
        assert not later.problems


def test_requests_to_one_host_wait_for_the_delay(index: DocumentIndex) -> None:
    with serving(_site()) as site:
        asyncio.run(_sync(index, site, delay=0.25))
        times = [r.at for r in site.log]
        assert len(times) >= 5  # robots.txt, the sitemap, three pages
        assert min(b - a for a, b in zip(times, times[1:])) >= 0.2


def test_robots_crawl_delay_lengthens_the_pause(index: DocumentIndex) -> None:
    with serving(_site(robots="User-agent: *\nCrawl-delay: 0.5\nDisallow: /private/\n")) as site:
        asyncio.run(_sync(index, site, delay=0.0))
        times = [r.at for r in site.log]
        assert min(b - a for a, b in zip(times, times[1:])) >= 0.45


@pytest.mark.parametrize(("status", "allowed"), [(404, True), (503, False)])
def test_robots_txt_missing_allows_and_unreachable_forbids(status: int, allowed: bool) -> None:
    async def check(site: Site) -> bool:
        async with make_client(5) as client:
            return await Crawler(client, delay_s=0).allowed(f"{site.base}/docs/ferry")

    with serving(_site(robots=None, robots_status=status)) as site:
        assert asyncio.run(check(site)) is allowed


def test_robots_txt_unreachable_on_a_rerun_keeps_every_page(index: DocumentIndex) -> None:
    with serving(_site()) as site:
        asyncio.run(_sync(index, site, url_list=True))
        site.robots_status = 503
        mark = len(site.log)
        entries = [Entry(f"{site.base}/docs/{name}") for name in ("ferry", "library", "pool")]

        async def rerun():
            async with make_client(5) as client:
                crawler = Crawler(client, delay_s=0)
                origin = f"{site.base}/sitemap.xml"
                return apply(index, origin, await remote_outcomes(crawler, entries, remembered(index, origin)))

        report = asyncio.run(rerun())
        assert report.removed == 0 and len(index.document_ids()) == 3
        assert {p.message for p in report.problems} == {"robots.txt answered HTTP 503: not fetched"}
        assert site.requested(mark) == []  # and nothing else was asked of the site


def test_robots_rules_longest_match_wildcards_and_groups() -> None:
    rules = parse_robots("User-agent: other\nDisallow: /\n\nUser-agent: *\nDisallow: /a\nAllow: /a/b\n"
                         "Disallow: /*.pdf$\nCrawl-delay: 0.5\n", "tansuo")
    assert rules.allows("https://x.example/a/b/c") and not rules.allows("https://x.example/a/c")
    assert not rules.allows("https://x.example/f.pdf") and rules.allows("https://x.example/f.pdf?v=2")
    assert rules.allows("https://x.example/robots.txt") and rules.crawl_delay == 0.5
    own = parse_robots("User-agent: *\nDisallow: /\n\nUser-agent: Tansuo\nUser-agent: other\nDisallow: /x\n"
                       "Allow: /x\n", "tansuo")
    assert own.allows("https://x.example/y") and own.allows("https://x.example/x")  # its own group; a tie allows
    assert parse_robots("User-agent: *\nDisallow:\n", "tansuo").allows("https://x.example/any")


def test_sitemaps_gzipped_indexes_and_url_lists_parse() -> None:
    xml = (b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
           b"<url><loc>https://a.example/x</loc><lastmod>2026-01-01</lastmod></url>"
           b"<url><loc>ftp://a.example/y</loc></url></urlset>")
    assert parse_sitemap(gzip.compress(xml), "s.xml.gz") == ([Entry("https://a.example/x", "2026-01-01")], [])
    index_xml = (b'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                 b"<sitemap><loc>https://a.example/s1.xml</loc></sitemap></sitemapindex>")
    assert parse_sitemap(index_xml, "i.xml") == ([], ["https://a.example/s1.xml"])
    with pytest.raises(ListingError, match=r"feed.xml: not a sitemap \(root element <rss>"):
        parse_sitemap(b"<rss><channel/></rss>", "feed.xml")
    with pytest.raises(ListingError, match="bad.xml: not a sitemap"):
        parse_sitemap(b"<urlset><url>", "bad.xml")
    assert parse_url_list("# pages\nhttps://a.example/1\n\nhttps://a.example/2  # two\nhttps://a.example/1\n",
                          "l.txt") == [Entry("https://a.example/1"), Entry("https://a.example/2")]
    with pytest.raises(ListingError, match=r"l.txt:1: not an http\(s\) URL"):
        parse_url_list("http://[::1/x\n", "l.txt")
    with pytest.raises(ListingError, match=r"l.txt:2: not an http\(s\) URL: 'www.example.org'"):
        parse_url_list("https://a.example/1\nwww.example.org\n", "l.txt")


def test_unchanged_content_under_a_new_etag_is_not_embedded_again(index: DocumentIndex) -> None:
    with serving(_site()) as site:
        asyncio.run(_sync(index, site, url_list=True))
        site.put("/docs/ferry", "Ferry timetable", "The island ferry leaves the harbour at 07:15 and 16:40.")
        report = asyncio.run(_sync(index, site, url_list=True))
        assert report.changed == 0 and report.skipped[UNCHANGED] + report.skipped[NOT_MODIFIED] == 3
