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

    def embed(self, texts):
        if len(texts) > 32:
            assert self.batches.acquire(timeout=60), "the test never let this batch go"
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
    assert build.building and f"0 of {build.state.total:,} passages so far" in build.notice()
    assert serving.search("for statement loop") == []
    embedder.batches.release()  # one batch is embedded and committed
    until(lambda: build.state.done > 0)
    until(lambda: len(serving.search("for statement loop")) > 0)
    first_total = build.state.total
    build.stop(timeout_s=0.5)  # the build is waiting on its next batch: it stops when that one is let go
    embedder.batches.release()
    assert build.wait(30) and not build.state.finished and build.state.error is None
    assert corpus_missing(serving) and len(serving) > 0
    again = CorpusBuild(settings, embedder).start()  # the next start: only what was not committed
    until(lambda: again.state.total > 0)
    assert again.state.total < first_total
    for _ in range(20):
        embedder.batches.release()
    assert again.wait(60) and again.state.finished and again.notice() is None
    serving.prepare()
    assert not corpus_missing(serving) and len(serving) >= first_total
