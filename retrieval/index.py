"""The document index: hybrid dense + BM25 search over dated chunks, persisted and incremental.

Adding embeds only new or changed documents (a changed document's old chunks go),
removing drops a document's chunks, and both commit through the manifest (see
storage.py), so the index on disk is readable at every moment. The search structures
(BM25 scores, and an IVF index past the exact-search size) are derived from the chunk
table, rebuilt on the first search after a change and kept as a snapshot next to the
manifest so a restart loads them instead of rebuilding.
"""

from __future__ import annotations

import contextlib
import fcntl
import math
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from tansuo.embedding import Embedder
from tansuo.retrieval.chunking import ChunkConfig, chunk_text, document_batches, embedding_text
from tansuo.retrieval.dense import DEFAULT_APPROX_THRESHOLD, Dense
from tansuo.retrieval.documents import Chunk, Document
from tansuo.retrieval.fusion import HYBRID_ALPHA, convex, fuse, top_positive
from tansuo.retrieval.hits import AddReport, Filters, Hit, IndexMismatch, Mode, Progress
from tansuo.retrieval.lexical import Lexical, tokenize
from tansuo.retrieval.storage import (
    FORMAT,
    MANIFEST,
    Segment,
    read_manifest,
    read_segment,
    remove_orphans,
    replace_dir,
    write_manifest,
    write_segment,
)
from tansuo.retrieval.table import Table, build_table, hit, mask, timestamp

CANDIDATES = 50  # per retriever, before fusion
COMMIT_CHUNKS = 2048  # a long ingest commits every so many chunks, so a crash loses little


