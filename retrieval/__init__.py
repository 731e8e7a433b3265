"""Document ingestion and hybrid dense + BM25 search (the retrieval issue)."""
