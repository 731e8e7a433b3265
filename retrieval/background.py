"""The default corpus built in a thread while the service already answers: tools and small talk work
from the start, and search covers what is indexed so far (a turn that searched, or answered without
a tool, says so, with how far the build has come). The build writes through an index handle of its
own, a group of documents at a time (each group one commit, holding the index's writer lock only
while it is written), as a second process would; the service's handle picks each commit up before
it searches. Stopped with the service, it resumes at the next start (finished documents are skipped)."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from tansuo.embedding import Embedder
from tansuo.retrieval.build import corpus_documents, make_index, mark_corpus_complete
from tansuo.retrieval.documents import Document
from tansuo.retrieval.hits import Progress
from tansuo.settings import Settings

log = logging.getLogger("tansuo.corpus")
GROUP_CHARS = 200_000  # documents per commit: about 220 passages, some seconds of embedding here
BUILD_NICE = 10


class _Stopped(Exception):
    """The service is stopping: the build ends after its last commit."""


@dataclass
class CorpusState:
    done: int = 0  # documents indexed (or found indexed) so far
    total: int = 0  # documents in the corpus (0 until they are read)
    finished: bool = False
    error: str | None = None


class CorpusBuild:
    def __init__(self, settings: Settings, embedder: Embedder, *, progress: Progress | None = None) -> None:
        self.state = CorpusState()
        self._settings, self._embedder = settings, embedder
        self._forward = progress  # e.g. the console's progress bars
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tansuo-default-corpus", daemon=True)

    def start(self) -> CorpusBuild:
        self._thread.start()
        return self

    @property
    def building(self) -> bool:
        return not self.state.finished and self.state.error is None

    @property
    def complete(self) -> bool:
        return self.state.finished

    def notice(self) -> str | None:
        """What a turn that could have used the documents says until the build is done."""
        if self.state.finished:
            return None
        done, total = self.state.done, self.state.total
        so_far = f" ({done:,} of {total:,} documents so far)" if total else ""
        if self.state.error is not None:
            return (f"Not all of the default documents could be indexed{so_far}: this answer could only "
                    "use those that were.")
        return (f"The default documents are still being indexed{so_far}: this answer could only use "
                "those indexed so far.")

    def request_stop(self) -> None:
        self._stop.set()

    def stop(self, timeout_s: float = 30.0) -> None:
        self.request_stop()
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            log.warning("default corpus: still embedding after %.0f s; its last batch is not kept", timeout_s)

    def wait(self, timeout_s: float | None = None) -> bool:
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def _run(self) -> None:
        _yield_to_answers()
        try:
            index = make_index(self._settings, self._embedder)
            documents = list(corpus_documents(self._settings, self._forward))
            self.state.total = len(documents)
            for group in _groups(documents):
                self._progress("documents", self.state.done, self.state.total)
                index.add(group, progress=self._progress)
                self.state.done += len(group)
            self._progress("documents", self.state.done, self.state.total)
            mark_corpus_complete(self._settings, index)
            self.state.finished = True
            log.info("default corpus indexed: %d documents", self.state.total)
        except _Stopped:
            log.info("default corpus: stopped at %d of %d documents; the next start goes on",
                     self.state.done, self.state.total)
        except Exception as exc:  # the service goes on with what is indexed; /readyz and the log say why
            self.state.error = f"{type(exc).__name__}: {exc}"
            log.exception("default corpus could not be indexed")

    def _progress(self, stage: str, done: int, total: int) -> None:
        if self._stop.is_set():
            raise _Stopped
        if self._forward is not None and stage != "embedding":  # a group's own count would restart the bar
            self._forward(stage, done, total)


def _groups(documents: Sequence[Document]) -> Iterator[list[Document]]:
    group: list[Document] = []
    size = 0
    for doc in documents:
        group.append(doc)
        size += len(doc.text)
        if size >= GROUP_CHARS:
            yield group
            group, size = [], 0
    if group:
        yield group


def _yield_to_answers() -> None:
    """Lower this thread's CPU priority (Linux nice is per thread, and the embedding workers this
    thread starts inherit it): turns and the model server go first, the build takes what is left."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BUILD_NICE)
