"""Which tools reach the planner's prompt for this request: retrieval narrows the choice.

A small model chooses far better among two or three tools than among all of them, so the
built-in tools (mode 1) and the plugins (mode 2) are both ranked by embedding similarity of
the request to their descriptions and examples; only the best few above a threshold are
offered, and the planner may still decline them all.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from tansuo.agent.demos import Demo, DemoBank
from tansuo.embedding import Embedder, embed_kept
from tansuo.plugins.index import PluginIndex
from tansuo.plugins.plugin import Plugin
from tansuo.plugins.readout import Reads, template
from tansuo.plugins.tool import ToolSpec
from tansuo.plugins.toolbox import Toolbox, ToolResult

Caller = Callable[[dict[str, Any]], Awaitable[ToolResult]]


@dataclass(frozen=True)
class Offer:
    spec: ToolSpec
    kind: Literal["tool", "plugin"]
    score: float
    call: Caller
    examples: tuple[str, ...] = ()  # the tool's example requests, least similar to this request first
    demos: tuple[Demo, ...] = ()  # trained requests nearest this one, least similar first
    reads: Reads | None = None  # how a result reads to a person (plugins.readout)


@dataclass(frozen=True)
class RouterOptions:
    tool_k: int = 2  # built-in tools offered at most
    tool_threshold: float = 0.15  # cosine below which a built-in tool is not offered
    plugin_k: int = 3
    plugin_threshold: float = 0.35


class ToolRouter:
    """Ranks built-in tools and plugins for a request; the built-in index is built here, once."""

    def __init__(self, toolbox: Toolbox | None, embedder: Embedder, *, plugins: dict[str, Plugin] | None = None,
                 plugin_index: PluginIndex | None = None, options: RouterOptions | None = None,
                 demos: DemoBank | None = None, vectors_dir: Path | None = None) -> None:
        self.toolbox = toolbox
        self._vectors_dir = vectors_dir  # the example requests' vectors, kept between starts
        self.demos = demos
        self.plugins = plugins or {}
        self.options = options or RouterOptions()
        self._tool_specs = {s.name: s for s in (toolbox.specs if toolbox else [])}
        self._tool_index = PluginIndex(embedder, threshold=self.options.tool_threshold)
        self._tool_index.build(self._tool_specs.values())
        self._plugin_index = plugin_index
        self._embedder = embedder
        self._example_vectors: dict[tuple[str, tuple[str, ...]], np.ndarray] = {}

    @property
    def plugin_index(self) -> PluginIndex | None:
        return self._plugin_index

    def offers(self, request: str, modes: Sequence[str]) -> list[Offer]:
        """The tools and plugins to show the planner for this request, best first."""
        out: list[Offer] = []
        # Embedded once, when first needed, for both indexes and the example requests.
        query = functools.cache(lambda: self._embedder.embed([request])[0])
        if "tools" in modes and self.toolbox is not None:  # a handful: every one scored, the best k kept
            ranked = self._ranked(self._tool_index, query, len(self._tool_specs), self.options.tool_threshold,
                                  self._tool_offer, lambda name: self._example_similarity(self._tool_specs[name], query))
            out += sorted(ranked, key=lambda o: -o.score)[: self.options.tool_k]
        if "plugins" in modes and self._plugin_index is not None and self.plugins:
            out += self._ranked(self._plugin_index, query, self.options.plugin_k, self.options.plugin_threshold,
                                self._plugin_offer, lambda name: self._plugin_example_similarity(name, query))
        return [replace(o, examples=self._examples_by_similarity(o.spec, query),
                        demos=self.demos.nearest(o.spec.name, request) if self.demos else ())
                for o in sorted(out, key=lambda o: -o.score)]

    def _examples_by_similarity(self, spec: ToolSpec, query: Callable[[], np.ndarray]) -> tuple[str, ...]:
        """Example requests (those with example calls first in line), least similar first, so the
        demonstrations most like this request sit next to it in the prompt."""
        texts, scores = self._example_scores(spec, query)
        return tuple(texts[i] for i in np.argsort(scores, kind="stable"))

    def _plugin_example_similarity(self, name: str, query: Callable[[], np.ndarray]) -> float:
        plugin = self.plugins.get(name)
        return self._example_similarity(plugin.spec, query) if plugin else -1.0

    def _example_similarity(self, spec: ToolSpec, query: Callable[[], np.ndarray]) -> float:
        """How close the request comes to one of a tool's example requests: a short question like
        "who was Ada Lovelace?" is far from a whole manifest's text but next to its own example, and a
        pasted table whose column is called "units" is nearer a table example than the units tool."""
        scores = self._example_scores(spec, query)[1]
        return float(scores.max()) if len(scores) else -1.0

    def _example_scores(self, spec: ToolSpec, query: Callable[[], np.ndarray]) -> tuple[list[str], np.ndarray]:
        texts = list(dict.fromkeys([c.request for c in spec.example_calls] + list(spec.examples)))
        if not texts:
            return [], np.zeros(0)
        key = (spec.name, tuple(texts))
        vectors = self._example_vectors.get(key)
        if vectors is None:
            vectors = self._example_vectors[key] = embed_kept(self._embedder, texts, self._vectors_dir)
        return texts, np.einsum("ij,j->i", vectors, query())  # no BLAS threads

    def find(self, name: str) -> Offer | None:
        """Any tool or plugin by name (a planner may only call what it was offered; this is for checks)."""
        if name in self._tool_specs:
            return self._tool_offer(name, 0.0)
        if name in self.plugins:
            return self._plugin_offer(name, 0.0)
        return None

    @staticmethod
    def _ranked(index: PluginIndex, query: Callable[[], np.ndarray], k: int, threshold: float,
                make: Callable[[str, float], Offer | None],
                by_example: Callable[[str], float] | None = None) -> list[Offer]:
        """The index's best k above the threshold, each scored by its description or, when higher,
        by its nearest example request."""
        result = index.search_vector(query(), k)
        scored = [(h.name, max(h.score, by_example(h.name)) if by_example else h.score) for h in result.hits]
        offers = (make(name, score) for name, score in scored if score >= threshold)
        return [o for o in offers if o is not None]

    def _tool_offer(self, name: str, score: float) -> Offer | None:
        toolbox = self.toolbox
        spec = self._tool_specs.get(name)
        if spec is None or toolbox is None:
            return None

        async def call(arguments: dict[str, Any]) -> ToolResult:
            return await toolbox.call(name, arguments)

        return Offer(spec, "tool", score, call, reads=toolbox.reader(name))

    def _plugin_offer(self, name: str, score: float) -> Offer | None:
        plugin = self.plugins.get(name)
        if plugin is None:
            return None
        reads = template(plugin.spec.reads) if plugin.spec.reads else None
        return Offer(plugin.spec, "plugin", score, plugin.call, reads=reads)
