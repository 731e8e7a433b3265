"""The default corpus built in a thread while the service already answers: tools and small talk work
from the start, and search covers what is indexed so far (a turn that searched, or answered without
a tool, says so, with how far the build has come). The build writes through an index handle of its
own, commit by commit, as a second process would; the service's handle picks each commit up before
it searches. Stopped with the service, it resumes at the next start (finished documents are skipped)."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from dataclasses import dataclass

from tansuo.embedding import Embedder
from tansuo.retrieval.build import build_default_corpus, make_index
from tansuo.retrieval.hits import Progress
from tansuo.settings import Settings

log = logging.getLogger("tansuo.corpus")
# Search sees the build grow commit by commit: small commits, each about ten seconds of embedding here.
COMMIT_CHUNKS = 256
BUILD_NICE = 10


def _yield_to_answers() -> None:
    """Lower this thread's CPU priority (Linux nice is per thread, and the embedding workers this
    thread starts inherit it): turns and the model server go first, the build takes what is left."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BUILD_NICE)


class _Stopped(Exception):
    """The service is stopping: the build ends after its last commit."""


@dataclass
class CorpusState:
    done: int = 0  # passages embedded so far
    total: int = 0  # passages to embed (0 until the documents are read)
    finished: bool = False
    error: str | None = None


class CorpusBuild:
    def __init__(self, settings: Settings, embedder: Embedder, *, progress: Progress | None = None) -> None:
        self.state = CorpusState()
        self._forward = progress  # e.g. the console's progress bars
        self._settings, self._embedder = settings, embedder
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tansuo-default-corpus", daemon=True)

    def start(self) -> CorpusBuild:
        self._thread.start()
        return self

    @property
    def building(self) -> bool:
        return not self.state.finished and self.state.error is None

    def notice(self) -> str | None:
        """What a turn that could have used the documents says while the build runs; None once it is
        done (or failed)."""
        if not self.building:
            return None
        done, total = self.state.done, self.state.total
        so_far = f" ({done:,} of {total:,} passages so far)" if total else ""
        return (f"The default documents are still being indexed{so_far}: this answer could only use "
                "what is indexed so far.")

    def stop(self, timeout_s: float = 30.0) -> None:
        self._stop.set()
        self._thread.join(timeout_s)

    def wait(self, timeout_s: float | None = None) -> bool:
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def _run(self) -> None:
        _yield_to_answers()
        try:
            index = make_index(self._settings, self._embedder, commit_chunks=COMMIT_CHUNKS)
            build_default_corpus(self._settings, index, self._progress)
            self.state.finished = True
            log.info("default corpus indexed: %d passages", self.state.total)
        except _Stopped:
            log.info("default corpus: stopped at %d of %d passages; the next start goes on",
                     self.state.done, self.state.total)
        except Exception as exc:  # the service goes on without it; /healthz and the log say why
            self.state.error = f"{type(exc).__name__}: {exc}"
            log.error("default corpus could not be indexed: %s", self.state.error)

    def _progress(self, stage: str, done: int, total: int) -> None:
        if self._stop.is_set():
            raise _Stopped
        if stage == "embedding":
            self.state.done, self.state.total = done, total
        if self._forward is not None:
            self._forward(stage, done, total)
