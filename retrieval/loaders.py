"""Files, folders and URLs to Documents.

Each loader returns documents and problems. A problem names the file (and line or
field) and what was wrong; the loader carries on with the rest, so one broken PDF
never stops a folder from ingesting.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from tansuo.retrieval.decoding import LoadError, decode
from tansuo.retrieval.documents import Document, parse_date
from tansuo.retrieval.html import parse_html

TEXT_SUFFIXES = {".txt", ".text", ".rst"}
REST_SUFFIXES = {".rst"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
JSON_SUFFIXES = {".json"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
PDF_SUFFIXES = {".pdf"}
SUPPORTED = TEXT_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES | JSONL_SUFFIXES | PDF_SUFFIXES

# Record fields read from JSON, front matter and HTML meta, in order of preference.
TEXT_FIELDS = ("text", "content", "body")
TITLE_FIELDS = ("title", "headline", "name")
PUBLISHED_FIELDS = ("published", "date", "published_at", "publishedAt", "created", "created_at", "pubDate")
UPDATED_FIELDS = ("updated", "modified", "updated_at", "updatedAt", "last_modified", "lastmod")
SOURCE_FIELDS = ("url", "source", "link")


@dataclass(frozen=True)
class Problem:
    where: str  # path, path:line or URL
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass
class LoadResult:
    documents: list[Document] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    skipped: int = 0  # files in folders with suffixes we don't read

    def extend(self, other: LoadResult) -> None:
        self.documents += other.documents
        self.problems += other.problems
        self.skipped += other.skipped


def iter_files(path: Path) -> Iterator[Path]:
    """Every file under a folder, sorted, hidden files and folders left out."""
    for child in sorted(path.rglob("*")):
        if child.is_file() and not any(part.startswith(".") for part in child.relative_to(path).parts):
            yield child


def load_path(path: Path, *, text_field: str | None = None) -> LoadResult:
    """A file or a folder (recursively)."""
    result = LoadResult()
    if path.is_dir():
        for file in iter_files(path):
            if file.suffix.lower() in SUPPORTED:
                result.extend(load_file(file, text_field=text_field))
            else:
                result.skipped += 1
    elif path.is_file():
        result.extend(load_file(path, text_field=text_field))
    else:
        result.problems.append(Problem(str(path), "no such file or folder"))
    return result


def load_file(path: Path, *, text_field: str | None = None) -> LoadResult:
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        return LoadResult(problems=[Problem(str(path), f"unsupported file type {suffix or '(none)'}; "
                                            f"supported: {', '.join(sorted(SUPPORTED))}")])
    try:
        data = path.read_bytes()
    except OSError as exc:
        return LoadResult(problems=[Problem(str(path), f"cannot read: {exc.strerror or exc}")])
    return load_bytes(data, suffix, source=str(path.resolve()), file_time=_mtime(path),
                      default_title=path.stem, text_field=text_field)


def load_bytes(data: bytes, kind: str, *, source: str, default_title: str, text_field: str | None = None,
               file_time: datetime | None = None, header_date: datetime | None = None) -> LoadResult:
    """Bytes of one kind (a suffix like ".md") to documents; the dates found in the content win
    over an HTTP Last-Modified header, which wins over a file time."""
    try:
        if kind in JSON_SUFFIXES | JSONL_SUFFIXES:
            return _load_records(data, kind, source, text_field)
        if kind in PDF_SUFFIXES:
            doc = _load_pdf(data, source, default_title)
        elif kind in HTML_SUFFIXES:
            doc = _load_html(data, source, default_title)
        elif kind in MARKDOWN_SUFFIXES:
            doc = _load_markdown(decode(data), source, default_title)
        elif kind in REST_SUFFIXES:
            doc = _load_rest(decode(data), source, default_title)
        else:
            doc = Document(id=source, title=default_title, source=source, text=decode(data))
    except LoadError as exc:
        return LoadResult(problems=[Problem(source, str(exc))])
    if not doc.text.strip():
        return LoadResult(problems=[Problem(source, "no text in it")])
    _fallback_dates(doc, header_date, file_time)
    return LoadResult(documents=[doc])


def _fallback_dates(doc: Document, header_date: datetime | None, file_time: datetime | None) -> None:
    if doc.published or doc.updated:
        doc.date_origin = "metadata"
    elif header_date:
        doc.updated, doc.date_origin = header_date, "http_header"
    elif file_time:
        doc.updated, doc.date_origin = file_time, "file_time"


def _mtime(path: Path) -> datetime | None:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
    except OSError:
        return None


# --- Markdown -------------------------------------------------------------------------------

def _load_markdown(text: str, source: str, default_title: str) -> Document:
    meta, body = _front_matter(text)
    title = _first(meta, TITLE_FIELDS) or _first_heading(body) or default_title
    return _document(meta, body, source, str(title))


def _front_matter(text: str) -> tuple[dict[str, Any], str]:
    """YAML between leading '---' lines; a broken block is a problem, not text."""
    if not text.startswith("---"):
        return {}, text
    lines = text.split("\n")
    if lines[0].strip() != "---":
        return {}, text
    for i, line in enumerate(lines[1:], start=1):
        if line.strip() in ("---", "..."):
            try:
                meta = yaml.safe_load("\n".join(lines[1:i])) or {}
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                where = f" (line {mark.line + 2})" if mark else ""
                raise LoadError(f"invalid YAML front matter{where}: {getattr(exc, 'problem', exc)}") from None
            if not isinstance(meta, dict):
                raise LoadError("front matter is not a mapping of fields")
            return meta, "\n".join(lines[i + 1:])
    return {}, text  # an opening rule with no closing one is just text


def _first_heading(text: str) -> str | None:
    for line in text.split("\n"):
        if line.startswith("# "):
            return line[2:].strip()
    return None


# --- reStructuredText ---------------------------------------------------------------------

ADORNMENT = re.compile(r"""^([=\-~^*#+`:'"._])\1{2,}\s*$""")
DOCINFO = re.compile(r"^:([A-Za-z][\w -]*):\s*(.+)$")


def _load_rest(text: str, source: str, default_title: str) -> Document:
    """The first section title (a line under- or over-and-underlined) and docinfo fields like `:date:`."""
    lines = text.split("\n")
    title = None
    for i in range(1, len(lines)):
        line, above = lines[i].rstrip(), lines[i - 1].strip()
        before = lines[i - 2].strip() if i >= 2 else ""
        if (ADORNMENT.match(line) and above and not ADORNMENT.match(above) and len(above) <= 120
                and (not before or ADORNMENT.match(before))):  # a title stands alone (or under an overline)
            title = above
            break
    fields = {m.group(1).strip().lower(): m.group(2).strip() for m in map(DOCINFO.match, lines[:40]) if m}
    # only the dates (when they are dates) and the author: a `:source:` or `:id:` field is prose here
    kept = {k: v for k, v in fields.items() if k in PUBLISHED_FIELDS + UPDATED_FIELDS and parse_date(v)}
    kept |= {"author": fields["author"]} if "author" in fields else {}
    return _document(kept, text, source, title or default_title)


# --- HTML and PDF ---------------------------------------------------------------------------

def _load_html(data: bytes, source: str, default_title: str) -> Document:
    page = parse_html(data)
    text = page.text
    meta = dict(page.meta)
    return Document(id=source, title=page.title or default_title, source=source, text=text,
                    published=parse_date(page.published), updated=parse_date(page.updated),
                    metadata={k: v for k, v in meta.items() if k in ("author", "description", "keywords", "lang")})


def _load_pdf(data: bytes, source: str, default_title: str) -> Document:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata or {}
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise LoadError(f"broken PDF: {exc}") from None
    title = str(info.get("/Title") or "").strip() or default_title
    return Document(id=source, title=title, source=source, text="\n\n".join(p.strip() for p in pages),
                    published=parse_date(str(info.get("/CreationDate") or "")),
                    updated=parse_date(str(info.get("/ModDate") or "")),
                    metadata={"pages": len(pages), **({"author": str(info["/Author"])} if info.get("/Author") else {})})


# --- JSON and JSONL ---------------------------------------------------------------------------

def _load_records(data: bytes, kind: str, source: str, text_field: str | None) -> LoadResult:
    result = LoadResult()
    try:
        text = decode(data)
    except LoadError as exc:
        return LoadResult(problems=[Problem(source, str(exc))])
    for where, record, n in _records(text, kind, source, result):
        try:
            result.documents.append(_from_record(record, text_field, f"{source}#{n}", source))
        except LoadError as exc:
            result.problems.append(Problem(where, str(exc)))
    return result


def _records(text: str, kind: str, source: str, result: LoadResult):
    if kind in JSONL_SUFFIXES:
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                yield f"{source}:{n}", json.loads(line), n
            except json.JSONDecodeError as exc:
                result.problems.append(Problem(f"{source}:{n}", f"invalid JSON: {exc.msg} (column {exc.colno})"))
        return
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        result.problems.append(Problem(f"{source}:{exc.lineno}", f"invalid JSON: {exc.msg} (column {exc.colno})"))
        return
    if isinstance(value, dict) and isinstance(value.get("documents"), list):
        value = value["documents"]
    records = value if isinstance(value, list) else [value]
    for n, record in enumerate(records):
        yield f"{source}[{n}]", record, n


def _from_record(record: object, text_field: str | None, default_id: str, default_source: str) -> Document:
    if not isinstance(record, dict):
        raise LoadError(f"a record must be a JSON object, not {type(record).__name__}")
    fields = (text_field,) if text_field else TEXT_FIELDS
    text = _first(record, fields)
    if not isinstance(text, str) or not text.strip():
        raise LoadError(f"no text: expected a non-empty string in field {' or '.join(repr(f) for f in fields)}")
    meta = {k: v for k, v in record.items() if k not in fields}
    source = _first(meta, SOURCE_FIELDS)
    doc = _document(meta, text, str(source) if source else default_source,
                    str(_first(meta, TITLE_FIELDS) or text.strip().split("\n")[0][:80]), default_id=default_id)
    doc.date_origin = "metadata" if doc.date else "none"
    return doc


def _document(meta: dict[str, Any], text: str, source: str, title: str, *, default_id: str | None = None) -> Document:
    """A document from text plus a mapping of fields (front matter or a JSON record)."""
    published_raw, updated_raw = _first(meta, PUBLISHED_FIELDS), _first(meta, UPDATED_FIELDS)
    published, updated = parse_date(published_raw), parse_date(updated_raw)
    for name, raw, parsed in (("published", published_raw, published), ("updated", updated_raw, updated)):
        if raw not in (None, "") and parsed is None:
            raise LoadError(f"field {name!r}: {raw!r} is not a date")
    known = set(TITLE_FIELDS) | set(PUBLISHED_FIELDS) | set(UPDATED_FIELDS) | set(SOURCE_FIELDS) | {"id"}
    metadata = {k: _jsonable(v) for k, v in meta.items() if k not in known}
    return Document(id=str(meta.get("id") or default_id or source), title=title, source=source, text=text,
                    published=published, updated=updated, metadata=metadata)


def _first(mapping: dict[str, Any], names: tuple[str | None, ...]) -> Any:
    for name in names:
        if name and mapping.get(name) not in (None, ""):
            return mapping[name]
    return None


def _jsonable(value: Any) -> Any:
    """Front matter may hold YAML dates; keep metadata JSON-serialisable."""
    try:
        json.dumps(value)
        return value
    except TypeError:
        return str(value)
