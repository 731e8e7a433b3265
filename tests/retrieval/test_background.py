"""The default corpus built in a background thread: commits a searching handle sees as they land, a
stop that keeps what was committed, and a next start that goes on from there."""

from __future__ import annotations

import threading
import time

from tansuo.embedding import HashingEmbedder
from tansuo.retrieval.background import CorpusBuild
from tansuo.retrieval.build import corpus_missing, make_index
from tests.conftest import make_settings


class Gated(HashingEmbedder):
    """Holds each batch of the build (many texts) until the test lets one more go; a query passes."""

    def __init__(self) -> None:
        super().__init__()
        self.batches = threading.Semaphore(0)
        self.embedded = 0

    def embed(self, texts):
        if len(texts) > 32:
            assert self.batches.acquire(timeout=60), "the test never let this batch go"
            self.embedded += len(texts)
        return super().embed(texts)


def until(condition, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_build_is_searchable_as_it_goes_stops_with_what_it_committed_and_resumes(tmp_path) -> None:
    settings = make_settings(tmp_path / "data", default_corpus=True, corpus_packages=[])
    embedder = Gated()
    serving = make_index(settings, embedder)  # the service's handle, opened before anything is indexed
    build = CorpusBuild(settings, embedder).start()
    until(lambda: build.state.total > 0)
    assert build.building and f"(0 of {build.state.total:,} documents so far)" in build.notice()
    assert serving.search("for statement loop") == []
    embedder.batches.release()  # one batch is embedded: the first group of documents is committed
    until(lambda: build.state.done > 0)
    until(lambda: len(serving.search("for statement loop")) > 0)
    committed = len(serving)
    build.stop(timeout_s=0.5)  # waiting on its next batch: it stops once that one is let go
    embedder.batches.release()
    assert build.wait(30) and not build.state.finished and build.state.error is None
    assert build.building and corpus_missing(serving) and len(serving) == committed
    embedder.embedded = 0
    again = CorpusBuild(settings, embedder).start()  # the next start: only what was not committed
    for _ in range(20):
        embedder.batches.release()
    assert again.wait(60) and again.complete and again.notice() is None
    serving.prepare()
    assert not corpus_missing(serving) and embedder.embedded == len(serving) - committed > 0


def test_a_build_that_fails_leaves_the_service_a_notice_that_says_so(tmp_path) -> None:
    class Broken(HashingEmbedder):
        def embed(self, texts):
            if len(texts) > 32:
                raise RuntimeError("out of memory")
            return super().embed(texts)

    build = CorpusBuild(make_settings(tmp_path / "data", default_corpus=True, corpus_packages=[]), Broken()).start()
    assert build.wait(60) and not build.building and not build.complete
    assert build.state.error == "RuntimeError: out of memory"
    assert build.notice().startswith("Not all of the default documents could be indexed (0 of ")
