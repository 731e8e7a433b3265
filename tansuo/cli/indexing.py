"""What the `index` commands share: progress bars on stderr and the index opened for a command."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from tansuo.errors import TansuoError
from tansuo.settings import Settings


class Bars:
    """One tqdm bar per stage on stderr."""

    def __init__(self) -> None:
        self.bars: dict[str, object] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        from tqdm import tqdm

        bar = self.bars.get(stage)
        if bar is None:
            bar = self.bars[stage] = tqdm(total=total, desc=stage, unit="", file=sys.stderr, leave=True,
                                          dynamic_ncols=True)
        bar.total = total
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()
            del self.bars[stage]

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
        self.bars.clear()


@contextlib.contextmanager
def progress_bars() -> Iterator[Bars]:
    bars = Bars()
    try:
        yield bars
    finally:
        bars.close()


def open_for(settings: Settings, bars: Bars, *, with_default_corpus: bool | None = None):
    from tansuo.retrieval.build import open_index
    from tansuo.retrieval.hits import IndexMismatch
    from tansuo.retrieval.storage import IndexCorrupt

    try:
        return open_index(settings, progress=bars, with_default_corpus=with_default_corpus)
    except (IndexMismatch, IndexCorrupt) as exc:
        raise TansuoError(str(exc)) from None
