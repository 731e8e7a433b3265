"""Web sources over real sockets, against a server on 127.0.0.1 that answers in the real APIs' shapes."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from tansuo.retrieval.crawl import Crawler
from tansuo.retrieval.web import ConnectorError, MediaWikiSearch, SearxngSearch, make_client
from tests.http_helpers import JsonHandler

SEARX = {"query": "tide", "number_of_results": 2, "results": [
    {"url": "https://news.example/tides", "title": "Spring tides", "content": "High tides expected on Friday.",
     "engine": "bing", "publishedDate": "2025-04-02T06:00:00"},
    {"url": "https://blog.example/x", "title": "Undated", "content": "A post without a date.", "engine": "ddg"},
    {"title": "no url, dropped"}]}
WIKI_SEARCH = {"batchcomplete": True, "query": {"search": [
    {"ns": 0, "title": "Tide", "pageid": 11, "snippet": "<span class=\"searchmatch\">Tides</span> are ...",
     "timestamp": "2025-01-20T10:00:00Z"}]}}
WIKI_PAGES = {"batchcomplete": True, "query": {"pages": [
    {"pageid": 11, "title": "Tide", "extract": "Tides are the rise and fall of sea levels.",
     "fullurl": "https://wiki.example/wiki/Tide", "touched": "2025-02-01T00:00:00Z"}]}}


class _Handler(JsonHandler):
    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/search" and query.get("format") == "json":
            self.send_json(200, SEARX)
        elif url.path == "/w/api.php" and query.get("list") == "search":
            self.send_json(200, WIKI_SEARCH if query["srsearch"] != "error" else
                           {"error": {"code": "badquery", "info": "bad query"}})
        elif url.path == "/w/api.php" and query.get("prop") == "extracts|info":
            assert query["pageids"] == "11" and query["explaintext"] == "1"
            self.send_json(200, WIKI_PAGES)
        elif url.path == "/page":
            body = b"<html><head><title>Local page</title></head><body><p>Hello from the page.</p></body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Last-Modified", "Wed, 21 Oct 2015 07:28:00 GMT")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif url.path == "/slow":
            time.sleep(2)
            self.send_json(200, {})
        elif url.path == "/notjson":
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", "3")
            self.end_headers()
            self.wfile.write(b"abc")
        elif url.path == "/robots.txt":  # none: everything may be fetched
            self.send_json(404, {"error": "no robots.txt"})
        else:
            self.send_json(500, {"error": "boom"})


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


async def test_searxng_results_become_dated_documents(base: str) -> None:
    async with make_client(5) as client:
        docs = await SearxngSearch(base, client).search("tide", k=5)
    assert [d.title for d in docs] == ["Spring tides", "Undated"]
    assert docs[0].published == datetime(2025, 4, 2, 6, tzinfo=timezone.utc)
    assert docs[0].source == "https://news.example/tides" and docs[0].metadata["engine"] == "bing"
    assert docs[1].published is None and docs[1].date_origin == "none"


async def test_mediawiki_search_and_extracts(base: str) -> None:
    async with make_client(5) as client:
        wiki = MediaWikiSearch(f"{base}/w/api.php", client)
        [doc] = await wiki.search("tide")
        assert doc.text == "Tides are the rise and fall of sea levels."
        assert doc.source == "https://wiki.example/wiki/Tide"
        assert doc.updated == datetime(2025, 1, 20, 10, tzinfo=timezone.utc)
        with pytest.raises(ConnectorError, match="badquery"):
            await wiki.search("error")


async def test_failures_are_connector_errors_that_name_the_cause(base: str) -> None:
    async with make_client(0.5) as client:
        with pytest.raises(ConnectorError, match="timed out"):
            await MediaWikiSearch(f"{base}/slow", client).search("x")
        with pytest.raises(ConnectorError, match="HTTP 500"):
            await SearxngSearch(f"{base}/missing", client).search("x")
    # A port bound but not listening refuses at once; a fixed "closed" port may be filtered and time out instead.
    with socket.socket() as closed, pytest.raises(ConnectorError, match="cannot fetch"):
        closed.bind(("127.0.0.1", 0))
        async with make_client(5) as client:
            await SearxngSearch(f"http://127.0.0.1:{closed.getsockname()[1]}", client).search("x")


async def test_fetching_a_url_uses_last_modified_when_the_page_has_no_date(base: str) -> None:
    async with make_client(5) as client:
        crawler = Crawler(client, delay_s=0)
        [doc] = (await crawler.page(f"{base}/page")).result.documents
        assert doc.title == "Local page" and doc.text == "Hello from the page."
        assert doc.updated == datetime(2015, 10, 21, 7, 28, tzinfo=timezone.utc)
        assert doc.date_origin == "http_header" and doc.source == f"{base}/page"
        problem = (await crawler.page(f"{base}/notjson")).result.problems[0]
        assert "unsupported content type" in problem.message and problem.where == f"{base}/notjson"
