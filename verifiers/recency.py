"""Recency: is the question time-sensitive, and does the answer rest on current evidence?

Time-sensitivity is decided before the answer is written (so the answer prompt can ask for the
newest source): explicit and relative date expressions are parsed deterministically against the
clock (`verifiers.dates`); the kind of question (news, price, office holder, version, schedule,
weather) comes from embedding similarity to exemplars (verifiers/data/recency.yaml), calibrated,
with the model judging the uncertain ones under a schema. After the answer: the newest source it
rests on is compared with the kind's freshness window, newer retrieved sources on the same topic
send the answer back once; a stale newest source or sources that disagree over time get one
sentence after the answer (the first of them), and nothing else is added: the shown sources carry
their dates.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from tansuo.core.sources import Evidence, SourceBook, day_of
from tansuo.core.verdict import Verdict
from tansuo.embedding import Embedder
from tansuo.verifiers.dates import DateMention, resolve
from tansuo.verifiers.exemplars import CalibratedScorer, VectorCache, load_data
from tansuo.verifiers.facts import facts
from tansuo.verifiers.judge import Judge

TIMELESS = "timeless"
_CURRENT_WORDS = frozenset({"today", "now", "currently", "right now"})
# Words that ask about the state of things now, whatever the topic: "Do residents *still* need to boil
# water?", "Does the bus serve its stops *again*?", "Can I fly there *this summer*?".
_NOW = re.compile(r"\b(?:still|any ?more|again|yet|these days|at the moment|at present|nowadays|as of now|"
                  r"latest|currently|now|today|"
                  r"this (?:summer|winter|spring|autumn|fall|season|week|weekend|month|year))\b", re.I)
_JUDGE_SYSTEM = ("Decide whether the answer to the question changes over time, and how. Kinds: news (recent events, "
                 "status), price, office_holder (who holds a post), version (software releases), schedule (times, "
                 "dates of coming events), weather; timeless if the answer stays the same. Reply with JSON only.")


def default_windows() -> dict[str, int]:
    return {k: int(v["window_days"]) for k, v in load_data("recency")["kinds"].items()}


@dataclass(frozen=True)
class TimeSensitivity:
    sensitive: bool
    kind: str  # a kind of load_data("recency"), or "timeless"
    probability: float
    mentions: tuple[DateMention, ...] = ()
    judged: bool = False

    @property
    def periods(self) -> tuple[DateMention, ...]:
        """The periods the question names ("in January 2025", "last week"), not the words for now."""
        return tuple(m for m in self.mentions if m.text.lower() not in _CURRENT_WORDS)

    @property
    def period(self) -> DateMention | None:
        """The past period the question asks about, if any: the first it names."""
        return next(iter(self.periods), None)

    @property
    def current(self) -> bool:
        return self.sensitive and self.period is None

    def to_dict(self) -> dict:
        return {"sensitive": self.sensitive, "kind": self.kind, "probability": round(self.probability, 3),
                "judged": self.judged,
                "mentions": [{"text": m.text, "start": m.start.isoformat(), "end": m.end.isoformat(),
                              "relative": m.relative} for m in self.mentions]}


@dataclass(frozen=True)
class RecencyOptions:
    windows: Mapping[str, int] = field(default_factory=default_windows)  # days per kind
    threshold: float = 0.5
    band: tuple[float, float] = (0.3, 0.7)  # where the model judges, when a judge is given
    same_topic: float = 0.55  # cosine of two passages about the same thing


class Recency:
    name = "recency"

    def __init__(self, embedder: Embedder, *, judge: Judge | None = None, options: RecencyOptions | None = None,
                 cache_dir: Path | None = None) -> None:
        data = load_data("recency")
        self.vectors = VectorCache(embedder, size=512)
        self.judge = judge
        self.options = options or RecencyOptions()
        self.kinds = list(data["kinds"])
        self.scorer = CalibratedScorer(embedder, {k: v["exemplars"] for k, v in data["kinds"].items()},
                                       data["timeless"], negative_name=TIMELESS, cache_dir=cache_dir)

    async def classify(self, question: str, today: date) -> TimeSensitivity:
        mentions = tuple(resolve(question, today))
        (p, kind, _), = await asyncio.to_thread(self.scorer.score_many, [question])
        judged = False
        low, high = self.options.band
        if self.judge is not None and low <= p < high:
            choice = await self.judge.choose(_JUDGE_SYSTEM, f"Question: {question}", [*self.kinds, TIMELESS])
            if choice is not None:
                judged, p = True, (1.0 if choice != TIMELESS else 0.0)
                kind = choice if choice != TIMELESS else kind
        if _NOW.search(question) or any(m.text.lower() in _CURRENT_WORDS or (m.relative and m.end >= today)
                                        for m in mentions):
            # "now", "still", "this year": about the present, whatever the wording; where the exemplars did
            # not see a kind of change, it is news (not the weather their nearest exemplar may be)
            kind = kind if p >= self.options.threshold else "news"
            p = max(p, 1.0)
        sensitive = p >= self.options.threshold or any(not m.relative or m.end < today for m in mentions)
        return TimeSensitivity(sensitive, kind if sensitive else TIMELESS, p, mentions, judged)

    async def check(self, ts: TimeSensitivity, answer: str, book: SourceBook, cited: Sequence[int], today: date, *,
                    final: bool = False) -> Verdict:
        started = time.perf_counter()
        evidence: list[dict] = [{"time_sensitivity": ts.to_dict()}]
        if not ts.sensitive:
            return Verdict(self.name, "pass", scores={"time_sensitive": ts.probability}, evidence=tuple(evidence),
                           elapsed_ms=(time.perf_counter() - started) * 1000)
        dated = [e for e in book.items if e.source.kind == "document" and e.source.date is not None]
        used = [e for e in dated if e.source.n in cited] or dated
        notes, flags, reason = [], [], ""
        if used:
            newest = max(used, key=day_of)
            evidence.append({"newest_used": newest.source.n, "date": day_of(newest).isoformat()})
            window = self.options.windows.get(ts.kind, max(self.options.windows.values()))
            age = (today - day_of(newest)).days
            if ts.current and age > window and not newest.version:
                flags.append("stale")
                notes.append(f"This may be out of date: the newest source it rests on [{newest.source.n}] is "
                             f"older than {_kind_phrase(ts.kind)} stays current.")
            period = ts.period
            if period is not None and all(day_of(e) < period.start for e in used) and period.start <= today:
                flags.append("before_period")
            pairs = await asyncio.to_thread(self._same_topic_pairs, dated)
            newer = [b for a, b in pairs if a in used and b not in used and day_of(b) > day_of(newest)]
            if ts.current and newer and not final:
                best = max(newer, key=day_of)
                reason = (f"source [{best.source.n}] ({day_of(best).isoformat()}) is newer than what the answer cites "
                          f"([{newest.source.n}], {day_of(newest).isoformat()}) on the same topic: answer from the "
                          "newest source and give its date")
            # sources that differ over time conflict only for a question about now: asked about 2024, the
            # 2024 figure is the answer and a 2025 one no contradiction
            changes = [(a, b) for a, b in pairs if ts.current and _facts_differ(a, b) and (a in used or b in used)]
            if changes:
                flags.append("disagreement")
                a, b = changes[0]
                follows = b.source.n in cited
                notes.append(f"Older sources say otherwise; this answer follows the newest [{b.source.n}]." if follows
                             else f"A newer source [{b.source.n}] may say otherwise.")
                evidence.append({"disagreement": [[x.source.n, y.source.n] for x, y in changes]})
        else:
            flags.append("undated")
        ms = (time.perf_counter() - started) * 1000
        scores = {"time_sensitive": round(ts.probability, 3)}
        if reason:
            return Verdict(self.name, "revise", reason=reason, flags=tuple(flags + ["newer_source"]), scores=scores,
                           evidence=tuple(evidence), elapsed_ms=ms)
        # One sentence at most, and only for a stale source or a conflict: the first of them.
        return Verdict(self.name, "pass", message=notes[0] if notes else None, flags=tuple(flags), scores=scores,
                       evidence=tuple(evidence), elapsed_ms=ms)

    def _same_topic_pairs(self, items: Sequence[Evidence]) -> list[tuple[Evidence, Evidence]]:
        """Pairs (older, newer) of dated passages about the same thing, on different days."""
        if len(items) < 2:
            return []
        vectors = self.vectors.embed([f"{e.source.title}. {e.text}" for e in items])
        sims = vectors @ vectors.T
        pairs = []
        for i, j in zip(*np.triu_indices(len(items), 1), strict=True):
            a, b = sorted((items[i], items[j]), key=day_of)
            if sims[i, j] >= self.options.same_topic and day_of(a) != day_of(b) and a.doc_id != b.doc_id:
                pairs.append((a, b))
        return pairs


def _facts_differ(a: Evidence, b: Evidence) -> bool:
    fa, fb = facts(a.text), facts(b.text)
    return bool(fa.numbers ^ fb.numbers) or bool(fa.names ^ fb.names)


def _kind_phrase(kind: str) -> str:
    return {"news": "news", "price": "a price", "office_holder": "an office holder", "version": "a version",
            "schedule": "a schedule", "weather": "weather"}.get(kind, "such information")
