"""Factuality: every claim (sentence) of the answer must be backed by the source it cites.

Two kinds of evidence, both needed: exact checks that similar wording cannot fool (every number,
date and name a claim states must be in the cited source: `verifiers.claims`), and entailment-style
support between the claim and the cited passage, scored by the embedding model and, where that
score is uncertain, judged by the model under a yes/no schema. A claim citing the wrong source is
re-pointed to a retrieved source that backs it; the rest are sent back to the model once, then
removed from the shown answer (the verdict's evidence keeps them). Tool results are sources like
documents.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from tansuo.core.sources import SourceBook, content_words, sentences
from tansuo.core.verdict import Verdict
from tansuo.embedding import Embedder
from tansuo.verifiers.claims import ClaimCheck, check_claims, claim_sentences
from tansuo.verifiers.exemplars import VectorCache
from tansuo.verifiers.facts import facts
from tansuo.verifiers.judge import Judge

Status = Literal["supported", "repointed", "unsupported", "unsourced"]
_MARKERS = re.compile(r"\s?\[\d{1,3}\]")
_JUDGE_SYSTEM = ("You check an answer against its source. Reply yes only if the source states what the claim says; "
                 "reply no if the claim adds, changes or contradicts anything. Reply with JSON only.")


@dataclass(frozen=True)
class FactualityOptions:
    support: float = 0.6  # claim-passage cosine at which wording alone counts as support
    floor: float = 0.35  # below this a claim is unsupported, whatever else holds


@dataclass
class Claim:
    sentence: str  # as written in the answer, markers included
    check: ClaimCheck
    support: dict[int, float] = field(default_factory=dict)  # source n -> best passage cosine
    status: Status = "supported"
    why: str = ""
    judged: bool = False
    cite: tuple[int, ...] = ()  # the citations it should carry (re-pointed ones differ)

    def to_dict(self) -> dict:
        return {"claim": self.check.claim, "cited": list(self.check.cited), "status": self.status, "why": self.why,
                "missing": list(self.check.missing), "support": {str(k): round(v, 3) for k, v in self.support.items()},
                "judged": self.judged, "cite": list(self.cite)}


class Factuality:
    name = "factuality"

    def __init__(self, embedder: Embedder, *, judge: Judge | None = None,
                 options: FactualityOptions | None = None) -> None:
        self.vectors = VectorCache(embedder)
        self.judge = judge
        self.options = options or FactualityOptions()

    async def check(self, answer: str, book: SourceBook, *, final: bool = False) -> tuple[Verdict, str]:
        """The verdict and the answer as it should stand: re-pointed citations always; unsupported
        claims removed when `final` (before that, the verdict asks for a revision)."""
        started = time.perf_counter()
        claims = await asyncio.to_thread(self.claims, answer, book)
        for claim in claims:
            await self._decide(claim, book)
        bad = [c for c in claims if c.status == "unsupported"]
        text = rewrite(answer, claims, remove=final)
        flags = tuple(dict.fromkeys(c.status for c in claims if c.status in ("unsupported", "repointed")))
        scores = {"claims": len(claims), "unsupported": len(bad),
                  "repointed": sum(c.status == "repointed" for c in claims),
                  "supported_share": round(1 - len(bad) / len(claims), 3) if claims else 1.0}
        evidence = tuple(c.to_dict() for c in claims)
        ms = (time.perf_counter() - started) * 1000
        if bad and not final:
            reason = "; ".join(f"{c.check.claim!r}: {c.why}" for c in bad)
            return Verdict(self.name, "revise", reason=reason, flags=flags, scores=scores, evidence=evidence,
                           elapsed_ms=ms), text
        return Verdict(self.name, "pass", reason="" if not bad else f"{len(bad)} unsupported claim(s) removed",
                       flags=flags, scores=scores, evidence=evidence, elapsed_ms=ms), text

    def claims(self, answer: str, book: SourceBook) -> list[Claim]:
        """Every sentence that states something (facts, or three content words), with its support scores."""
        checks = {c.claim: c for c in check_claims(answer, book, all_claims=True)}
        out = [Claim(s, checks[_plain(s)]) for s in claim_sentences(answer) if _plain(s) in checks]
        documents = [e for e in book.items if e.source.kind == "document"]
        if out and documents:
            self._score_support(out, documents)
        return out

    def _score_support(self, claims: list[Claim], documents) -> None:
        passages, owners = [], []
        for item in documents:
            for passage in _passages(item.text):
                passages.append(passage)
                owners.append(item.source.n)
        vectors = self.vectors.embed([c.check.claim for c in claims] + passages)
        claim_vectors, passage_vectors = vectors[:len(claims)], vectors[len(claims):]
        sims = claim_vectors @ passage_vectors.T
        owners_arr = np.array(owners)
        for claim, row in zip(claims, sims, strict=True):
            claim.support = {n: float(row[owners_arr == n].max()) for n in dict.fromkeys(owners)}

    async def _decide(self, claim: Claim, book: SourceBook) -> None:
        check, cited = claim.check, claim.check.cited
        claim.cite = cited
        if not len(book):
            claim.status, claim.why = "unsourced", "the answer has no sources"
            return
        if cited and await self._backed(claim, cited, book):
            return
        others = [n for n in self._candidates(claim, book) if n not in cited]
        for n in others:
            if await self._backed(claim, (n,), book):
                claim.status, claim.cite = "repointed", (n,)
                claim.why = (f"cited {_refs(cited)}, backed by [{n}]" if cited else f"uncited, backed by [{n}]")
                return
        claim.status = "unsupported"
        claim.why = (", ".join(check.missing) + f" not in {_refs(cited)}" if check.missing and cited else
                     "no source backs it" if not cited else f"{_refs(cited)} does not say this")

    def _candidates(self, claim: Claim, book: SourceBook) -> list[int]:
        backed = list(claim.check.backed_by)
        ranked = sorted(claim.support, key=lambda n: -claim.support[n])
        tools = [e.source.n for e in book.items if e.source.kind == "tool"]
        return list(dict.fromkeys(backed + ranked + tools))

    async def _backed(self, claim: Claim, numbers: Sequence[int], book: SourceBook) -> bool:
        """The exact facts are in these sources, and (for documents) the wording is close enough, or
        the model says the passage states it."""
        stated = claim.check
        if stated.missing_from(numbers):
            return False
        kinds = {book.get(n).source.kind for n in numbers if book.get(n)}
        if kinds == {"tool"}:
            return stated.has_facts  # structured results: only stated facts can be checked against them
        if stated.has_facts and len(_words_besides_facts(stated.claim)) <= 2:
            return True  # "The answer is: 2029." says nothing but its facts: wording cannot add evidence
        best = max((claim.support.get(n, -1.0) for n in numbers), default=-1.0)
        opts = self.options
        if best < opts.floor:
            return False
        if best >= opts.support or (stated.has_facts and self.judge is None):
            return True
        if self.judge is None:
            return best >= (opts.support + opts.floor) / 2
        n = max(numbers, key=lambda k: claim.support.get(k, -1.0))
        verdict = await self.judge.yes_no(_JUDGE_SYSTEM, f"Source: {_best_passage(claim, book.get(n).text)}\n"
                                                         f"Claim: {stated.claim}\nDoes the source support the claim?")
        claim.judged = verdict is not None
        return bool(verdict) if verdict is not None else best >= (opts.support + opts.floor) / 2


def rewrite(answer: str, claims: Sequence[Claim], *, remove: bool) -> str:
    """Re-pointed claims get their new markers; unsupported ones are removed when `remove`."""
    text = answer
    for claim in claims:
        new = claim.sentence
        if claim.status == "repointed":
            new = _with_markers(claim.sentence, claim.cite)
        elif claim.status == "unsupported" and remove:
            new = ""
        if new != claim.sentence:
            text = text.replace(claim.sentence, new, 1)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def _plain(sentence: str) -> str:
    return _MARKERS.sub("", sentence).strip()


def _refs(numbers: Sequence[int]) -> str:
    return " ".join(f"[{n}]" for n in numbers) or "no source"


def _with_markers(sentence: str, numbers: Sequence[int]) -> str:
    plain = _MARKERS.sub("", sentence).rstrip()
    return _insert_before_end(plain, "".join(f" [{n}]" for n in numbers))


def _insert_before_end(sentence: str, insert: str) -> str:
    stripped = sentence.rstrip()
    if stripped and stripped[-1] in ".!?":
        return f"{stripped[:-1]}{insert}{stripped[-1]}"
    return f"{stripped}{insert}"


_GENERIC = frozenset("answer answers result results source sources says said according also".split())


def _words_besides_facts(claim: str) -> set[str]:
    stated = facts(claim)
    fact_words = {w.lower() for n in stated.names for w in n.split()} | set(stated.numbers)
    return {w for w in content_words(claim) if w not in fact_words and w not in _GENERIC and not w[0].isdigit()}


def _passages(text: str) -> list[str]:
    """A source's sentences and each pair of neighbours (a claim may join two), and the whole text."""
    parts = sentences(text) or [text]
    pairs = [f"{a} {b}" for a, b in zip(parts, parts[1:])]
    return [p for p in dict.fromkeys([*parts, *pairs, text]) if len(content_words(p)) >= 2] or [text]


def _best_passage(claim: Claim, text: str, limit: int = 600) -> str:
    """The source text for the judge: short, starting near the words the claim shares with it."""
    words = content_words(claim.check.claim)
    parts = sentences(text) or [text]
    ranked = sorted(range(len(parts)), key=lambda i: -len(words & content_words(parts[i])))
    chosen = sorted(ranked[:2])
    return " ".join(parts[i] for i in chosen)[:limit]