class DocumentIndex:
    def __init__(self, folder: Path, embedder: Embedder, *,
                 chunking: ChunkConfig = ChunkConfig(), approx_threshold: int = DEFAULT_APPROX_THRESHOLD,
                 commit_chunks: int = COMMIT_CHUNKS, hybrid_alpha: float = HYBRID_ALPHA) -> None:
        self.folder = folder
        self.embedder = embedder
        self.embedder_name = getattr(embedder, "name", type(embedder).__name__)
        self.chunking = chunking
        self.approx_threshold = approx_threshold
        self.commit_chunks = commit_chunks
        self.hybrid_alpha = hybrid_alpha
        folder.mkdir(parents=True, exist_ok=True)
        # one thread at a time reads or replaces the state: searches run in threads as commits land
        self._state = threading.RLock()
        self._manifest = self._empty_manifest()
        self._segments: dict[str, Segment] = {}
        self._seen: tuple[int, int] | None = None  # the manifest file's (mtime, size) when last read
        with self._writing():  # also cleans up after a writer that crashed
            remove_orphans(folder, set(self._manifest["segments"]))
        self._table: Table | None = None
        self._lexical = Lexical()
        self._dense = Dense(np.zeros((0, embedder.dim), np.float32), approx_threshold=approx_threshold)
        self._ready_generation = -1

    # --- reading -----------------------------------------------------------------------------

    @property
    def generation(self) -> int:
        return self._manifest["generation"]

    @property
    def is_new(self) -> bool:
        """Nothing was ever committed here."""
        return self.generation == 0

    def __len__(self) -> int:
        return sum(d["count"] for d in self._docs.values())

    def __contains__(self, doc_id: str) -> bool:
        return doc_id in self._docs

    def document_ids(self) -> list[str]:
        return list(self._docs)

    def document(self, doc_id: str) -> dict[str, Any] | None:
        """A document's record (title, source, dates, metadata, chunk count), or None."""
        record = self._docs.get(doc_id)
        return None if record is None else {"id": doc_id, **record["info"], "chunks": record["count"]}

    def content_hash(self, doc_id: str) -> str | None:
        """The indexed content's hash (changes when the document is re-ingested with new text)."""
        record = self._docs.get(doc_id)
        return None if record is None else record["hash"]

    def chunks(self, doc_id: str) -> list[Chunk]:
        record = self._docs.get(doc_id)
        if record is None:
            return []
        seg, first = self._segments[record["segment"]], record["first"]
        return [Chunk(doc_id, int(seg.n[r]), seg.texts[r], int(seg.start[r]), int(seg.end[r]))
                for r in range(first, first + record["count"])]

    @property
    def _docs(self) -> dict[str, dict[str, Any]]:
        return self._manifest["documents"]

    @property
    def meta(self) -> dict[str, Any]:
        """Small facts about the index itself, committed with it (e.g. the default corpus is complete)."""
        return dict(self._manifest.setdefault("meta", {}))

    def set_meta(self, key: str, value: Any) -> None:
        self.set_meta_many({key: value})

    def set_meta_many(self, values: dict[str, Any]) -> None:
        """Several facts in one commit; a None value deletes its key."""
        with self._writing():
            meta = self._manifest.setdefault("meta", {})
            meta.update(values)
            for key in [k for k, v in values.items() if v is None]:
                del meta[key]
            self._commit()

    # --- writing -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """One writer at a time across processes (the service and the CLI may share an index);
        the writer first catches up with what others committed, so no commit is lost."""
        with self._state, open(self.folder / ".lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                self._reload()
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _reload(self) -> None:
        manifest = read_manifest(self.folder)
        self._seen = _stat(self.folder)
        if manifest is None:
            return
        if manifest["generation"] == self.generation and set(manifest["segments"]) == self._segments.keys():
            return
        self._manifest = manifest
        self._check_embedder()
        self._segments = {name: self._segments[name] if name in self._segments else read_segment(self.folder / name)
                          for name in manifest["segments"]}
        self._table = None

    def refresh(self) -> bool:
        """Pick up what another process committed (one stat when nothing did); True if anything changed."""
        with self._state:
            if _stat(self.folder) == self._seen:
                return False
            before = self.generation
            self._reload()
            return self.generation != before

    def add(self, documents: Iterable[Document], progress: Progress | None = None) -> AddReport:
        """Index documents; unchanged ones (same content hash) are skipped, changed ones replaced."""
        with self._writing():
            return self._add(documents, progress)

    def _add(self, documents: Iterable[Document], progress: Progress | None) -> AddReport:
        report = AddReport()
        latest: dict[str, Document] = {}
        for doc in documents:
            latest[doc.id] = doc  # the same id twice in one batch: the later wins
        pending: list[tuple[Document, str, list[Chunk]]] = []
        for doc in latest.values():
            digest = doc.content_hash()
            old = self._docs.get(doc.id)
            if old is not None and old["hash"] == digest:
                report.unchanged.append(doc.id)
                continue
            (report.replaced if old is not None else report.added).append(doc.id)
            pending.append((doc, digest, chunk_text(doc.id, doc.text, self.chunking)))
        total = sum(len(c) for _, _, c in pending)
        done = 0
        if progress and total:  # the size of the work before its first (slow) batch
            progress("embedding", 0, total)
        for batch in document_batches(pending, self.commit_chunks):
            self._commit_batch(batch, lambda n: progress and progress("embedding", done + n, total))
            done += sum(len(c) for _, _, c in batch)
        report.chunks = total
        self._maybe_compact()
        return report

    def remove(self, doc_ids: Sequence[str]) -> list[str]:
        """Drop documents; returns those that were there."""
        with self._writing():
            present = [d for d in dict.fromkeys(doc_ids) if d in self._docs]
            if present:
                for doc_id in present:
                    del self._docs[doc_id]
                self._commit()
                self._maybe_compact()
            return present

    def _commit_batch(self, batch: list[tuple[Document, str, list[Chunk]]], progress: Callable[[int], Any]) -> None:
        chunks = [(doc, c) for doc, _, cs in batch for c in cs]
        texts = [embedding_text(doc.title, c.text) for doc, c in chunks]
        vectors = _embed(self.embedder, texts, progress)
        name = self._next_segment_name()
        segment = Segment(
            vectors=vectors, doc_ids=[c.doc_id for _, c in chunks], n=np.array([c.n for _, c in chunks], np.int32),
            start=np.array([c.start for _, c in chunks], np.int64), end=np.array([c.end for _, c in chunks], np.int64),
            texts=[c.text for _, c in chunks], tokens=[" ".join(tokenize(t)) for t in texts])
        write_segment(self.folder, name, segment)
        self._segments[name] = segment
        first = 0
        for doc, digest, cs in batch:
            self._docs[doc.id] = {"hash": digest, "segment": name, "first": first, "count": len(cs),
                                  "info": doc.info()}
            first += len(cs)
        self._manifest["segments"].append(name)
        self._commit()

    def _commit(self) -> None:
        """Write the manifest (the commit point), then delete segments nothing points to."""
        used = {d["segment"] for d in self._docs.values()}
        self._manifest["segments"] = [s for s in self._manifest["segments"] if s in used]
        self._manifest["generation"] += 1
        write_manifest(self.folder, self._manifest)
        self._seen = _stat(self.folder)
        for name in [s for s in self._segments if s not in used]:
            del self._segments[name]
            (self.folder / name).unlink(missing_ok=True)
        self._table = None

    def _maybe_compact(self) -> None:
        """Merge into one segment when many small segments or many dead rows pile up."""
        stored = sum(len(s) for s in self._segments.values())
        live = len(self)
        if len(self._segments) <= 8 and (stored == 0 or live / stored >= 0.6):
            return
        table = build_table(self._manifest, self._docs, self._segments, self.embedder.dim)
        name = self._next_segment_name()
        segment = Segment(table.vectors, table.doc_ids, table.n, table.start, table.end, table.texts, table.tokens)
        write_segment(self.folder, name, segment)
        self._segments[name] = segment
        row = 0
        for doc_id in table.doc_order:
            record = self._docs[doc_id]
            record["segment"], record["first"] = name, row
            row += record["count"]
        self._manifest["segments"] = [name]
        self._commit()

    def _next_segment_name(self) -> str:
        self._manifest["next_segment"] += 1
        return f"seg-{self._manifest['next_segment']:08d}.npz"

    # --- searching ---------------------------------------------------------------------------

    def search(self, query: str, k: int = 5, *, mode: Mode = "hybrid", filters: Filters | None = None,
               candidates: int = CANDIDATES) -> list[Hit]:
        with self._state:  # the table, BM25 and dense structures of one generation
            return self._search(query, k, mode, filters, candidates)

    def _search(self, query: str, k: int, mode: Mode, filters: Filters | None, candidates: int) -> list[Hit]:
        self.prepare()
        table = self._table
        if table is None or not len(table) or not query.strip():
            return []
        kept = mask(table, filters) if filters and not filters.empty else None
        if kept is not None and not kept.any():
            return []
        depth = max(candidates, k)
        dense = bm25 = (np.zeros(0, np.int64), np.zeros(0, np.float32))
        query_vector = bm25_scores = None
        if mode != "bm25":
            query_vector = self.embedder.embed([query])[0]
            dense = self._dense.search(query_vector, depth, kept)
        if mode != "dense":
            bm25_scores = self._lexical.scores(query, kept)
            bm25 = top_positive(bm25_scores, depth) if bm25_scores is not None else bm25
        if mode == "hybrid":
            ranked = convex(table.vectors, query_vector, bm25_scores, dense, bm25, self.hybrid_alpha)
        else:
            ranked = fuse(dense, bm25, mode)
        hits = [hit(table, self._docs, row, score, ranks) for row, score, ranks in ranked[:k]]
        if query_vector is not None and hits:
            rows = np.array([row for row, _, _ in ranked[:k]], np.int64)
            cosines = np.einsum("ij,j->i", table.vectors[rows], query_vector)  # no BLAS threads
            hits = [replace(h, similarity=float(c)) for h, c in zip(hits, cosines)]
        return hits

    def prepare(self, progress: Progress | None = None) -> None:
        """Bring the search structures up to date with the last commit (load the snapshot or rebuild)."""
        with self._state:
            self._prepare(progress)

    def _prepare(self, progress: Progress | None) -> None:
        self.refresh()
        if self._ready_generation == self.generation and self._table is not None:
            return
        table = self._table = build_table(self._manifest, self._docs, self._segments, self.embedder.dim)
        self._dense = Dense(table.vectors, approx_threshold=self.approx_threshold)
        snapshot = self.folder / f"snapshot-{self.generation:08d}"
        if not self._load_snapshot(snapshot, table):
            if progress:
                progress("search structures", 0, 1)
            self._lexical = Lexical.build([t.split() for t in table.tokens])
            self._dense.prepare()
            self._save_snapshot(snapshot)
            if progress:
                progress("search structures", 1, 1)
        self._ready_generation = self.generation

    def _load_snapshot(self, snapshot: Path, table: Table) -> bool:
        if not snapshot.is_dir():
            return False
        try:
            self._lexical = Lexical.load(snapshot / "bm25", len(table))
            self._dense.ivf = Dense.load_ivf(snapshot / "ivf.faiss")
            self._dense.prepare()  # a no-op when the snapshot's IVF fits
            return True
        except (OSError, ValueError, RuntimeError, KeyError):
            return False  # damaged: rebuild

    def _save_snapshot(self, snapshot: Path) -> None:
        tmp = Path(tempfile.mkdtemp(dir=self.folder, prefix=".tmp-snapshot-"))
        (tmp / "bm25").mkdir()
        self._lexical.save(tmp / "bm25")
        self._dense.save(tmp / "ivf.faiss")
        replace_dir(tmp, snapshot)
        for old in self.folder.glob("snapshot-*"):
            if old != snapshot:
                shutil.rmtree(old, ignore_errors=True)


    # --- bookkeeping -------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        dates = [timestamp(r["info"]) for r in self._docs.values()]
        dated = [d for d in dates if not math.isnan(d)]
        origins: dict[str, int] = {}
        for record in self._docs.values():
            origins[record["info"]["date_origin"]] = origins.get(record["info"]["date_origin"], 0) + 1
        return {
            "engine": "embedded", "folder": str(self.folder), "documents": len(self._docs), "chunks": len(self),
            "segments": len(self._segments), "generation": self.generation, "embedder": self.embedder_name,
            "dense": "ivf" if len(self) > self.approx_threshold else "exact",
            "disk_bytes": sum(p.stat().st_size for p in self.folder.rglob("*") if p.is_file()),
            "date_origins": origins,
            "oldest": datetime.fromtimestamp(min(dated)).date().isoformat() if dated else None,
            "newest": datetime.fromtimestamp(max(dated)).date().isoformat() if dated else None,
        }

    def _empty_manifest(self) -> dict[str, Any]:
        return {"format": FORMAT, "embedder": self.embedder_name, "dim": self.embedder.dim, "generation": 0,
                "next_segment": 0, "segments": [], "documents": {}, "meta": {}}

    def _check_embedder(self) -> None:
        m = self._manifest
        if m.get("embedder") != self.embedder_name or m.get("dim") != self.embedder.dim:
            raise IndexMismatch(f"the index in {self.folder} was built with {m.get('embedder')} "
                                f"({m.get('dim')} dims), not {self.embedder_name} ({self.embedder.dim} dims); "
                                "remove that folder to rebuild it")


def _embed(embedder: Embedder, texts: list[str], progress: Callable[[int], Any], batch: int = 256) -> np.ndarray:
    out = []
    for i in range(0, len(texts), batch):
        out.append(embedder.embed(texts[i:i + batch]))
        progress(min(i + batch, len(texts)))
    return np.vstack(out).astype(np.float32) if out else np.zeros((0, embedder.dim), np.float32)


def _stat(folder: Path) -> tuple[int, int] | None:
    try:
        st = (folder / MANIFEST).stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


