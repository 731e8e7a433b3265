"""Each supported format ingests with its title and dates; broken inputs are reported and skipped."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

from tansuo.retrieval import load_file, load_path
from tests.retrieval.pdf_helpers import make_pdf


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def test_plain_text_is_dated_by_file_time_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("The library opens at nine.\n\nIt closes at five.", encoding="utf-8")
    os.utime(path, (1_700_000_000, 1_700_000_000))
    [doc] = load_file(path).documents
    assert doc.title == "notes"
    assert doc.published is None
    assert doc.updated == datetime.fromtimestamp(1_700_000_000, timezone.utc)
    assert doc.date_origin == "file_time"


def test_markdown_front_matter_gives_id_title_dates_and_metadata(tmp_path: Path) -> None:
    path = tmp_path / "ferry.md"
    path.write_text("---\nid: ferry-1\ntitle: Ferry notice\npublished: 2025-03-03\nupdated: 2025-03-05T10:00:00+08:00\n"
                    "tags: [transport]\n---\n# Heading\n\nThe ferry is suspended.\n", encoding="utf-8")
    [doc] = load_file(path).documents
    assert (doc.id, doc.title) == ("ferry-1", "Ferry notice")
    assert doc.published == _utc(2025, 3, 3)
    assert doc.updated == _utc(2025, 3, 5, 2)
    assert doc.date_origin == "metadata"
    assert doc.metadata == {"tags": ["transport"]}
    assert doc.text.strip().startswith("# Heading") and "---" not in doc.text


def test_markdown_without_front_matter_takes_its_first_heading(tmp_path: Path) -> None:
    path = tmp_path / "x.md"
    path.write_text("intro\n\n# The real title\n\nbody", encoding="utf-8")
    assert load_file(path).documents[0].title == "The real title"


def test_rest_takes_its_section_title_and_docinfo_dates(tmp_path: Path) -> None:
    path = tmp_path / "tides.rst"
    path.write_text("=========\nTide table\n=========\n\n:Date: 2024-02-03\n:Source: the harbour office\n\n"
                    "Sub\n---\n\nHigh water at 06:40.", encoding="utf-8")
    [doc] = load_file(path).documents
    assert doc.title == "Tide table" and doc.published == _utc(2024, 2, 3) and doc.date_origin == "metadata"
    assert doc.source == str(path.resolve())  # a :Source: field is prose, not the document's source
    undated = tmp_path / "plain.rst"
    undated.write_text("Just text\n\n:date: someday\n", encoding="utf-8")
    [doc] = load_file(undated).documents
    assert doc.title == "plain" and doc.date_origin == "file_time"


def test_html_meta_dates_title_and_text_without_scripts(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text("""<html lang="en"><head><title>Water main repair</title>
        <meta property="article:published_time" content="2024-11-02T08:00:00Z">
        <meta property="article:modified_time" content="2024-11-04T09:30:00Z">
        <script>var hidden = "do not index";</script><style>p {color: red}</style></head>
        <body><nav>Home | News</nav><h1>Repair</h1><p>Crews repair the main on Elm Street.</p>
        <p>Water returns &amp; flows by Monday.</p></body></html>""", encoding="utf-8")
    [doc] = load_file(path).documents
    assert doc.title == "Water main repair"
    assert (doc.published, doc.updated) == (_utc(2024, 11, 2, 8), _utc(2024, 11, 4, 9, 30))
    assert "Crews repair the main on Elm Street." in doc.text and "Water returns & flows by Monday." in doc.text
    assert "do not index" not in doc.text and "color" not in doc.text and "Home | News" not in doc.text
    assert doc.metadata["lang"] == "en"


def test_html_time_element_and_declared_charset(tmp_path: Path) -> None:
    path = tmp_path / "latin.htm"
    path.write_bytes('<meta charset="iso-8859-1"><p>Caf\xe9 opens <time datetime="2023-05-01">May 1</time></p>'
                     .encode("latin-1"))
    [doc] = load_file(path).documents
    assert "Café opens" in doc.text
    assert doc.published == _utc(2023, 5, 1)


def test_pdf_text_title_and_creation_date(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(make_pdf(["First page about tides.", "Second page about storms."], title="Harbour report",
                              created="D:20240315120000+02'00'"))
    [doc] = load_file(path).documents
    assert doc.title == "Harbour report"
    assert doc.published == _utc(2024, 3, 15, 10)
    assert "First page about tides." in doc.text and "Second page about storms." in doc.text
    assert doc.metadata["pages"] == 2


def test_json_list_and_jsonl_records_with_fields(tmp_path: Path) -> None:
    records = [{"id": "a", "title": "Price list", "text": "Tea costs 3 dollars.", "date": "2024-01-10", "shop": "Kee"},
               {"content": "No title here, the first line is used.", "url": "https://example.org/x"}]
    (tmp_path / "list.json").write_text(json.dumps({"documents": records}), encoding="utf-8")
    (tmp_path / "lines.jsonl").write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    for name in ("list.json", "lines.jsonl"):
        first, second = load_file(tmp_path / name).documents
        assert (first.id, first.title, first.published, first.metadata) == ("a", "Price list", _utc(2024, 1, 10),
                                                                           {"shop": "Kee"})
        assert second.source == "https://example.org/x" and second.title.startswith("No title here")
        assert second.date_origin == "none"


def test_custom_text_field(tmp_path: Path) -> None:
    (tmp_path / "r.jsonl").write_text(json.dumps({"summary": "custom field text"}), encoding="utf-8")
    assert load_file(tmp_path / "r.jsonl").problems  # no text/content/body
    [doc] = load_file(tmp_path / "r.jsonl", text_field="summary").documents
    assert doc.text == "custom field text"


def test_a_folder_reports_broken_files_with_their_paths_and_ingests_the_rest(tmp_path: Path) -> None:
    (tmp_path / "good.md").write_text("# Good\n\nFine text.", encoding="utf-8")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\nthis is not really a pdf")
    (tmp_path / "latin1.txt").write_bytes("na\xefve caf\xe9".encode("latin-1"))
    (tmp_path / "mixed.jsonl").write_text('{"text": "line one"}\n{"text": broken\n{"text": "line three"}\n',
                                          encoding="utf-8")
    (tmp_path / "baddate.md").write_text("---\npublished: someday\n---\ntext", encoding="utf-8")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    (tmp_path / ".hidden.md").write_text("secret", encoding="utf-8")
    result = load_path(tmp_path)
    assert sorted(d.text.strip() for d in result.documents) == ["# Good\n\nFine text.", "line one", "line three"]
    problems = {Path(p.where.split(":")[0]).name: p.message for p in result.problems}
    assert set(problems) == {"broken.pdf", "latin1.txt", "mixed.jsonl", "baddate.md"}
    assert "broken PDF" in problems["broken.pdf"]
    assert "not valid UTF-8" in problems["latin1.txt"] and "offset 2" in problems["latin1.txt"]
    assert any(p.where.endswith("mixed.jsonl:2") for p in result.problems)
    assert "'someday' is not a date" in problems["baddate.md"]
    assert result.skipped == 1  # the PNG


def test_missing_path_and_unsupported_file(tmp_path: Path) -> None:
    assert "no such file" in str(load_path(tmp_path / "nope").problems[0])
    (tmp_path / "a.docx").write_bytes(b"PK")
    assert "unsupported file type .docx" in str(load_file(tmp_path / "a.docx").problems[0])
