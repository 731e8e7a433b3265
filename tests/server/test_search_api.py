"""Perplexity's search-API conventions over real sockets: `citations`, `search_results` and
`related_questions` in the completion (and on a stream's last chunk), the search options as filters
on dated documents from several sites, clear 400s for bad ones, and LangChain's ChatPerplexity
reading the citations without knowing Tansuo."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx
import openai
import pytest

from tansuo.embedding import HashingEmbedder
from tansuo.retrieval.documents import Document
from tests.agent.helpers import make_agent, search
from tests.conftest import make_settings
from tests.server.helpers import parts_for, serving

NOW = datetime.now()
DOCS = [
    Document("n1", "Ferry timetable this week", "https://news.example.org/ferry-new",
             "Ferry timetable: the first ferry leaves Skerry at 06:40 from Monday.", published=NOW - timedelta(days=2)),
    Document("n2", "Ferry timetable for spring", "https://www.example.org/ferry-spring",
             "Ferry timetable for spring: the first ferry leaves Skerry at 07:10.", published=NOW - timedelta(days=20)),
    Document("n3", "Ferry timetable last year", "https://blog.other.net/ferry-old",
             "Ferry timetable from last year: the first ferry left Skerry at 07:30.",
             published=NOW - timedelta(days=400)),
    Document("n4", "Ferry timetable notes", "/srv/docs/ferry.md",
             "Ferry timetable notes kept by the harbour office: the first ferry leaves Skerry early."),
]
QUESTION = "When does the first ferry leave Skerry?"
TURN = [*search("first ferry Skerry timetable"), "The first ferry leaves Skerry at 06:40 [1]."]
RELATED = {"questions": ["When does the last ferry leave Skerry?", "Does the ferry run on Sundays?"]}
OPTIONS = [  # (search options, the sources a turn may then find)
    ({}, {d.source for d in DOCS}),
    ({"search_recency_filter": "month"}, {DOCS[0].source, DOCS[1].source}),
    ({"search_domain_filter": ["example.org"]}, {DOCS[0].source, DOCS[1].source}),
    ({"search_domain_filter": ["-example.org"]}, {DOCS[2].source, DOCS[3].source}),
    ({"search_domain_filter": ["/srv/docs/"]}, {DOCS[3].source}),
    ({"search_after_date_filter": "1/1/2020", "search_before_date_filter": (NOW - timedelta(days=10)).strftime(
        "%m/%d/%Y")}, {DOCS[1].source, DOCS[2].source}),
    ({"search_after_date": (NOW - timedelta(days=30)).date().isoformat()}, {DOCS[0].source, DOCS[1].source}),
]


@contextlib.contextmanager
def service(tmp_path, replies) -> Iterator[str]:
    """The service on scripted model replies (in the order the turns ask for them) over DOCS."""
    agent, _ = make_agent(replies, tmp_path, docs=DOCS)
    settings = make_settings(tmp_path / "data", rate_limit_per_min=60_000, rate_limit_burst=1000)
    with serving(settings, parts_for(settings, agent, HashingEmbedder())) as base:
        yield base


@pytest.fixture
def url(tmp_path) -> Iterator[str]:
    with service(tmp_path, TURN * (len(OPTIONS) + 1)) as base:
        yield base


def test_search_options_filter_the_documents_and_the_reply_lists_them(url: str) -> None:
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="local", max_retries=0)
    for options, allowed in OPTIONS:
        reply = client.chat.completions.create(model="tansuo", messages=[{"role": "user", "content": QUESTION}],
                                               extra_body=options)
        results = reply.model_extra["search_results"]
        found = {r["url"] for r in results}
        assert found and found <= allowed, options
        assert reply.model_extra["citations"] == [r["url"] for r in results]
        assert reply.model_extra["tansuo"]["cached"] is None  # a filtered answer is never the cached one
        first = next(s for s in reply.model_extra["tansuo"]["consulted"] if s["n"] == 1)
        assert reply.model_extra["citations"][0] == first["source"]  # [1] in the answer is citations[0]
        dated = {d.source: d.published.date().isoformat() for d in DOCS if d.published}
        assert all(r["date"] == dated.get(r["url"]) and r["snippet"] and r["title"] for r in results)
    assert "related_questions" not in reply.model_extra  # only when asked for


def test_related_questions_and_a_streams_last_chunk(tmp_path) -> None:
    with service(tmp_path, [*TURN, RELATED, *TURN]) as url:
        _related_and_stream(url)


def _related_and_stream(url: str) -> None:
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="local", max_retries=0)
    reply = client.chat.completions.create(model="tansuo", messages=[{"role": "user", "content": QUESTION}],
                                           extra_body={"return_related_questions": True, "cache": False})
    assert reply.model_extra["related_questions"] == RELATED["questions"]
    stream = client.chat.completions.create(model="tansuo", stream=True, extra_body={"cache": False},
                                            messages=[{"role": "user", "content": QUESTION}])
    last = [c for c in stream if c.choices and c.choices[0].finish_reason][-1]
    assert last.model_extra["citations"] and last.model_extra["citations"][0].startswith(("https://", "/srv/"))
    assert len(last.model_extra["search_results"]) == len(last.model_extra["citations"])


def test_langchains_chat_perplexity_reads_the_citations(url: str) -> None:
    from langchain_perplexity import ChatPerplexity
    from perplexity import Perplexity

    llm = ChatPerplexity(model="tansuo", api_key="local", client=Perplexity(api_key="local", base_url=f"{url}/v1"))
    message = llm.invoke(QUESTION, extra_body={"search_domain_filter": ["example.org"], "cache": False})
    assert "06:40" in message.content
    citations = message.additional_kwargs["citations"]
    assert citations and set(citations) <= {DOCS[0].source, DOCS[1].source}
    results = message.additional_kwargs["search_results"]  # the Perplexity SDK's own typed results
    assert {r.url for r in results} == set(citations) and all(r.title and r.snippet for r in results)


@pytest.mark.parametrize(("options", "field"), [
    ({"search_recency_filter": "decade"}, "search_recency_filter"),
    ({"search_domain_filter": ["-"]}, "search_domain_filter"),
    ({"search_domain_filter": "example.org"}, "search_domain_filter"),
    ({"search_after_date_filter": "13/45/2025"}, "search_after_date_filter"),
    ({"search_after_date_filter": "2025-06-01", "search_before_date_filter": "2025-01-01"}, "later than"),
])
def test_bad_search_options_get_a_400_that_names_them(url: str, options: dict, field: str) -> None:
    body = {"model": "tansuo", "messages": [{"role": "user", "content": QUESTION}], **options}
    reply = httpx.post(f"{url}/v1/chat/completions", json=body, timeout=30)
    assert reply.status_code == 400 and field in json.dumps(reply.json())
