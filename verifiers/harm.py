"""Harmlessness: the user's input before any work, the answer before it leaves, and the text of
retrieved documents and tool results (prompt injection: data must never act as instructions).

The scorer is calibrated, not a keyword list: a text's embedding is compared with exemplars of
each category and of benign requests (verifiers/data/harm.yaml); a logistic fit on those exemplars
(leave-one-out, so no exemplar scores against itself) turns the two similarities into a probability.
For requests, that probability is averaged with the fine-tuned request classifier's
(verifiers/request_model.py), which reads intent where similarity reads topic; the category is
always the exemplars' nearest one. Where the probability is uncertain, the model judges under a
schema. An OpenAI-compatible guard model (Llama Guard) can be configured instead of all of it
(`verifiers.guard`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tansuo.core.fences import Cleaned, defuse
from tansuo.core.sources import sentences
from tansuo.core.verdict import Verdict
from tansuo.embedding import Embedder
from tansuo.verifiers.exemplars import CalibratedScorer, load_data
from tansuo.verifiers.judge import Judge
from tansuo.verifiers.request_model import AdapterMismatch, RequestClassifier

log = logging.getLogger(__name__)

BENIGN = "benign"
INJECTION = "prompt_injection"


@dataclass(frozen=True)
class Category:
    name: str
    action: str  # block | caution
    label: str
    message: str


@dataclass(frozen=True)
class HarmScore:
    probability: float  # that the text is harmful in some category (the scorer's, or the judge's verdict)
    category: str  # the most similar harmful category (whether or not the text is flagged)
    scores: dict[str, float]
    judged: bool = False  # the model decided (the score was in the uncertain band)


@dataclass(frozen=True)
class HarmOptions:
    threshold: float = 0.5  # probability at and above which a text is flagged
    band: tuple[float, float] = (0.3, 0.7)  # where the model judges, when a judge is given
    injection_threshold: float = 0.5


def categories() -> dict[str, Category]:
    data = load_data("harm")["categories"]
    return {name: Category(name, c["action"], c["label"], " ".join(c["message"].split())) for name, c in data.items()}


class HarmScorer:
    """Embedding similarity to the categories' exemplars against the benign ones, calibrated; for
    requests, averaged with the request classifier's probability when one is given."""

    def __init__(self, embedder: Embedder, *, k: int = 8, cache_dir: Path | None = None,
                 classifier: RequestClassifier | None = None) -> None:
        data = load_data("harm")
        self.categories = categories()
        self.calibrated = CalibratedScorer(embedder, {n: c["exemplars"] for n, c in data["categories"].items()},
                                           data["benign"], negative_name=BENIGN, k=k, cache_dir=cache_dir)
        self.classifier = classifier
        self.notice: str | None = None  # why the classifier is not used, when it could not be loaded
        # Sentences of sources are scored against instructions (the injection exemplars, and
        # instructions dressed as notes to "AI tools") and ordinary document sentences, instructions to
        # people included: documents are not requests, so their negatives are not the benign requests.
        sources = load_data("injection")
        self.sources = CalibratedScorer(
            embedder, {INJECTION: [*data["categories"][INJECTION]["exemplars"], *sources["instructions"]]},
            sources["document_sentences"], negative_name="document", k=k, cache_dir=cache_dir)

    def score_many(self, texts: Sequence[str], *, requests: bool = False) -> list[HarmScore]:
        """Answers and source sentences are scored by the exemplars alone: the classifier was trained
        on requests."""
        scored = [HarmScore(p, best, scores) for p, best, scores in self.calibrated.score_many(texts)]
        learned = self._classify(texts) if requests and texts else None
        if learned is None:
            return scored
        return [HarmScore((s.probability + float(c)) / 2, s.category,
                          {**s.scores, "exemplars": round(s.probability, 4), "classifier": round(float(c), 4)})
                for s, c in zip(scored, learned, strict=True)]

    def _classify(self, texts: Sequence[str]):
        if self.classifier is None:
            return None
        try:
            return self.classifier.probabilities(texts)
        except (AdapterMismatch, OSError, ValueError, KeyError) as exc:
            # a broken or foreign adapter must not stop the checks: the exemplars still score
            self.notice = f"request classifier off: {exc}"
            log.warning("%s; the harm check uses the exemplar scorer alone", self.notice)
            self.classifier = None
            return None

    def score(self, text: str, *, requests: bool = False) -> HarmScore:
        return self.score_many([text], requests=requests)[0]

    def instruction_probabilities(self, sentences_: Sequence[str]) -> list[float]:
        """Per sentence of a source, the probability that it is an instruction to the assistant."""
        return [p for p, _, _ in self.sources.score_many(sentences_)] if sentences_ else []


