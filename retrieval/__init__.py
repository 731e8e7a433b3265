"""Documents in, dated chunks out: ingestion, hybrid dense + BM25 search, web sources."""

from tansuo.retrieval.chunking import ChunkConfig, chunk_text
from tansuo.retrieval.documents import Chunk, Document, parse_date
from tansuo.retrieval.hits import AddReport, Filters, Hit, IndexMismatch
from tansuo.retrieval.index import DocumentIndex
from tansuo.retrieval.loaders import LoadResult, Problem, load_file, load_path
from tansuo.retrieval.storage import IndexCorrupt

__all__ = ["AddReport", "Chunk", "ChunkConfig", "Document", "DocumentIndex", "Filters", "Hit", "IndexCorrupt",
           "IndexMismatch", "LoadResult", "Problem", "chunk_text", "load_file", "load_path", "parse_date"]
