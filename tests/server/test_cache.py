"""The answer cache with the real embedding model: paraphrases hit; questions that read alike but
ask something else miss; answers expire by their recency class; a changed source takes its answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tansuo.embedding import HashingEmbedder
from tansuo.retrieval.documents import Document
from tansuo.retrieval.index import DocumentIndex
from tansuo.server.cache import AnswerCache, CacheOptions, space_of
from tansuo.server.conversations import ANONYMOUS
from tansuo.server.question_index import EXACT_MAX, QuestionIndex
from tansuo.server.same_question import mismatch, signature
from tansuo.server.store import Changes, MemoryStore, RedisStore
from tests.server.conftest import SHARED_REDIS

SPACE = space_of(ANONYMOUS)  # where a caller without a key has its answers

PAYLOAD = {"answer": "Paris is larger.", "extras": {"sources": []}}


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cache(embedder, clock) -> AnswerCache:
    return AnswerCache(MemoryStore(clock), embedder, document_hash=lambda _: None)


async def test_a_paraphrase_gets_the_stored_answer(cache: AnswerCache) -> None:
    await cache.store_answer("Who wrote the novel Pride and Prejudice?", PAYLOAD)
    found = await cache.lookup("who is the author of Pride and Prejudice")
    assert found.hit is not None and found.hit.payload == PAYLOAD, found
    assert found.hit.question == "Who wrote the novel Pride and Prejudice?" and found.hit.similarity >= 0.92


@pytest.mark.parametrize("stored, asked, why", [
    ("Is Paris larger than Rome?", "Is Rome larger than Paris?", "order"),
    ("What was the population of Oslo in 2023?", "What was the population of Oslo in 2024?", "numbers"),
    ("Convert 5 km to miles", "Convert 50 km to miles", "numbers"),
    ("Does numpy support float16 arrays?", "Does numpy not support float16 arrays?", "negation"),
    ("Who is the mayor of Oslo?", "Who is the mayor of Bergen?", "names"),
])
async def test_questions_that_read_alike_but_differ_miss(embedder, stored: str, asked: str, why: str) -> None:
    # A lax similarity threshold, so that the embedding alone would serve the stored answer: the guard refuses.
    cache = AnswerCache(MemoryStore(), embedder, document_hash=lambda _: None, options=CacheOptions(similarity=0.7))
    await cache.store_answer(stored, PAYLOAD)
    found = await cache.lookup(asked)
    assert found.hit is None and found.nearest >= 0.7 and why in found.reason, found


async def test_an_answer_lives_as_long_as_its_recency_class_allows(cache: AnswerCache, clock: Clock) -> None:
    await cache.store_answer("What is the price of bitcoin now?", PAYLOAD, kind="price")
    await cache.store_answer("What is the boiling point of water?", PAYLOAD)
    clock.now += 901  # a price answer is kept 15 minutes
    assert (await cache.lookup("What is the price of bitcoin now?")).hit is None
    clock.now += 6 * 86400  # a timeless one a week
    assert (await cache.lookup("What is the boiling point of water?")).hit is not None
    clock.now += 86400
    assert (await cache.lookup("What is the boiling point of water?")).hit is None


async def test_a_source_reingested_with_new_content_invalidates_the_answers_citing_it(tmp_path: Path,
                                                                                     embedder) -> None:
    index = DocumentIndex(tmp_path / "index", HashingEmbedder())
    index.add([Document("d1", "Tram", "/news/tram", "The tram opens in 2028.")])
    cache = AnswerCache(MemoryStore(), embedder, document_hash=index.content_hash)
    question = "When does the tram open?"
    await cache.store_answer(question, PAYLOAD, documents={"d1": index.content_hash("d1")})
    assert (await cache.lookup(question)).hit is not None
    index.add([Document("d1", "Tram", "/news/tram", "The tram opening slips to 2029.")])
    found = await cache.lookup(question)
    assert found.hit is None and found.reason == "its source d1 changed"
    assert await cache.store.entries(SPACE) == {}  # and the stale entry is gone


async def test_invalidation_by_document_id(cache: AnswerCache) -> None:
    await cache.store_answer("When does the tram open?", PAYLOAD, documents={"d1": "h1"})
    await cache.store_answer("When does the library close?", PAYLOAD, documents={"d2": "h2"})
    assert await cache.invalidate_documents({"d1"}) == 1
    assert len(await cache.store.entries(SPACE)) == 1


async def test_the_oldest_entries_make_room(embedder, clock: Clock) -> None:
    cache = AnswerCache(MemoryStore(clock), embedder, document_hash=lambda _: None,
                        options=CacheOptions(max_entries=2))
    for q in ("What is a tram?", "What is a bus?", "What is a ferry?"):
        await cache.store_answer(q, PAYLOAD)
        clock.now += 1
    assert {e["question"] for e in (await cache.store.entries(SPACE)).values()} == {"What is a bus?",
                                                                                    "What is a ferry?"}


def test_guards_allow_reworded_comparisons_and_possessives() -> None:
    assert mismatch(signature("Is a whale bigger than an elephant?"),
                    signature("Which is bigger, a whale or an elephant?")) is None
    assert mismatch(signature("What is the capital of France?"), signature("what is france's capital city?")) is None
    assert mismatch(signature("Flights from Paris to Rome"), signature("Flights from Rome to Paris")) is not None
    assert mismatch(signature("Why doesn't it start?"), signature("Why does it start?")) == "a negation differs"
    assert mismatch(signature("What happened on 3 March 2025?"),
                    signature("What happened on 2025-03-03?")) is None  # one date, two spellings


async def test_replicas_on_one_redis_see_each_others_answers_by_reading_only_what_changed(embedder, prefix):
    """Two caches on one Redis (two `tansuo serve` processes): what one stores the other serves, and
    what one removes the other stops serving, each reading only the space's log since it last looked."""
    one, two = (AnswerCache(RedisStore(SHARED_REDIS, prefix=prefix), embedder, document_hash=lambda _: None)
                for _ in range(2))
    try:
        assert (await two.lookup("Who wrote the novel Pride and Prejudice?")).reason == "empty"
        await one.store_answer("Who wrote the novel Pride and Prejudice?", PAYLOAD)
        found = await two.lookup("who is the author of Pride and Prejudice")
        assert found.hit is not None and found.hit.payload == PAYLOAD
        seen = two._indexes[space_of(ANONYMOUS)].cursor
        await one.store.remove(space_of(ANONYMOUS), found.hit.key)
        assert (await two.lookup("who is the author of Pride and Prejudice")).hit is None
        assert two._indexes[space_of(ANONYMOUS)].cursor != seen and not len(two._indexes[space_of(ANONYMOUS)])
    finally:
        await one.store.aclose()
        await two.store.aclose()


def test_the_question_index_scans_small_spaces_and_searches_large_ones_by_ivf():
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((EXACT_MAX + 2000, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = QuestionIndex(8)
    puts = [(f"k{i}", {"question": f"q{i}", "vector": v, "at": float(i)}, 1e12) for i, v in enumerate(vectors)]
    index.apply(Changes("1", puts=puts[:100], complete=True), lambda v: v)
    assert index.nearest(vectors[7], 1, now=0.0)[0][:1] == ("k7",) and index._ivf is None
    index.apply(Changes("2", puts=puts[100:], removes=["k7"]), lambda v: v)
    assert index.nearest(vectors[9], 1, now=0.0)[0][0] == "k9" and index._ivf is not None  # past the scan
    assert all(key != "k7" for key, _, _ in index.nearest(vectors[7], 5, now=0.0))  # removed
    assert index.nearest(vectors[9], 1, now=2e12) == []  # expired
    assert index.oldest(2) == ["k0", "k1"]

