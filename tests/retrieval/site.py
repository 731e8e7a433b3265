"""A small web site on 127.0.0.1 for the crawling tests: pages with ETag and Last-Modified that answer
conditional requests with 304, a sitemap with lastmod, robots.txt, and a log of every request."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROBOTS = "User-agent: *\nDisallow: /private/\n"


@dataclass(frozen=True)
class Request:
    path: str
    status: int
    conditional: bool  # it carried If-None-Match or If-Modified-Since
    at: float  # time.monotonic() when it arrived


@dataclass
class _Page:
    html: str
    lastmod: str  # the sitemap's and Last-Modified's date (YYYY-MM-DD)
    version: int


class Site:
    def __init__(self, robots: str | None = ROBOTS, robots_status: int = 200) -> None:
        self.robots, self.robots_status = robots, robots_status
        self.pages: dict[str, _Page] = {}
        self.broken: dict[str, int] = {}  # path -> a status it answers with for now
        self.log: list[Request] = []
        self.lock = threading.Lock()
        self.base = ""

    def put(self, path: str, title: str, body: str, lastmod: str = "2026-01-05") -> None:
        html = f"<html><head><title>{title}</title></head><body><p>{body}</p></body></html>"
        old = self.pages.get(path)
        self.pages[path] = _Page(html, lastmod, (old.version + 1) if old else 1)

    def sitemap(self, gz: bool = False) -> bytes:
        urls = "".join(f"<url><loc>{self.base}{p}</loc><lastmod>{page.lastmod}</lastmod></url>"
                       for p, page in self.pages.items())
        xml = ('<?xml version="1.0" encoding="UTF-8"?>'
               f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>').encode()
        return gzip.compress(xml) if gz else xml

    def fetched(self, since: int = 0) -> list[str]:
        """Pages sent in full (200) from the log's position `since`, robots.txt and sitemaps left out."""
        return [r.path for r in self.log[since:] if r.status == 200 and r.path.startswith("/docs/")]

    def requested(self, since: int = 0) -> list[Request]:
        return [r for r in self.log[since:] if r.path.startswith(("/docs/", "/private/"))]

    def handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                status, headers, body = site._answer(self.path, self.headers)
                with site.lock:
                    site.log.append(Request(self.path, status, bool(self.headers.get("If-None-Match") or
                                                                   self.headers.get("If-Modified-Since")),
                                            time.monotonic()))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def _answer(self, path: str, headers) -> tuple[int, dict[str, str], bytes]:
        if path == "/robots.txt":
            return self.robots_status, {"Content-Type": "text/plain"}, (self.robots or "").encode()
        if path in ("/sitemap.xml", "/sitemap.xml.gz"):
            return 200, {"Content-Type": "application/xml"}, self.sitemap(gz=path.endswith(".gz"))
        if path in self.broken:
            return self.broken[path], {"Content-Type": "text/plain"}, b"broken"
        page = self.pages.get(path)
        if page is None:
            return 404, {"Content-Type": "text/plain"}, b"not found"
        etag = '"' + hashlib.sha1(f"{page.version}:{page.html}".encode()).hexdigest()[:16] + '"'
        modified = formatdate(time.mktime(time.strptime(page.lastmod, "%Y-%m-%d")), usegmt=True)
        if headers.get("If-None-Match") == etag:
            return 304, {"ETag": etag}, b""
        return 200, {"Content-Type": "text/html; charset=utf-8", "ETag": etag, "Last-Modified": modified}, \
            page.html.encode()


@contextlib.contextmanager
def serving(site: Site) -> Iterator[Site]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), site.handler())
    site.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield site
    finally:
        httpd.shutdown()
        httpd.server_close()
