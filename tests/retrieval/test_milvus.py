"""The document index contract on both engines: the embedded store, and Milvus through pymilvus over
the network (milvus-lite's gRPC server, started here on 127.0.0.1, standing in for a Milvus server)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tansuo.embedding import HashingEmbedder
from tansuo.llm.llama_server import free_port
from tansuo.retrieval import Document, DocumentIndex, Filters, IndexMismatch
from tansuo.retrieval.build import make_index
from tansuo.retrieval.loaders import load_path
from tansuo.retrieval.milvus import IndexUnavailable, MilvusIndex, filter_expression
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[2]


class MilvusServer:
    """milvus-lite's gRPC server in a process of its own, as a Milvus server would run."""

    def __init__(self, data: Path) -> None:
        self.port = free_port()
        self.uri = f"http://127.0.0.1:{self.port}"
        self.log = data.parent / "milvus.log"
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(data),
                                          "--host", "127.0.0.1", "--port", str(self.port)],
                                         stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                assert self.proc.poll() is None and time.monotonic() < deadline, self.log.read_text()[-2000:]
                time.sleep(0.1)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


@pytest.fixture(scope="module")
def milvus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MilvusServer]:
    server = MilvusServer(tmp_path_factory.mktemp("milvus") / "data")
    yield server
    server.stop()


def _doc(i: int, text: str | None = None, *, day: int = 1, source: str = "/news_desk") -> Document:
    return Document(id=f"d{i}", title=f"Notice {i}", source=f"{source}/{i}.md",
                    text=text or f"Harbour notice {i}: pier {i} repairs and timetable changes for pier {i}.",
                    published=datetime(2024, 1 + i % 12, day, tzinfo=timezone.utc))


@pytest.fixture(params=["embedded", "milvus"])
def engine(request, tmp_path: Path):
    """A maker of empty indexes on one engine (each test gets collections of its own)."""
    def make(embedder=None, name: str | None = None):
        embedder = embedder or HashingEmbedder()
        if request.param == "embedded":
            return DocumentIndex(tmp_path / (name or "idx"), embedder)
        return MilvusIndex(request.getfixturevalue("milvus").uri, embedder, name=name or f"t{uuid.uuid4().hex[:10]}")
    return make


@pytest.fixture
def index(engine):
    idx = engine()
    idx.add([_doc(i) for i in range(40)])
    return idx


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25", "rrf"])
def test_each_mode_finds_the_document(index, mode: str) -> None:
    hits = index.search("pier 17 repairs", k=3, mode=mode)
    assert hits[0].doc_id == "d17" and hits[0].chunk_id == "d17#0" and hits[0].title == "Notice 17"
    assert hits[0].published == datetime(2024, 6, 1, tzinfo=timezone.utc) and hits[0].text in _doc(17).text
    assert (hits[0].similarity is None) == (mode == "bm25")


def test_date_and_source_filters(index) -> None:
    index.add([_doc(100, "Ferry pier notice from the other office.", source="/other_desk"),
               Document(id="u", title="Undated", source="/other_desk/u", text="pier notice undated")])
    since = datetime(2024, 11, 1, tzinfo=timezone.utc)
    hits = index.search("pier repairs", k=50, filters=Filters(since=since))
    assert hits and all(h.published >= since for h in hits)
    until = datetime(2024, 2, 1, tzinfo=timezone.utc)
    assert {h.published.month for h in index.search("pier", k=50, filters=Filters(until=until))} <= {1, 2}
    may = datetime(2024, 5, 1, tzinfo=timezone.utc)  # d100's date
    only = index.search("pier notice", k=5, filters=Filters(sources=("/other_desk",), since=may))
    assert [h.doc_id for h in only] == ["d100"]  # the undated one never passes a date filter
    assert {h.doc_id for h in index.search("pier notice", k=5, filters=Filters(sources=("/other_desk",)))} == \
        {"d100", "u"}
    assert index.search("pier", filters=Filters(sources=("/other%desk",))) == []  # % is no wildcard in a prefix
    assert index.search("pier", filters=Filters(sources=("/otherXdesk",))) == []  # nor _


