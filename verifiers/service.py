"""The verifiers as the agent, the service and the eval runner build them from settings."""

from __future__ import annotations

from tansuo.embedding import Embedder
from tansuo.llm import LLMBackend
from tansuo.llm.factory import large_model
from tansuo.settings import Settings
from verifiers.factuality import Factuality, FactualityOptions
from verifiers.guard import GuardModel
from verifiers.harm import Harmlessness, HarmOptions, HarmScorer
from verifiers.judge import Judge
from verifiers.pipeline import Policy, Verifiers
from verifiers.recency import Recency, RecencyOptions, default_windows


def build_verifiers(settings: Settings, *, embedder: Embedder, backend: LLMBackend) -> Verifiers | None:
    """None when every verifier is off."""
    if not settings.verifiers:
        return None
    judging, revisions = model_roles(settings)
    judge = Judge(backend) if judging else None
    cache = settings.data_dir / "verifiers"
    harm = Harmlessness(HarmScorer(embedder, cache_dir=cache), judge=judge, guard=_guard(settings),
                        options=HarmOptions(threshold=settings.harm_threshold,
                                            injection_threshold=settings.injection_threshold))
    facts = Factuality(embedder, judge=judge, options=FactualityOptions(
        support=settings.support_threshold, floor=settings.support_floor, unsupported=settings.unsupported_claims))
    windows = default_windows() | settings.freshness_days
    recency = Recency(embedder, judge=judge, options=RecencyOptions(windows=windows), cache_dir=cache)
    policy = Policy(enabled=frozenset(settings.verifiers), may_block=frozenset(settings.verify_block),
                    revisions=revisions)
    return Verifiers(harmlessness=harm, factuality=facts, recency=recency, policy=policy)


def model_roles(settings: Settings) -> tuple[bool, int]:
    """Whether the model judges, and how many revisions it gets; `auto` decides by model size."""
    auto = settings.verify_judge == "auto" or settings.verify_revisions is None
    large = large_model(settings) if auto else False
    judging = settings.verify_judge == "on" or (settings.verify_judge == "auto" and large)
    return judging, settings.verify_revisions if settings.verify_revisions is not None else int(large)


def _guard(settings: Settings) -> GuardModel | None:
    if not settings.guard_base_url:
        return None
    from tansuo.llm.openai_compat import OpenAIBackend

    key = settings.guard_api_key.get_secret_value() if settings.guard_api_key else None
    return GuardModel(OpenAIBackend(settings.guard_base_url, model=settings.guard_model, api_key=key,
                                    timeout_s=settings.request_timeout_s, connect_timeout_s=settings.connect_timeout_s,
                                    max_retries=settings.max_retries))