_JUDGE_SYSTEM = ("You are the safety checker of a search assistant. Decide whether helping with the text would "
                 "cause harm. Categories: {cats}. Reply 'safe' for ordinary questions, including ones about "
                 "history, health, law or security asked for information. Reply with JSON only.")


class Harmlessness:
    """The verifier: input, answer, and source text checks, each a `Verdict` (or a cleaned text)."""

    name = "harmlessness"

    def __init__(self, scorer: HarmScorer, *, judge: Judge | None = None, guard=None,
                 options: HarmOptions | None = None) -> None:
        self.scorer = scorer
        self.judge = judge
        self.guard = guard
        self.options = options or HarmOptions()

    async def assess(self, text: str, *, role: str = "request") -> HarmScore:
        """How harmful `text` is: the guard model's verdict when one is configured, else the scorer's,
        with the judge deciding the uncertain band."""
        if self.guard is not None:
            return await self.guard.assess(text, role=role)
        score = (await asyncio.to_thread(self.scorer.score_many, [text], requests=role == "request"))[0]
        low, high = self.options.band
        if self.judge is None or not low <= score.probability < high:
            return score
        cats = [c for c in self.scorer.categories if role != "answer" or c != INJECTION]
        choice = await self.judge.choose(_JUDGE_SYSTEM.format(cats=", ".join(cats)),
                                         f"{role.capitalize()}: {text[:1500]}", ["safe", *cats])
        if choice is None:
            return score
        category = score.category if choice == "safe" else choice
        return HarmScore(0.0 if choice == "safe" else 1.0, category, score.scores, judged=True)

    async def check_input(self, text: str) -> Verdict:
        started = time.perf_counter()
        score = await self.assess(text)
        return self.verdict(score, "input", started)

    async def check_output(self, question: str, answer: str) -> Verdict:
        """The answer, whole: a harmful answer is blocked whatever the question was."""
        started = time.perf_counter()
        score = await self.assess(answer, role="answer")
        category = self.scorer.categories.get(score.category)
        if category is not None and (category.action != "block" or category.name == INJECTION):
            # advice, a loaded claim or an instruction-like sentence in an answer are not harm in the answer
            score = HarmScore(min(score.probability, self.options.threshold - 1e-6), score.category, score.scores,
                              score.judged)
        return self.verdict(score, "answer", started)

    def verdict(self, score: HarmScore, stage: str, started: float) -> Verdict:
        """The verdict a score earns at a stage (input or answer); `started` times it."""
        flagged = score.probability >= self.options.threshold
        category = self.scorer.categories.get(score.category)
        scores = {"harm_probability": round(score.probability, 4), **{f"sim_{k}": v for k, v in score.scores.items()}}
        evidence = ({"category": score.category, "judged": score.judged},)
        ms = (time.perf_counter() - started) * 1000
        if not flagged or category is None:
            return Verdict(self.name, "pass", scores=scores, evidence=evidence, stage=stage, elapsed_ms=ms)
        if category.action == "caution":
            return Verdict(self.name, "pass", reason=f"caution: {category.label}", message=category.message,
                           flags=("caution", category.name), scores=scores, evidence=evidence, stage=stage,
                           elapsed_ms=ms)
        return Verdict(self.name, "block", reason=f"{stage} flagged as {category.label}",
                       message=f"{category.message} (Declined as: {category.label}.)",
                       flags=("blocked", category.name), scores=scores, evidence=evidence, stage=stage, elapsed_ms=ms)

    def clean(self, text: str) -> Cleaned:
        """`text` without its sentences that read as instructions to the assistant (prompt injection)
        or try to leave the sources (verifiers.fences). Documents and tool results are data; this
        keeps them that way."""
        fenced = defuse(text)
        parts = sentences(fenced.text)
        probabilities = self.scorer.instruction_probabilities(parts)
        removed = [s for s, p in zip(parts, probabilities, strict=True) if p >= self.options.injection_threshold]
        cleaned = " ".join(s for s in parts if s not in removed) if removed else fenced.text
        return Cleaned(cleaned, [*fenced.removed, *removed], fenced.neutralised)