def test_site_filters_take_subdomains_and_leave_out_what_is_excluded(index) -> None:
    sites = {"a": "https://harbour.example/pier", "b": "https://news.harbour.example/pier",
             "c": "https://harbour.example.net/pier", "d": "https://other.example/harbour.example/pier"}
    index.add([Document(id=k, title=k, source=v, text=f"pier timetable notice {k}") for k, v in sites.items()])

    def found(**filters) -> set[str]:
        return {h.doc_id for h in index.search("pier timetable notice", k=50, filters=Filters(**filters))} & set(sites)

    assert found(sites=("harbour.example",)) == {"a", "b"}  # not a longer name, not a path
    assert found(excluded_sites=("harbour.example",)) == {"c", "d"}
    assert found(sites=("harbour.example",), sources=("https://other.example/",)) == {"a", "b", "d"}
    assert found(excluded=("https://news.",), sites=("harbour.example",)) == {"a"}


def test_readding_a_changed_document_replaces_its_chunks_and_skips_the_rest(index) -> None:
    report = index.add([_doc(5, "Lighthouse tours resume in spring. " * 60)] + [_doc(i) for i in range(5)])
    assert report.replaced == ["d5"] and sorted(report.unchanged) == ["d0", "d1", "d2", "d3", "d4"]
    assert index.search("lighthouse tours", k=1)[0].doc_id == "d5" and len(index.chunks("d5")) > 1
    shorter = index.add([_doc(5, "Pier 5 is closed.")])
    assert shorter.replaced == ["d5"] and [c.text for c in index.chunks("d5")] == ["Pier 5 is closed."]
    assert all(h.doc_id != "d5" for h in index.search("lighthouse tours", k=40, mode="bm25"))
    assert len(index) == 40 and index.content_hash("d5") == _doc(5, "Pier 5 is closed.").content_hash()


def test_removing_a_document_removes_its_chunks(index) -> None:
    assert index.remove(["d17", "missing"]) == ["d17"]
    assert all(h.doc_id != "d17" for h in index.search("pier 17 repairs", k=40))
    assert "d17" not in index and index.document("d17") is None and len(index) == 39
    assert sorted(index.document_ids()) == sorted(f"d{i}" for i in range(40) if i != 17)


def test_stats_and_meta(index) -> None:
    stats = index.stats()
    assert stats["documents"] == 40 and stats["chunks"] == 40
    assert stats["oldest"] == "2024-01-01" and stats["newest"] == "2024-12-01"
    index.set_meta("default_corpus", {"packages": ["json"]})
    assert index.meta["default_corpus"] == {"packages": ["json"]}
    assert index.document("d3")["title"] == "Notice 3"


def test_another_embedder_is_refused_with_a_clear_error(engine) -> None:
    engine(name="same").add([_doc(1)])
    with pytest.raises(IndexMismatch, match="hashing-256"):
        engine(HashingEmbedder(dim=64), name="same")


def test_a_filter_expression_escapes_what_a_source_may_hold() -> None:
    expr = filter_expression(Filters(sources=('/a_b', 'say "hi"\\', "ünï 😀"),
                                      since=datetime(2024, 1, 1, tzinfo=timezone.utc)))
    assert expr == ('dated == true and date >= 1704067200.0 and (source like "/a\\\\_b%" or '
                    'source like "say \\"hi\\"%" or source like "ünï 😀%")')


def test_ids_and_sources_with_quotes_backslashes_and_emoji(engine) -> None:
    idx = engine()
    odd = Document(id="notes/Ada's \"log\" \\ 😀.md", title="Odd", source="C:\\notes\\ada's 😀.md",
                   text="The analytical engine weaves algebraic patterns.")
    idx.add([odd, _doc(1)])
    assert idx.add([odd]).unchanged == [odd.id] and odd.id in idx and idx.document(odd.id)["title"] == "Odd"
    assert [c.text for c in idx.chunks(odd.id)] == [odd.text]
    found = idx.search("analytical engine", k=3, filters=Filters(sources=("C:\\notes\\",)))
    assert [h.doc_id for h in found] == [odd.id]
    assert idx.remove([odd.id]) == [odd.id] and odd.id not in idx and idx.document_ids() == ["d1"]
    assert idx.search("analytical engine", k=3, mode="bm25") == []


def test_a_server_that_does_not_answer_is_a_clear_error() -> None:
    with pytest.raises(IndexUnavailable, match=f"127.0.0.1:{free_port()}|does not answer|Milvus"):
        MilvusIndex(f"http://127.0.0.1:{free_port()}", HashingEmbedder(), timeout_s=2)


