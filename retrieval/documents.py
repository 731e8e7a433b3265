"""Documents and chunks: what was ingested, where it came from and when it was written."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Literal

from dateutil import parser as date_parser

# Where a document's dates came from. A file's modification time says when the copy on disk
# changed, not when the text was written, so it is recorded as such and never passed off as
# a publication date. A Git folder's files take their first and last commits' dates.
DateOrigin = Literal["metadata", "http_header", "git_commit", "file_time", "none"]


@dataclass
class Document:
    id: str
    title: str
    source: str  # a path or a URL
    text: str
    published: datetime | None = None
    updated: datetime | None = None
    date_origin: DateOrigin = "none"
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.date_origin == "none" and (self.published or self.updated):
            self.date_origin = "metadata"

    @property
    def date(self) -> datetime | None:
        """The date a reader would give it: when it was last updated, else published."""
        return self.updated or self.published

    def content_hash(self) -> str:
        """Changes when anything that ends up in the index changes."""
        payload = json.dumps([self.title, self.source, self.text, iso(self.published), iso(self.updated),
                              self.date_origin, self.metadata], sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()

    def info(self) -> dict[str, Any]:
        """The document's record without its text (stored once per document)."""
        return {"title": self.title, "source": self.source, "published": iso(self.published),
                "updated": iso(self.updated), "date_origin": self.date_origin, "metadata": self.metadata}


@dataclass(frozen=True)
class Chunk:
    doc_id: str
    n: int  # position in the document
    text: str
    start: int  # character offsets into the document's text
    end: int

    @property
    def id(self) -> str:
        return f"{self.doc_id}#{self.n}"


def parse_date(value: object) -> datetime | None:
    """A date from metadata in any common format, as an aware UTC datetime; None if it is not one.

    Dates without a zone are taken as UTC; a bare date is midnight UTC.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value  # epoch milliseconds or seconds
        return datetime.fromtimestamp(seconds, timezone.utc)
    elif isinstance(value, str):
        parsed = _parse_text(value.strip())
        if parsed is None:
            return None
    else:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def _parse_text(text: str) -> datetime | None:
    if text.startswith("D:"):  # PDF dates: D:YYYYMMDDHHmmSS+HH'mm', any tail left off
        match = re.fullmatch(r"D:(\d{4,14})(Z|[+-]\d{2}'?\d{2}'?)?.*", text)
        if not match or len(match.group(1)) % 2:
            return None
        digits = match.group(1) + "0101000000"[len(match.group(1)) - 4:]
        zone = (match.group(2) or "Z").replace("'", "")
        try:
            return datetime.strptime(digits + (zone if zone != "Z" else "+0000"), "%Y%m%d%H%M%S%z")
        except ValueError:
            return None
    try:
        return date_parser.parse(text, default=datetime(2000, 1, 1))
    except (ValueError, OverflowError):
        return None


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
