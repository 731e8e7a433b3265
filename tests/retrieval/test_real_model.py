"""End to end with the real embedding model: the dated eval corpus and its labelled questions."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tansuo.embedding import SentenceTransformerEmbedder, embedding_model_path
from tansuo.retrieval import DocumentIndex, Filters, load_path
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def news_index(tmp_path_factory: pytest.TempPathFactory) -> DocumentIndex:
    tmp = tmp_path_factory.mktemp("news")
    embedder = SentenceTransformerEmbedder(embedding_model_path(make_settings(tmp)))
    index = DocumentIndex(tmp / "index", embedder)
    loaded = load_path(ROOT / "eval_sets" / "news")
    assert not loaded.problems and len(loaded.documents) >= 60
    index.add(loaded.documents)
    return index


def test_the_eval_corpus_has_dated_superseding_pairs(news_index: DocumentIndex) -> None:
    questions = [json.loads(line) for line in (ROOT / "eval_sets/retrieval/questions.jsonl").read_text().splitlines()]
    assert len(questions) >= 100
    multi = [q for q in questions if len(q["relevant"]) > 1 and q["corpus"] == "news"]
    assert len(multi) >= 10
    for q in multi:
        dates = [news_index.document(d)["published"] for d in q["relevant"]]
        assert len(set(dates)) == len(dates)  # a later document supersedes an earlier one


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_labelled_news_questions_find_their_documents(news_index: DocumentIndex, mode: str) -> None:
    questions = [json.loads(line) for line in (ROOT / "eval_sets/retrieval/questions.jsonl").read_text().splitlines()]
    news = [q for q in questions if q["corpus"] == "news"]
    found = sum(bool(set(q["relevant"]) & {h.doc_id for h in news_index.search(q["question"], 5, mode=mode)})
                for q in news)
    assert found / len(news) >= 0.9


def test_the_newest_notice_is_found_with_a_date_filter(news_index: DocumentIndex) -> None:
    since = datetime(2025, 6, 1, tzinfo=timezone.utc)
    hits = news_index.search("Is the monthly bus pass price changing?", 3, filters=Filters(since=since))
    assert hits[0].doc_id == "n63" and hits[0].published >= since