def test_the_index_commands_run_on_a_milvus_server(milvus: MilvusServer, tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "ferry.md").write_text("# Ferry\n\nThe Skerry ferry sails at 07:15 from pier 3.\n")
    env = {**os.environ, "TANSUO_DATA_DIR": str(tmp_path / "data"), "TANSUO_INDEX_URI": milvus.uri,
           "TANSUO_INDEX_COLLECTION": f"cli{uuid.uuid4().hex[:8]}", "TANSUO_DEFAULT_CORPUS": "false"}
    tansuo = shutil.which("tansuo", path=str(Path(sys.executable).parent)) or "tansuo"

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([tansuo, "index", *args], env=env, capture_output=True, text=True, timeout=300)

    added = run("add", str(tmp_path / "notes"))
    assert added.returncode == 0 and "1 added" in added.stdout, added.stderr[-2000:]
    found = run("search", "when does the ferry sail", "--json")
    assert found.returncode == 0 and "07:15" in json.loads(found.stdout.splitlines()[0])["text"]
    stats = run("stats")
    assert stats.returncode == 0 and "milvus" in stats.stdout and "1" in stats.stdout
    doc_id = json.loads(found.stdout.splitlines()[0])["chunk_id"].rsplit("#", 1)[0]
    removed = run("remove", doc_id)
    assert removed.returncode == 0 and run("search", "ferry", "--json").stdout.strip() == ""
    env["TANSUO_INDEX_URI"] = f"http://127.0.0.1:{free_port()}"  # nobody there: one line, no traceback
    down = run("stats")
    assert down.returncode != 0 and "Traceback" not in down.stderr and "Milvus" in down.stderr


def test_the_news_corpus_ranks_alike_on_both_engines(milvus: MilvusServer, embedder, tmp_path: Path) -> None:
    """Same vectors, same terms: dense search is exact on both; hybrid fuses with each engine's own
    normalisation (docs/retrieval.md), so its order may differ a little."""
    settings = make_settings(tmp_path / "data", index_uri=milvus.uri, index_collection=f"n{uuid.uuid4().hex[:8]}")
    docs = load_path(ROOT / "eval_sets" / "news").documents
    on_milvus = make_index(settings, embedder)
    embedded = DocumentIndex(tmp_path / "embedded", embedder)
    for idx in (on_milvus, embedded):
        idx.add(docs)
    queries = [d.title for d in docs[:20]]
    for query in queries:
        assert [h.chunk_id for h in on_milvus.search(query, 5, mode="dense")] == \
            [h.chunk_id for h in embedded.search(query, 5, mode="dense")]
    top = sum(on_milvus.search(q, 1)[0].doc_id == embedded.search(q, 1)[0].doc_id for q in queries)
    assert top >= 18


def test_an_origins_memory_of_many_pages_fits_either_engine(engine) -> None:
    from tansuo.retrieval.sync import Outcome, apply, remembered

    index = engine()
    base = "https://docs.example.org/" + "section/" * 8
    state = {"validators": {"etag": '"' + "e" * 40 + '"', "last_modified": "Mon, 05 Jan 2026 00:00:00 GMT"}}
    outcomes = [Outcome(f"{base}{n}", [Document(id=f"{base}{n}", title=f"Page {n}", source=f"{base}{n}",
                                                text=f"Page {n} of the manual.")], state) for n in range(1200)]
    assert apply(index, "https://docs.example.org/sitemap.xml", outcomes).added == 1200
    memory = remembered(index, "https://docs.example.org/sitemap.xml")  # over 64 KiB: kept in pieces
    assert len(memory) == 1200 and memory[f"{base}7"]["validators"]["etag"] == '"' + "e" * 40 + '"'
    again = apply(index, "https://docs.example.org/sitemap.xml", [Outcome(o.key, skip="not modified")
                                                                   for o in outcomes[1:]])
    assert again.removed == 1 and f"{base}0" not in index and len(index.document_ids()) == 1199
    assert len(remembered(index, "https://docs.example.org/sitemap.xml")) == 1199
    records = "/data/" + "exports/" * 10 + "records.jsonl"  # one file of 3,000 records: one unit, packed small
    report = apply(index, records, [Outcome(records, [Document(id=f"{records}#{n}", title=f"r{n}", source=records,
                                                               text=f"record {n}") for n in range(3000)], {})])
    assert report.added == 3000 and len(remembered(index, records)[records]["ids"]) == 3000
