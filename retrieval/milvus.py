"""The document index on Milvus, through pymilvus: the same surface as `DocumentIndex` for corpora
and traffic past one machine (Milvus Standalone, Distributed or Zilliz Cloud, by URI and token).

Two collections: `<name>_chunks` (one row per chunk: its dense vector, and the BM25 sparse vector
that Milvus's BM25 function makes from the chunk's terms) and `<name>_docs` (one row per document:
its content hash, its record, its chunk count; and the index's own facts). The BM25 input is the
same stemmed, stop-worded terms the embedded index scores, so both engines match the same words
whatever analyzers a Milvus version ships. Search fuses dense and BM25 in the engine
(`hybrid_search`); date range and source prefixes are scalar filters on each chunk."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import numpy as np

from tansuo.embedding import Embedder
from tansuo.errors import ConfigError, TansuoError
from tansuo.retrieval.chunking import ChunkConfig, chunk_text, document_batches, embedding_text
from tansuo.retrieval.documents import Chunk, Document
from tansuo.retrieval.fusion import HYBRID_ALPHA, RRF_K
from tansuo.retrieval.hits import AddReport, Filters, Hit, IndexMismatch, Mode, Progress
from tansuo.retrieval.index import CANDIDATES
from tansuo.retrieval.lexical import tokenize
from tansuo.retrieval.table import from_iso, timestamp

ID_CHARS = 4096  # the longest document id (a path or a URL) the collections take
TEXT_CHARS = 65535  # Milvus's VARCHAR limit, in bytes
BATCH = 256  # chunks embedded and written per request (whole documents: a long one makes a batch longer)
PAD_DIM = 2  # Milvus wants a vector field in every collection; the document table's is a constant
HIT_FIELDS = ["doc_id", "n", "start", "end", "text", "info", "dense"]
# pymilvus pings an idle channel every 10 s; a server that enforces gRPC's default ping policy
# (milvus-lite's does) answers GOAWAY "too_many_pings" and the shared channel stops connecting.
# Pings only while a call is in flight; an idle channel reconnects on the next call.
GRPC_OPTIONS = {"grpc.keepalive_permit_without_calls": False}


class IndexUnavailable(TansuoError):
    """The Milvus server did not answer, or refused a request."""


class MilvusIndex:
    def __init__(self, uri: str, embedder: Embedder, *, token: str | None = None, name: str = "tansuo",
                 chunking: ChunkConfig = ChunkConfig(), hybrid_alpha: float = HYBRID_ALPHA,
                 timeout_s: float = 30.0) -> None:
        try:
            from pymilvus import MilvusClient
        except ImportError:
            raise ConfigError("a Milvus index needs its client: pip install 'tansuo[milvus]' (pymilvus)") from None

        self.uri = uri
        self.embedder = embedder
        self.embedder_name = getattr(embedder, "name", type(embedder).__name__)
        self.chunking = chunking
        self.hybrid_alpha = hybrid_alpha
        self.chunks_name, self.docs_name = f"{name}_chunks", f"{name}_docs"
        # pymilvus warns on every query iterator that a server does not report its MVCC timestamp
        logging.getLogger("pymilvus").setLevel(logging.ERROR)
        self._client = self._call(lambda: MilvusClient(uri=uri, token=token or "", timeout=timeout_s,
                                                       grpc_options=GRPC_OPTIONS))
        self._ensure_collections()

    def _call(self, operation):
        from pymilvus.exceptions import MilvusException

        try:
            return operation()
        except MilvusException as exc:
            raise IndexUnavailable(f"the Milvus index at {self.uri}: {exc.message or exc}") from None

    # --- collections --------------------------------------------------------------------------

    def _ensure_collections(self) -> None:
        if not self._call(lambda: self._client.has_collection(self.chunks_name)):
            self._call(self._create_chunks)
        if not self._call(lambda: self._client.has_collection(self.docs_name)):
            self._call(self._create_docs)
            self._put_meta("embedder", {"name": self.embedder_name, "dim": self.embedder.dim})
        built = self.meta.get("embedder") or {}
        if built.get("name") != self.embedder_name or built.get("dim") != self.embedder.dim:
            raise IndexMismatch(f"the Milvus collections {self.chunks_name}/{self.docs_name} were built with "
                                f"{built.get('name')} ({built.get('dim')} dims), not {self.embedder_name} "
                                f"({self.embedder.dim} dims); drop them or pick another TANSUO_INDEX_COLLECTION")

    def _create_chunks(self) -> None:
        from pymilvus import DataType, Function, FunctionType

        schema = self._client.create_schema(auto_id=False)
        schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=ID_CHARS + 16)
        schema.add_field("doc_id", DataType.VARCHAR, max_length=ID_CHARS)
        for field in ("n", "start", "end"):
            schema.add_field(field, DataType.INT64)
        schema.add_field("text", DataType.VARCHAR, max_length=TEXT_CHARS)
        schema.add_field("terms", DataType.VARCHAR, max_length=TEXT_CHARS, enable_analyzer=True)
        schema.add_field("source", DataType.VARCHAR, max_length=ID_CHARS)
        schema.add_field("dated", DataType.BOOL)
        schema.add_field("date", DataType.DOUBLE)
        schema.add_field("info", DataType.JSON)
        schema.add_field("dense", DataType.FLOAT_VECTOR, dim=self.embedder.dim)
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["terms"],
                                     output_field_names=["sparse"]))
        indexes = self._client.prepare_index_params()
        indexes.add_index("dense", index_type="AUTOINDEX", metric_type="IP")
        indexes.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        # Strong: a search sees every write acknowledged before it (an add, then a question about it)
        self._client.create_collection(self.chunks_name, schema=schema, index_params=indexes,
                                       consistency_level="Strong")

    def _create_docs(self) -> None:
        from pymilvus import DataType

        schema = self._client.create_schema(auto_id=False)
        schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=ID_CHARS + 16)
        schema.add_field("kind", DataType.VARCHAR, max_length=8)  # "doc" or "meta"
        schema.add_field("hash", DataType.VARCHAR, max_length=64)
        schema.add_field("count", DataType.INT64)
        schema.add_field("record", DataType.JSON)
        schema.add_field("pad", DataType.FLOAT_VECTOR, dim=PAD_DIM)
        indexes = self._client.prepare_index_params()
        indexes.add_index("pad", index_type="AUTOINDEX", metric_type="L2")
        self._client.create_collection(self.docs_name, schema=schema, index_params=indexes,
                                       consistency_level="Strong")

    def _put_meta(self, key: str, value: Any) -> None:
        row = {"id": f"m:{key}", "kind": "meta", "hash": "", "count": 0, "record": {"value": value},
               "pad": [0.0] * PAD_DIM}
        self._call(lambda: self._client.upsert(self.docs_name, [row]))

    # --- reading ------------------------------------------------------------------------------

    @property
    def meta(self) -> dict[str, Any]:
        rows = self._call(lambda: self._client.query(self.docs_name, filter='kind == "meta"',
                                                     output_fields=["id", "record"]))
        return {r["id"][2:]: r["record"]["value"] for r in rows}

    def set_meta(self, key: str, value: Any) -> None:
        self.set_meta_many({key: value})

    def set_meta_many(self, values: dict[str, Any]) -> None:
        """Several facts (each row's JSON stays under Milvus's 64 KiB); a None value deletes its key."""
        for key, value in values.items():
            if value is None:
                self._call(lambda key=key: self._client.delete(self.docs_name, ids=[f"m:{key}"]))
            else:
                self._put_meta(key, value)

    def _doc_rows(self, doc_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        if not doc_ids:
            return {}
        expr = f"id in {_literal([f'd:{d}' for d in doc_ids])}"
        rows = self._call(lambda: self._client.query(self.docs_name, filter=expr,
                                                     output_fields=["id", "hash", "count", "record"]))
        return {r["id"][2:]: r for r in rows}

    def document(self, doc_id: str) -> dict[str, Any] | None:
        row = self._doc_rows([doc_id]).get(doc_id)
        return None if row is None else {"id": doc_id, **row["record"], "chunks": row["count"]}

    def content_hash(self, doc_id: str) -> str | None:
        row = self._doc_rows([doc_id]).get(doc_id)
        return None if row is None else row["hash"]

    def __contains__(self, doc_id: str) -> bool:
        return bool(self._doc_rows([doc_id]))

    def document_ids(self) -> list[str]:
        return [r["id"][2:] for r in self._iterate(self.docs_name, 'kind == "doc"', ["id"])]

    def chunks(self, doc_id: str) -> list[Chunk]:
        rows = self._call(lambda: self._client.query(self.chunks_name, filter=f"doc_id == {_literal(doc_id)}",
                                                     output_fields=["n", "text", "start", "end"]))
        return [Chunk(doc_id, int(r["n"]), r["text"], int(r["start"]), int(r["end"]))
                for r in sorted(rows, key=lambda r: r["n"])]

    def __len__(self) -> int:
        rows = self._call(lambda: self._client.query(self.chunks_name, filter="", output_fields=["count(*)"]))
        return int(rows[0]["count(*)"])

    def _iterate(self, collection: str, expr: str, fields: list[str]) -> Iterable[dict[str, Any]]:
        iterator = self._call(lambda: self._client.query_iterator(collection, batch_size=1000, filter=expr,
                                                                  output_fields=fields))
        try:
            while batch := self._call(iterator.next):
                yield from batch
        finally:
            iterator.close()

    def refresh(self) -> bool:
        """Nothing to pick up: every read goes to the server."""
        return False

    def prepare(self, progress: Progress | None = None) -> None:
        """Nothing to build here: Milvus keeps its indexes up to date as rows arrive."""

    def stats(self) -> dict[str, Any]:
        dates, origins, documents = [], {}, 0
        for row in self._iterate(self.docs_name, 'kind == "doc"', ["record"]):
            documents += 1
            origins[row["record"]["date_origin"]] = origins.get(row["record"]["date_origin"], 0) + 1
            dates.append(timestamp(row["record"]))
        dated = [d for d in dates if not math.isnan(d)]
        return {"engine": "milvus", "uri": self.uri, "collections": [self.chunks_name, self.docs_name],
                "documents": documents, "chunks": len(self), "embedder": self.embedder_name,
                "date_origins": origins, "oldest": _day(min(dated)) if dated else None,
                "newest": _day(max(dated)) if dated else None}

    # --- writing ------------------------------------------------------------------------------

    def add(self, documents: Iterable[Document], progress: Progress | None = None) -> AddReport:
        """Index documents; unchanged ones (same content hash) are skipped, changed ones replaced.
        A document's row is written after its chunks: it is the commit point, so a document cut
        off mid-write is written again by the next add."""
        latest = {doc.id: doc for doc in documents}
        report, known = AddReport(), {}
        ids = list(latest)
        for i in range(0, len(ids), 1000):
            known.update(self._doc_rows(ids[i:i + 1000]))
        pending = []
        for doc in latest.values():
            digest, old = doc.content_hash(), known.get(doc.id)
            if old is not None and old["hash"] == digest:
                report.unchanged.append(doc.id)
                continue
            (report.replaced if old is not None else report.added).append(doc.id)
            pending.append((doc, digest, chunk_text(doc.id, doc.text, self.chunking), old))
        report.chunks = total = sum(len(chunks) for _, _, chunks, _ in pending)
        done = 0
        for batch in document_batches(pending, BATCH):
            self._write(batch)
            done += sum(len(chunks) for _, _, chunks, _ in batch)
            if progress:
                progress("embedding", done, total)
        return report

    def _write(self, batch: list) -> None:
        """Documents' chunks (embedded together), then whatever chunks lie past each one's new end,
        then the documents' rows: a row is written last, so a write cut off midway leaves the old
        hash, and the next add writes the document again."""
        texts = [embedding_text(doc.title, c.text) for doc, _, chunks, _ in batch for c in chunks]
        vectors = iter(self.embedder.embed(texts) if texts else [])
        terms = iter(texts)
        rows = [_chunk_row(doc, c, next(terms), next(vectors)) for doc, _, chunks, _ in batch for c in chunks]
        if rows:
            self._call(lambda: self._client.upsert(self.chunks_name, rows))
        for doc, _, chunks, old in batch:  # chunks past the new end: an older, longer version's, or a cut-off write's
            if old is not None:
                expr = f"doc_id == {_literal(doc.id)} and n >= {len(chunks)}"
                self._call(lambda expr=expr: self._client.delete(self.chunks_name, filter=expr))
        docs = [_doc_row(doc, digest, len(chunks)) for doc, digest, chunks, _ in batch]
        self._call(lambda: self._client.upsert(self.docs_name, docs))

    def remove(self, doc_ids: Sequence[str]) -> list[str]:
        wanted = list(dict.fromkeys(doc_ids))
        known = self._doc_rows(wanted)  # one lookup for them all
        present = [d for d in wanted if d in known]
        for doc_id in present:  # chunks first: a removal cut off midway keeps the row, so a retry finishes it
            self._call(lambda doc_id=doc_id: self._client.delete(self.chunks_name,
                                                                 filter=f"doc_id == {_literal(doc_id)}"))
            self._call(lambda doc_id=doc_id: self._client.delete(self.docs_name,
                                                                 filter=f"id == {_literal('d:' + doc_id)}"))
        return present

    # --- searching ----------------------------------------------------------------------------

    def search(self, query: str, k: int = 5, *, mode: Mode = "hybrid", filters: Filters | None = None,
               candidates: int = CANDIDATES) -> list[Hit]:
        terms = " ".join(tokenize(query))
        if not query.strip() or (mode == "bm25" and not terms):
            return []
        expr = filter_expression(filters) if filters and not filters.empty else ""
        vector = self.embedder.embed([query])[0] if mode != "bm25" else None
        depth = max(candidates, k)
        requests = self._requests(vector, terms, mode, expr, depth)
        # sites are checked after the engine (Filters.admits): ask for the candidates' depth, then cut to k
        limit = depth if filters and (filters.sites or filters.excluded_sites) else k
        if len(requests) == 1:
            request = requests[0]
            found = self._call(lambda: self._client.search(
                self.chunks_name, data=request.data, anns_field=request.anns_field, limit=limit, filter=expr,
                search_params=request.param, output_fields=HIT_FIELDS))
        else:
            found = self._call(lambda: self._client.hybrid_search(
                self.chunks_name, requests, ranker=self._ranker(mode), limit=limit, output_fields=HIT_FIELDS))
        hits = [_hit(row, vector) for row in found[0]]
        return [h for h in hits if not filters or filters.admits(h.source)][:k]

    def _requests(self, vector, terms: str, mode: Mode, expr: str, depth: int) -> list:
        from pymilvus import AnnSearchRequest

        requests = []
        if mode != "bm25":
            requests.append(AnnSearchRequest(data=[vector.tolist()], anns_field="dense",
                                             param={"metric_type": "IP"}, limit=depth, expr=expr or None))
        if mode != "dense" and terms:
            requests.append(AnnSearchRequest(data=[terms], anns_field="sparse", param={"metric_type": "BM25"},
                                             limit=depth, expr=expr or None))
        return requests

    def _ranker(self, mode: Mode):
        from pymilvus import RRFRanker, WeightedRanker

        if mode == "rrf":
            return RRFRanker(RRF_K)
        # the engine's own normalisation of each list's scores, then alpha * dense + (1 - alpha) * BM25
        return WeightedRanker(self.hybrid_alpha, 1 - self.hybrid_alpha, norm_score=True)


def filter_expression(filters: Filters) -> str:
    """A Milvus boolean expression for the filters: the document's date within the range (undated
    documents never pass a date filter), its source under any of the prefixes or sites and under
    none of the excluded prefixes."""
    parts = []
    if filters.since or filters.until:
        parts.append("dated == true")
        if filters.since:
            parts.append(f"date >= {filters.since.timestamp()!r}")
        if filters.until:
            parts.append(f"date <= {filters.until.timestamp()!r}")
    if filters.sources or filters.sites:
        likes = [f"source like {_literal(_like_prefix(s))}" for s in filters.sources]
        # a site anywhere in the source: the post-filter (Filters.admits) keeps only its own URLs
        likes += [f"source like {_literal('%' + _like_prefix(site))}" for site in filters.sites]
        parts.append("(" + " or ".join(likes) + ")")
    # excluded sites are left to the post-filter: "not like" a site's name would drop other sites too
    parts += [f"not (source like {_literal(_like_prefix(s))})" for s in filters.excluded]
    return " and ".join(parts)


def _like_prefix(prefix: str) -> str:
    """A LIKE pattern for what starts with `prefix`: its own % and _ taken literally. A trailing
    backslash is dropped, since it would escape the wildcard (search() keeps only hits whose
    source starts with the prefix itself)."""
    return prefix.rstrip("\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _literal(value: str | list[str]) -> str:
    """A string (or a list of strings) as a Milvus expression literal: double-quoted, with quotes
    and backslashes escaped; characters outside ASCII as they are (an escaped surrogate pair is
    not a literal Milvus reads)."""
    return json.dumps(value, ensure_ascii=False)


def _chunk_row(doc: Document, chunk: Chunk, text: str, vector: np.ndarray) -> dict[str, Any]:
    info = doc.info()
    date = timestamp(info)
    return {"id": f"{doc.id}#{chunk.n}", "doc_id": doc.id, "n": chunk.n, "start": chunk.start, "end": chunk.end,
            "text": chunk.text, "terms": " ".join(tokenize(text)), "source": doc.source, "dated": not math.isnan(date),
            "date": 0.0 if math.isnan(date) else date, "info": info, "dense": [float(x) for x in vector]}


def _doc_row(doc: Document, digest: str, count: int) -> dict[str, Any]:
    return {"id": f"d:{doc.id}", "kind": "doc", "hash": digest, "count": count, "record": doc.info(),
            "pad": [0.0] * PAD_DIM}


def _hit(row: dict[str, Any], query_vector: np.ndarray | None) -> Hit:
    entity, info = row["entity"], row["entity"]["info"]
    similarity = None
    if query_vector is not None and entity.get("dense") is not None:
        similarity = float(np.dot(np.asarray(entity["dense"], np.float32), query_vector))
    hit = Hit(chunk_id=f"{entity['doc_id']}#{int(entity['n'])}", doc_id=entity["doc_id"], title=info["title"],
              source=info["source"], text=entity["text"], start=int(entity["start"]), end=int(entity["end"]),
              published=from_iso(info["published"]), updated=from_iso(info["updated"]),
              date_origin=info["date_origin"], metadata=info["metadata"], score=float(row["distance"]))
    return replace(hit, similarity=similarity)


def _day(stamp: float) -> str:
    return datetime.fromtimestamp(stamp).date().isoformat()
