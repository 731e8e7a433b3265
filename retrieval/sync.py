"""Keeping one origin (a folder, a Git folder, a sitemap, a URL list, a file or a page) in step with
the index.

An origin remembers, in the index's own meta, which documents each of its files or pages gave and
what is known about them: a file's size and mtime, a page's ETag and Last-Modified, a sitemap's
lastmod. A re-run reads only what changed, removes what is gone, and reports added, changed, removed
and skipped with reasons. The memory lives with the index, so a fresh index reads everything again.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from tansuo.retrieval.documents import Document
from tansuo.retrieval.hits import Index, Progress
from tansuo.retrieval.loaders import Problem

Tick = Callable[[int, int], Any]  # (done, total) as files are read or pages fetched

PREFIX = "sync:"
SHARD_BYTES = 48_000

# Why a file or page was not (re)indexed, as the summary line says it.
UNCHANGED = "unchanged"
NOT_MODIFIED = "not modified since the last run"
OTHER_TYPE = "not a document type"


class OriginError(Exception):
    """An origin that cannot be listed this time (a folder gone, git failing): nothing of it is removed."""


@dataclass
class Outcome:
    """What one file or page of an origin gave this run."""

    key: str  # its path or URL
    documents: list[Document] | None = None  # None: nothing new was read, its documents stay; []: they go
    state: dict[str, Any] | None = None  # what to remember about it (stamp, validators)
    skip: str | None = None  # why it was not (re)indexed, for the summary
    problems: list[Problem] = field(default_factory=list)  # with no documents: it failed, its old ones stay


@dataclass
class SyncReport:
    added: int = 0
    changed: int = 0
    removed: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    problems: list[Problem] = field(default_factory=list)
    chunks: int = 0

    def merge(self, other: SyncReport) -> None:
        self.added += other.added
        self.changed += other.changed
        self.removed += other.removed
        self.skipped.update(other.skipped)
        self.problems += other.problems
        self.chunks += other.chunks

    @property
    def touched(self) -> bool:
        return bool(self.added or self.changed or self.removed or self.problems)

    def line(self) -> str:
        """One line for people: counts, each skip's reason, the work done and the problems."""
        skipped = sum(self.skipped.values())
        reasons = ", ".join(f"{n} {why}" for why, n in self.skipped.most_common())
        return (f"{self.added} added, {self.changed} changed, {self.removed} removed, {skipped} skipped"
                + (f" ({reasons})" if reasons else "")
                + f"; {self.chunks} chunks embedded; {len(self.problems)} problem(s)")


def remembered(index: Index, origin: str) -> dict[str, dict[str, Any]]:
    """What the origin's last run recorded per file or page: {"ids": [...], plus its state}. A file or
    page whose documents were removed by hand since is left out, so it is read again."""
    units = _units(index.meta, _key(origin))
    present = set(index.document_ids())
    return {key: unit for key, unit in units.items() if all(i in present for i in unit["ids"])}


def apply(index: Index, origin: str, outcomes: list[Outcome], *, progress: Progress | None = None) -> SyncReport:
    """Index what was read, drop what is gone, remember the rest. The outcomes cover the whole
    origin, so a file or page of the last run that is not among them was removed. A run that
    would remove every document the origin gave and add none removes nothing: OriginError."""
    meta = index.meta
    before = _units(meta, _key(origin))
    units, fresh, report = _sort(outcomes, before)
    had = {i for unit in before.values() for i in unit["ids"]}
    stale = had - {i for unit in units.values() for i in unit["ids"]} - _claimed_elsewhere(meta, _key(origin))
    if had and stale == had and not fresh:  # an unmounted share or a broken site looks just like this
        raise OriginError(f"{origin}: this run would remove all {len(had)} of its document(s) and add none, "
                          "so nothing was removed (`tansuo index remove` drops documents on purpose)")
    added = index.add(fresh, progress=progress)
    report.added, report.changed, report.chunks = len(added.added), len(added.replaced), added.chunks
    same = set(added.unchanged)  # read again, and the same: counted per file or page, as the skips are
    unchanged = sum(1 for o in outcomes if o.documents and all(d.id in same for d in o.documents))
    if unchanged:
        report.skipped[UNCHANGED] += unchanged
    report.removed = len(index.remove(sorted(stale))) if stale else 0
    if units != before or _key(origin) not in meta:
        _save(index, origin, units, (meta.get(_key(origin)) or {}).get("shards", 0))
    return report


