"""The document index: hybrid search, dates and sources, incremental changes, restarts, crashes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from tansuo.embedding import HashingEmbedder
from tansuo.retrieval import Document, DocumentIndex, Filters, IndexMismatch

ROOT = Path(__file__).resolve().parents[2]


class CountingEmbedder(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.embedded = 0

    def embed(self, texts):
        self.embedded += len(texts)
        return super().embed(texts)


def _doc(i: int, text: str | None = None, *, day: int = 1, source: str = "/news") -> Document:
    return Document(id=f"d{i}", title=f"Notice {i}", source=f"{source}/{i}.md",
                    text=text or f"Harbour notice {i}: pier {i} repairs and timetable changes for pier {i}.",
                    published=datetime(2024, 1 + i % 12, day, tzinfo=timezone.utc))


@pytest.fixture
def index(tmp_path: Path) -> DocumentIndex:
    idx = DocumentIndex(tmp_path / "idx", CountingEmbedder())
    idx.add([_doc(i) for i in range(40)])
    return idx


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_each_mode_finds_the_document(index: DocumentIndex, mode: str) -> None:
    hits = index.search("pier 17 repairs", k=3, mode=mode)
    assert hits[0].doc_id == "d17"
    assert hits[0].chunk_id == "d17#0" and hits[0].title == "Notice 17"
    assert hits[0].published == datetime(2024, 6, 1, tzinfo=timezone.utc)
    assert hits[0].text in _doc(17).text


def test_hybrid_records_both_ranks(index: DocumentIndex) -> None:
    top = index.search("pier 17 repairs", k=1)[0]
    assert top.dense_rank == 1 and top.bm25_rank == 1


def test_date_and_source_filters(index: DocumentIndex, tmp_path: Path) -> None:
    index.add([_doc(100, "Ferry pier notice from the other office.", source="/other")])
    since = datetime(2024, 11, 1, tzinfo=timezone.utc)
    hits = index.search("pier repairs", k=50, filters=Filters(since=since))
    assert hits and all(h.published >= since for h in hits)
    until = datetime(2024, 2, 1, tzinfo=timezone.utc)
    assert {h.published.month for h in index.search("pier", k=50, filters=Filters(until=until))} <= {1, 2}
    assert [h.doc_id for h in index.search("pier notice", k=5, filters=Filters(sources=("/other",)))] == ["d100"]
    assert index.search("pier", filters=Filters(sources=("/nowhere",))) == []


def test_undated_documents_never_pass_a_date_filter(tmp_path: Path) -> None:
    idx = DocumentIndex(tmp_path, HashingEmbedder())
    idx.add([Document(id="u", title="Undated", source="/u", text="pier repairs undated")])
    assert idx.search("pier repairs", filters=Filters(since=datetime(1990, 1, 1, tzinfo=timezone.utc))) == []
    assert [h.doc_id for h in idx.search("pier repairs")] == ["u"]


def test_readding_a_changed_document_replaces_its_chunks(index: DocumentIndex) -> None:
    embedder = index.embedder
    before = embedder.embedded
    report = index.add([_doc(5, "The pier 5 notice now says: lighthouse tours resume in spring.")] +
                       [_doc(i) for i in range(5)])
    assert report.replaced == ["d5"] and sorted(report.unchanged) == ["d0", "d1", "d2", "d3", "d4"]
    assert embedder.embedded - before == 1  # only the changed document was embedded again
    assert index.search("lighthouse tours", k=1)[0].doc_id == "d5"
    stale = [h for h in index.search("pier 5 repairs timetable", k=40) if "repairs" in h.text and h.doc_id == "d5"]
    assert stale == []
    assert len(index.chunks("d5")) == 1


def test_removing_a_document_removes_its_chunks(index: DocumentIndex) -> None:
    assert index.remove(["d17", "missing"]) == ["d17"]
    assert all(h.doc_id != "d17" for h in index.search("pier 17 repairs", k=40))
    assert "d17" not in index and index.document("d17") is None
    assert len(index) == 39


def test_the_index_survives_a_restart_without_rebuilding(index: DocumentIndex, tmp_path: Path) -> None:
    index.search("warm up")  # builds and saves the search snapshot
    index.remove(["d3"])
    index.search("warm up")
    embedder = CountingEmbedder()
    reopened = DocumentIndex(tmp_path / "idx", embedder)
    assert len(reopened) == 39 and "d3" not in reopened
    assert reopened.search("pier 17 repairs", k=1)[0].doc_id == "d17"
    assert embedder.embedded == 1  # the query only: nothing was re-embedded
    assert reopened.document("d17")["published"] == "2024-06-01T00:00:00+00:00"


def test_a_damaged_snapshot_is_rebuilt(index: DocumentIndex, tmp_path: Path) -> None:
    index.search("x")
    for path in (tmp_path / "idx").glob("snapshot-*/bm25/*"):
        path.write_bytes(b"garbage")
    reopened = DocumentIndex(tmp_path / "idx", HashingEmbedder())
    assert reopened.search("pier 17 repairs", k=1, mode="bm25")[0].doc_id == "d17"


def test_another_embedder_is_refused_with_a_clear_error(index: DocumentIndex, tmp_path: Path) -> None:
    with pytest.raises(IndexMismatch, match="hashing-256.*remove that folder"):
        DocumentIndex(tmp_path / "idx", HashingEmbedder(dim=64))


def test_approximate_search_past_the_threshold_agrees_with_exact(tmp_path: Path) -> None:
    docs = [Document(id=f"x{i}", title=f"Item {i}", source=f"/s/{i % 3}",
                     text=f"Record {i} about topic{i % 50} and subject{i % 7} with code c{i}.",
                     published=datetime(2020 + i % 5, 1, 1, tzinfo=timezone.utc)) for i in range(3000)]
    exact = DocumentIndex(tmp_path / "exact", HashingEmbedder(), approx_threshold=10_000)
    approx = DocumentIndex(tmp_path / "approx", HashingEmbedder(), approx_threshold=1_000)
    exact.add(docs)
    approx.add(docs)
    approx.prepare()
    assert approx.stats()["dense"] == "ivf" and exact.stats()["dense"] == "exact"
    agree = 0
    for i in range(0, 3000, 150):
        query = f"Record {i} topic{i % 50} code c{i}"
        assert approx.search(query, k=1, mode="dense")[0].doc_id == f"x{i}"
        agree += exact.search(query, k=5, mode="dense")[0].doc_id == approx.search(query, k=5, mode="dense")[0].doc_id
    assert agree == 20
    since = datetime(2024, 1, 1, tzinfo=timezone.utc)
    hits = approx.search("Record topic", k=20, mode="dense", filters=Filters(since=since, sources=("/s/1",)))
    assert hits and all(h.published >= since and h.source == "/s/1" for h in hits)


def test_compaction_keeps_everything_searchable(tmp_path: Path) -> None:
    idx = DocumentIndex(tmp_path, HashingEmbedder(), commit_chunks=5)
    idx.add([_doc(i) for i in range(60)])  # 12 commits, then one merged segment
    assert idx.stats()["segments"] == 1
    idx.remove([f"d{i}" for i in range(0, 60, 2)])
    assert len(idx) == 30
    assert len(list(tmp_path.glob("seg-*"))) == idx.stats()["segments"]  # dead segments are deleted
    assert idx.search("pier 31 repairs", k=1)[0].doc_id == "d31"
    assert DocumentIndex(tmp_path, HashingEmbedder()).search("pier 31 repairs", k=1)[0].doc_id == "d31"


INGEST = textwrap.dedent("""
    import sys, time
    from datetime import datetime, timezone
    from pathlib import Path
    from tansuo.retrieval import Document, DocumentIndex
    from tansuo.embedding import HashingEmbedder

    class Slow(HashingEmbedder):
        def embed(self, texts):
            time.sleep(0.05)
            return super().embed(texts)

    idx = DocumentIndex(Path(sys.argv[1]), Slow(), commit_chunks=10)
    docs = [Document(id=f"k{i}", title=f"Doc {i}", source=f"/k/{i}", text=f"kill test document {i} body")
            for i in range(2000)]
    print("started", flush=True)
    idx.add(docs)
    print("finished", flush=True)
