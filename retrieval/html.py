"""HTML to title, dates and readable text, with the standard library's parser.

Dates come from the meta tags publishers use (Open Graph article:*, Dublin Core,
schema.org itemprop, citation_*), then a <time datetime> element.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from tansuo.retrieval.decoding import decode

PUBLISHED_META = ("article:published_time", "og:published_time", "datepublished", "dc.date", "dc.date.issued",
                  "dcterms.created", "dcterms.issued", "citation_publication_date", "citation_date",
                  "pubdate", "publish-date", "date")
UPDATED_META = ("article:modified_time", "og:updated_time", "datemodified", "dcterms.modified",
                "dc.date.modified", "last-modified", "lastmod", "revised")
SKIPPED = {"script", "style", "noscript", "template", "svg", "nav", "head"}
BLOCKS = {"p", "div", "section", "article", "main", "header", "footer", "aside", "li", "ul", "ol", "table",
          "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "br", "hr", "dd", "dt", "figure"}
VOID = {"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "embed", "source", "track", "wbr"}


@dataclass
class HtmlPage:
    title: str = ""
    text: str = ""
    meta: dict[str, str] = field(default_factory=dict)
    time: str | None = None  # the first <time datetime="...">
    charset: str | None = None

    @property
    def published(self) -> str | None:
        return next((self.meta[k] for k in PUBLISHED_META if self.meta.get(k)), None) or self.time

    @property
    def updated(self) -> str | None:
        return next((self.meta[k] for k in UPDATED_META if self.meta.get(k)), None)


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = HtmlPage()
        self.parts: list[str] = []
        self.skip_depth = 0
        self.in_title = False
        self.title_parts: list[str] = []
        self.h1: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): v or "" for k, v in attrs}
        if tag == "meta":
            self._meta(a)
        elif tag == "time" and self.page.time is None and a.get("datetime"):
            self.page.time = a["datetime"]
        elif tag == "html" and a.get("lang"):
            self.page.meta.setdefault("lang", a["lang"])
        if tag == "title":
            self.in_title = True
        elif tag == "h1" and self.h1 is None:
            self.h1 = []
        if tag in SKIPPED and tag not in VOID:
            self.skip_depth += 1
        if tag in BLOCKS:
            self.parts.append("\n\n" if tag not in ("br", "li", "tr", "dt", "dd") else "\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        if tag in SKIPPED and self.skip_depth:
            self.skip_depth -= 1
        if tag == "h1" and self.h1 is not None and not self.page.meta.get("_h1"):
            self.page.meta["_h1"] = " ".join("".join(self.h1).split())
        if tag in BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title_parts.append(data)
            return
        if self.h1 is not None and "_h1" not in self.page.meta:
            self.h1.append(data)
        if not self.skip_depth:
            self.parts.append(data)

    def _meta(self, a: dict[str, str]) -> None:
        if a.get("charset"):
            self.page.charset = a["charset"]
        key = (a.get("property") or a.get("name") or a.get("itemprop") or a.get("http-equiv") or "").lower()
        if key == "content-type" and "charset=" in a.get("content", ""):
            self.page.charset = a["content"].split("charset=")[-1].strip()
        elif key and a.get("content"):
            self.page.meta.setdefault(key, a["content"].strip())


def parse_html(data: bytes) -> HtmlPage:
    charset = _declared_charset(data[:2048])
    parser = _Parser()
    parser.feed(decode(data, charset))
    parser.close()
    page = parser.page
    h1 = page.meta.pop("_h1", "")
    page.title = " ".join("".join(parser.title_parts).split()) or page.meta.get("og:title", "") or h1
    page.text = _tidy("".join(parser.parts))
    return page


def _declared_charset(head: bytes) -> str | None:
    match = re.search(rb"""charset=["']?([A-Za-z0-9_-]+)""", head)
    if not match:
        return None
    name = match.group(1).decode().lower()
    return None if name in ("utf-8", "utf8") else name


def _tidy(text: str) -> str:
    """Collapse runs of spaces inside lines and of blank lines between paragraphs."""
    lines = [" ".join(line.split()) for line in text.split("\n")]
    out, blank = [], False
    for line in lines:
        if line:
            if blank and out:
                out.append("")
            out.append(line)
            blank = False
        else:
            blank = True
    return "\n".join(out)
