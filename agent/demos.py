"""Demonstrations for the planner's two prompts, chosen per request from the requests the tool
adapter was trained on (`tansuo train tools` writes them beside the adapter): for the route, the
nearest ones among the options offered, with the option each took; for the call, the nearest ones
of the chosen tool, with their calls.

A 135M model writes a tool's arguments by following the demonstrations in front of it. A tool's
two or three example calls rarely look like the request at hand: "How long is it from 3 May
until 9 June, in days?" next to the calendar's one business-days example came back with
`business_days: true`. The trained requests nearest the request in embedding space show the
operation and the fields that such a request takes; for the route, "Catch me up on the night bus"
next to "Give me an update on the night bus" -> search, where the fixed demonstrations had it answered.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tansuo.embedding import Embedder, embed_kept
from tansuo.errors import ConfigError

DEMO_K = 3  # demonstrations in the prompt: as many as a tool's example calls in training


@dataclass(frozen=True)
class Demo:
    request: str
    calls: tuple[tuple[str, dict[str, Any]], ...]  # (tool name, arguments)
    option: str = ""  # the route it took: a tool's name, "search" or "answer" ("" when unknown)


class DemoBank:
    """Trained requests with the option they took and their gold calls; embedded when first asked, once
    per content (their vectors are kept on disk when `vectors_dir` is given)."""

    def __init__(self, demos: Sequence[Demo], embedder: Embedder, *, k: int = DEMO_K,
                 vectors_dir: Path | None = None) -> None:
        self.k = k
        self._vectors_dir = vectors_dir  # where the bank's vectors are kept between starts (embedding.embed_kept)
        self._demos = list(demos)
        self._by_tool: dict[str, list[int]] = {}
        self._by_option: dict[str, list[int]] = {}
        for i, demo in enumerate(self._demos):
            self._by_option.setdefault(demo.option, []).append(i)
            # One call each, like the tool's own example calls: a two-call demonstration next to
            # "9602 + 20 - 839" split it into two sums.
            if len(demo.calls) == 1:
                self._by_tool.setdefault(demo.calls[0][0], []).append(i)
        self._embedder = embedder
        self._vectors: np.ndarray | None = None
        self._wordings = [wording(d.request) for d in self._demos]
        self._lock = threading.Lock()

    @classmethod
    def from_jsonl(cls, path: Path, embedder: Embedder, *, k: int = DEMO_K,
                   vectors_dir: Path | None = None) -> DemoBank:
        """The rows `tansuo train tools` writes: {"request", "kind", "tool", "calls": [{"name", "arguments"}]}."""
        demos = []
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                demos.append(Demo(row["request"], tuple((c["name"], c["arguments"]) for c in row["calls"]),
                                  _option(row)))
            except (ValueError, KeyError, TypeError) as exc:  # a hand-edited file: say where, not a traceback
                raise ConfigError(f"{path}:{n}: not a trained request ({type(exc).__name__}: {exc}); "
                                  "retrain with `tansuo train tools` or set TANSUO_TOOL_DEMOS=0") from None
        return cls(demos, embedder, k=k, vectors_dir=vectors_dir)

    def tools(self) -> set[str]:
        return set(self._by_tool)

    def nearest(self, tool: str, request: str) -> tuple[Demo, ...]:
        """The k demonstrations for `tool` whose wording comes nearest the request's, least similar
        first (the most similar one sits next to the request in the prompt); () for a tool the bank
        does not know."""
        return tuple(self._demos[i] for i in self._nearest(self._by_tool.get(tool, []), request))

    def routes(self, request: str, choices: Sequence[str]) -> tuple[tuple[str, str], ...]:
        """The k trained requests nearest the request's wording whose option is among `choices`, with
        that option, least similar first: "Catch me up on X" next to "Fill me in on Y" -> search."""
        rows = sorted(i for option in set(choices) for i in self._by_option.get(option, []))
        return tuple((self._demos[i].request, self._demos[i].option) for i in self._nearest(rows, request))

    def _nearest(self, rows: Sequence[int], request: str) -> list[int]:
        if not rows or self.k == 0:
            return []
        query = self._embedder.embed([wording(request)])[0]
        scores = np.einsum("ij,j->i", self._all_vectors()[rows], query)  # no BLAS threads
        chosen: dict[str, int] = {}  # one per wording: three times the same sentence shows one thing
        for j in np.argsort(-scores, kind="stable"):
            chosen.setdefault(self._wordings[rows[j]], rows[j])
            if len(chosen) == self.k:
                break
        return list(reversed(chosen.values()))

    def _all_vectors(self) -> np.ndarray:
        with self._lock:  # two first requests in two threads embed the bank once
            if self._vectors is None:
                self._vectors = embed_kept(self._embedder, self._wordings, self._vectors_dir)
            return self._vectors


def _option(row: dict[str, Any]) -> str:
    """The route a trained request took (as agent.sft.formats trains it): its tool, search, or answer
    (small talk and declines alike)."""
    if row.get("kind") in ("call", "multi"):
        return row.get("tool") or ""
    return {"search": "search", "answer": "answer", "decline": "answer"}.get(row.get("kind", ""), "")


def write_demos(rows: Sequence[dict[str, Any]], path: Path) -> None:
    """The trained requests beside the adapter, one JSON object per line."""
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")


def wording(request: str) -> str:
    """A request's wording without its values: pasted data rows (lines without a space) dropped and
    numbers and dates masked, so the nearest demonstrations ask the same thing, not about the same
    numbers or the same pasted table."""
    lines = [line for line in request.splitlines() if " " in line.strip()] or request.splitlines()[:1]
    text = _WRITTEN_DATE.sub("DATE", _ISO_DATE.sub("DATE", " ".join(lines)))
    return _NUMBER.sub("N", text)


_ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_WRITTEN_DATE = re.compile(rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?\s+\d{{4}}"
                           rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}})\b", re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])")