def _sort(outcomes: list[Outcome], before: dict[str, dict[str, Any]],
          ) -> tuple[dict[str, dict[str, Any]], list[Document], SyncReport]:
    units: dict[str, dict[str, Any]] = {}
    fresh: list[Document] = []
    report = SyncReport()
    for o in outcomes:
        old = before.get(o.key)
        report.problems += o.problems
        if o.skip:
            report.skipped[o.skip] += 1
        if o.documents is not None:
            fresh += o.documents
            units[o.key] = {**(o.state or {}), "ids": list(dict.fromkeys(d.id for d in o.documents))}
        elif old is not None:
            units[o.key] = old if o.problems else {**old, **(o.state or {})}
    return units, fresh, report


def _key(origin: str) -> str:
    """A fixed-length key per origin (a path or URL may be longer than a store's key)."""
    return PREFIX + hashlib.sha256(origin.encode()).hexdigest()[:24]


def _units(meta: dict[str, Any], key: str) -> dict[str, dict[str, Any]]:
    units: dict[str, dict[str, Any]] = {}
    for n in range((meta.get(key) or {}).get("shards", 0)):
        units.update({name: _unpack(name, unit) for name, unit in (meta.get(f"{key}#{n}") or {}).get("units", {})
                      .items()})
    return units


def _pack(name: str, unit: dict[str, Any]) -> dict[str, Any]:
    """A JSONL file's records are `<path>#<n>`: kept as their numbers, so a big file's memory stays small."""
    numbered = [i for i in unit["ids"] if i.startswith(name + "#") and i[len(name) + 1:].isdigit()]
    if not numbered:
        return unit
    kept = set(numbered)
    return {**unit, "ids": [i for i in unit["ids"] if i not in kept], "n": [int(i[len(name) + 1:]) for i in numbered]}


def _unpack(name: str, unit: dict[str, Any]) -> dict[str, Any]:
    if "n" not in unit:
        return unit
    rest = {k: v for k, v in unit.items() if k != "n"}
    return {**rest, "ids": unit["ids"] + [f"{name}#{n}" for n in unit["n"]]}


def _save(index: Index, origin: str, units: dict[str, dict[str, Any]], shards_before: int) -> None:
    key, shards = _key(origin), _split(units)
    values: dict[str, Any] = {f"{key}#{n}": {"units": shard} for n, shard in enumerate(shards)}
    values |= {f"{key}#{n}": None for n in range(len(shards), shards_before)}
    values[key] = {"origin": origin, "shards": len(shards), "synced": datetime.now(timezone.utc).isoformat()}
    index.set_meta_many(values)


def _split(units: dict[str, dict[str, Any]]) -> list[dict[str, dict[str, Any]]]:
    """Pieces of at most SHARD_BYTES of JSON: a Milvus JSON field holds 64 KiB."""
    shards: list[dict[str, dict[str, Any]]] = []
    current: dict[str, dict[str, Any]] = {}
    size = 0
    for name, unit in units.items():
        unit = _pack(name, unit)
        n = len(json.dumps([name, unit]))
        if current and size + n > SHARD_BYTES:
            shards.append(current)
            current, size = {}, 0
        current[name] = unit
        size += n
    return shards + [current] if current else shards


def _claimed_elsewhere(meta: dict[str, Any], own: str) -> set[str]:
    """Documents another origin also gave (a file added on its own and with its folder) stay."""
    return {i for key, value in meta.items() if key.startswith(PREFIX) and "#" in key and not key.startswith(own + "#")
            for unit in (value or {}).get("units", {}).values() for i in unit.get("ids", [])}
