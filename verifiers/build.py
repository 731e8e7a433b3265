"""The verifiers as the agent, the service and the eval runner build them from settings."""

from __future__ import annotations

from tansuo.embedding import Embedder, embedding_model_path
from tansuo.errors import ConfigError
from tansuo.llm import LLMBackend
from tansuo.llm.factory import large_model
from tansuo.llm.openai_compat import OpenAIBackend
from tansuo.settings import Settings
from tansuo.verifiers.factuality import Factuality, FactualityOptions
from tansuo.verifiers.guard import GuardModel
from tansuo.verifiers.harm import Harmlessness, HarmOptions, HarmScorer
from tansuo.verifiers.judge import Judge
from tansuo.verifiers.pipeline import Policy, Verifiers
from tansuo.verifiers.recency import Recency, RecencyOptions, default_windows
from tansuo.verifiers.request_model import ADAPTER_PATH, RequestClassifier


def build_verifiers(settings: Settings, *, embedder: Embedder, backend: LLMBackend) -> Verifiers | None:
    """None when every verifier is off."""
    if not settings.verifiers:
        return None
    judging, revisions = model_roles(settings)
    judge = Judge(backend) if judging else None
    cache = settings.data_dir / "verifiers"
    harm = build_harmlessness(settings, embedder, judge=judge)
    facts = Factuality(embedder, judge=judge, options=FactualityOptions(
        support=settings.support_threshold, floor=settings.support_floor))
    windows = default_windows() | settings.freshness_days
    recency = Recency(embedder, judge=judge, options=RecencyOptions(windows=windows), cache_dir=cache)
    policy = Policy(enabled=frozenset(settings.verifiers), may_block=frozenset(settings.verify_block),
                    revisions=revisions)
    return Verifiers(harmlessness=harm, factuality=facts, recency=recency, policy=policy)


def build_harmlessness(settings: Settings, embedder: Embedder, *, judge: Judge | None = None) -> Harmlessness:
    """The harm scorer (exemplars, plus the request classifier unless switched off) and its policy."""
    scorer = HarmScorer(embedder, cache_dir=settings.data_dir / "verifiers", classifier=request_classifier(settings))
    return Harmlessness(scorer, judge=judge, guard=_guard(settings),
                        options=HarmOptions(threshold=settings.harm_threshold,
                                            injection_threshold=settings.injection_threshold))


def request_classifier(settings: Settings) -> RequestClassifier | None:
    if not settings.harm_classifier:
        return None
    adapter = settings.harm_adapter or ADAPTER_PATH
    if not adapter.is_file():
        raise ConfigError(f"TANSUO_HARM_ADAPTER: no adapter file at {adapter} (train one with `tansuo train harm`, "
                          f"or set TANSUO_HARM_CLASSIFIER=false)")
    return RequestClassifier(embedding_model_path(settings), adapter, cache_dir=settings.cache_dir)


def model_roles(settings: Settings) -> tuple[bool, int]:
    """Whether the model judges, and how many revisions it gets; `auto` decides by model size."""
    auto = settings.verify_judge == "auto" or settings.verify_revisions is None
    large = large_model(settings) if auto else False
    judging = settings.verify_judge == "on" or (settings.verify_judge == "auto" and large)
    return judging, settings.verify_revisions if settings.verify_revisions is not None else int(large)


def _guard(settings: Settings) -> GuardModel | None:
    if not settings.guard_base_url:
        return None
    key = settings.guard_api_key.get_secret_value() if settings.guard_api_key else None
    return GuardModel(OpenAIBackend(settings.guard_base_url, model=settings.guard_model, api_key=key,
                                    timeout_s=settings.request_timeout_s, connect_timeout_s=settings.connect_timeout_s,
                                    max_retries=settings.max_retries))