""")


def test_killing_ingestion_midway_leaves_a_readable_index(tmp_path: Path) -> None:
    folder = tmp_path / "idx"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", INGEST, str(folder)], stdout=subprocess.PIPE, env=env, text=True)
    assert proc.stdout.readline().strip() == "started"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(folder.glob("seg-*"))) < 3:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL

    idx = DocumentIndex(folder, HashingEmbedder())  # readable; orphans from the killed write are gone
    kept = len(idx)
    assert 0 < kept < 2000
    assert not list(folder.glob(".tmp*"))
    some = idx.document_ids()[0]
    assert idx.search(f"kill test document {some[1:]} body", k=1)[0].doc_id == some
    report = idx.add([Document(id=f"k{i}", title=f"Doc {i}", source=f"/k/{i}", text=f"kill test document {i} body")
                      for i in range(2000)])
    assert len(report.unchanged) == kept and len(report.added) == 2000 - kept
    assert len(idx) == 2000


def test_empty_index_and_empty_query(tmp_path: Path) -> None:
    idx = DocumentIndex(tmp_path, HashingEmbedder())
    assert idx.search("anything") == [] and idx.is_new
    idx.add([_doc(1)])
    assert idx.search("   ") == []
    assert np.isfinite(idx.search("pier")[0].score)


def test_two_writers_on_one_index_lose_nothing_and_readers_see_commits(tmp_path: Path) -> None:
    service = DocumentIndex(tmp_path, HashingEmbedder())  # e.g. the running service
    cli = DocumentIndex(tmp_path, HashingEmbedder())  # e.g. `tansuo index add` meanwhile
    service.add([_doc(1)])
    cli.add([_doc(2)])
    assert service.search("pier 2 repairs", k=1)[0].doc_id == "d2"  # the reader picked up the commit
    service.add([_doc(3)])
    assert sorted(DocumentIndex(tmp_path, HashingEmbedder()).document_ids()) == ["d1", "d2", "d3"]
    cli.remove(["d1"])
    assert sorted(service.document_ids()) == ["d1", "d2", "d3"] and service.refresh()
    assert sorted(service.document_ids()) == ["d2", "d3"]
