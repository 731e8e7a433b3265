"""Documents in, dated chunks out: ingestion, hybrid dense + BM25 search, web sources."""

from retrieval.chunking import ChunkConfig, chunk_text
from retrieval.documents import Chunk, Document, parse_date
from retrieval.index import AddReport, DocumentIndex, Filters, Hit, IndexMismatch
from retrieval.loaders import LoadResult, Problem, load_file, load_path
from retrieval.storage import IndexCorrupt

__all__ = ["AddReport", "Chunk", "ChunkConfig", "Document", "DocumentIndex", "Filters", "Hit", "IndexCorrupt",
           "IndexMismatch", "LoadResult", "Problem", "chunk_text", "load_file", "load_path", "parse_date"]
