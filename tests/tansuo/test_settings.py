"""Settings: env prefix, validation with errors that say what to set."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tansuo.errors import ConfigError
from tansuo.settings import load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in list(os.environ):
        if name.startswith("TANSUO_"):
            monkeypatch.delenv(name)


def test_defaults_are_the_embedded_quantized_setup():
    s = load_settings()
    assert (s.backend, s.kv_cache_type, s.flash_attn) == ("embedded", "q8_0", True)
    assert s.effective_threads >= 1


def test_env_prefix_and_dotenv(monkeypatch, tmp_path):
    (tmp_path / ".env").write_text("TANSUO_N_CTX=4096\nTANSUO_PARALLEL=2\n")
    monkeypatch.setenv("TANSUO_PARALLEL", "3")  # the environment beats .env
    s = load_settings()
    assert (s.n_ctx, s.parallel) == (4096, 3)


def test_invalid_values_name_the_variable(monkeypatch):
    monkeypatch.setenv("TANSUO_N_CTX", "lots")
    monkeypatch.setenv("TANSUO_KV_CACHE_TYPE", "q3")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert any(p.startswith("TANSUO_N_CTX:") for p in info.value.problems)
    assert any(p.startswith("TANSUO_KV_CACHE_TYPE:") for p in info.value.problems)


def test_quantized_kv_cache_needs_flash_attention(monkeypatch):
    monkeypatch.setenv("TANSUO_FLASH_ATTN", "false")
    with pytest.raises(ConfigError, match="TANSUO_FLASH_ATTN=true or TANSUO_KV_CACHE_TYPE=f16"):
        load_settings()
    monkeypatch.setenv("TANSUO_KV_CACHE_TYPE", "f16")
    assert load_settings().flash_attn is False


def test_openai_backend_needs_a_base_url(monkeypatch):
    monkeypatch.setenv("TANSUO_BACKEND", "openai")
    with pytest.raises(ConfigError, match="TANSUO_OPENAI_BASE_URL"):
        load_settings()


def test_nothing_is_read_at_import_time(monkeypatch):
    monkeypatch.setenv("TANSUO_N_CTX", "not a number")
    code = "import tansuo.cli, tansuo.cli.doctor, tansuo.llm, tansuo.settings"  # a bad environment imports fine
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
    with pytest.raises(ConfigError):
        load_settings()  # loading is where it fails


def test_secrets_are_masked_in_the_public_view(monkeypatch):
    monkeypatch.setenv("TANSUO_BACKEND", "openai")
    monkeypatch.setenv("TANSUO_OPENAI_BASE_URL", "http://127.0.0.1:8000/v1")
    monkeypatch.setenv("TANSUO_OPENAI_API_KEY", "sk-secret")
    assert load_settings().public_dict()["openai_api_key"] == "***"


def test_verifier_policies_parse_and_bad_ones_say_what_to_set(monkeypatch):
    monkeypatch.setenv("TANSUO_VERIFIERS", "factuality, harmlessness")
    monkeypatch.setenv("TANSUO_VERIFY_BLOCK", "harmlessness,factuality")
    monkeypatch.setenv("TANSUO_FRESHNESS_DAYS", '{"price": 180}')
    s = load_settings()
    assert s.verifiers == ["factuality", "harmlessness"] and s.verify_block == ["harmlessness", "factuality"]
    assert s.freshness_days == {"price": 180}
    monkeypatch.setenv("TANSUO_VERIFIERS", "factuality,truthiness")
    with pytest.raises(ConfigError, match="TANSUO_VERIFIERS: unknown verifier 'truthiness'"):
        load_settings()
    monkeypatch.setenv("TANSUO_VERIFIERS", "")
    assert load_settings().verifiers == []
    monkeypatch.setenv("TANSUO_GUARD_BASE_URL", "http://127.0.0.1:8001/v1")
    with pytest.raises(ConfigError, match="TANSUO_GUARD_MODEL"):
        load_settings()
