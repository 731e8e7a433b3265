"""The `tansuo` command, run as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tansuo.llm.llama_server import free_port


def tansuo(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
           timeout: float = 180) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("TANSUO_")}
    return subprocess.run([sys.executable, "-m", "tansuo.cli", *args], env={**base, **(env or {})},
                          capture_output=True, text=True, timeout=timeout, cwd=cwd)


def assert_no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stdout + proc.stderr


def test_version():
    proc = tansuo("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("tansuo ")


def test_usage_error_exits_2():
    proc = tansuo("ask")
    assert proc.returncode == 2 and "question" in proc.stderr


def test_doctor_names_each_broken_part(tmp_path):
    broken_plugins = tmp_path / "plugins"
    broken_plugins.mkdir()
    (broken_plugins / "bad.yaml").write_text("name: bad\nkind: ftp\ndescription: d\n")
    env = {"TANSUO_MODEL_PATH": str(tmp_path / "missing.gguf"), "TANSUO_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
           "TANSUO_DATA_DIR": str(tmp_path / "data"), "TANSUO_PLUGIN_DIRS": str(broken_plugins)}
    proc = tansuo("doctor", env=env, cwd=tmp_path)
    assert proc.returncode == 1
    fails = [line for line in proc.stdout.splitlines() if line.startswith("FAIL")]
    assert len(fails) == 3
    assert fails[0].startswith("FAIL model:") and "missing.gguf" in fails[0] and "TANSUO_MODEL_PATH" in fails[0]
    assert fails[1].startswith("FAIL store:") and env["TANSUO_REDIS_URL"] in fails[1]
    assert fails[2].startswith("FAIL plugins:") and "bad.yaml: kind:" in fails[2]
    assert "ok   data dir" in proc.stdout
    assert_no_traceback(proc)


def test_doctor_reports_invalid_settings_one_line_each(tmp_path):
    proc = tansuo("doctor", env={"TANSUO_N_CTX": "big", "TANSUO_PARALLEL": "0"}, cwd=tmp_path)
    assert proc.returncode == 1
    assert [line.split(":")[1].strip() for line in proc.stdout.splitlines()] == ["TANSUO_N_CTX", "TANSUO_PARALLEL"]
    assert_no_traceback(proc)


@pytest.mark.model
def test_doctor_passes_on_the_default_setup_with_real_redis(tmp_path):
    env = {"TANSUO_REDIS_URL": "redis://127.0.0.1:6379/0", "TANSUO_DATA_DIR": str(tmp_path)}
    proc = tansuo("doctor", env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    checks = [line for line in proc.stdout.splitlines() if line[:4] in ("ok  ", "FAIL")]
    assert [c.split(":")[0][5:] for c in checks] == ["model", "tool adapter", "embedding model", "store", "plugins",
                                                     "index", "verifiers", "service", "data dir"]
    assert "loaded by llama-server" in checks[0] and "kv cache q8_0" in checks[0]
    assert "tools-lora.gguf" in checks[1] and "fits" in checks[1]  # the shipped adapter, for the shipped tools
    assert "no index in" in checks[5] and "built on first start" in checks[5]
    assert "may block: harmlessness" in checks[6] and "model as judge off, 0 revision(s)" in checks[6]
    assert checks[7].startswith("ok   service: http://127.0.0.1:8000/, no API keys")


def test_serving_off_loopback_without_keys_is_refused_with_the_fix(tmp_path):
    env = {"TANSUO_HOST": "0.0.0.0", "TANSUO_DATA_DIR": str(tmp_path)}
    proc = tansuo("serve", env=env, cwd=tmp_path)
    assert proc.returncode == 1 and "needs API keys" in proc.stderr and "tansuo keys add NAME" in proc.stderr
    assert_no_traceback(proc)
    added = tansuo("keys", "add", "ops", env=env, cwd=tmp_path)
    key = added.stdout.strip()
    assert added.returncode == 0 and key.startswith("tsk-")
    assert key not in (tmp_path / "api_keys.json").read_text()
    assert tansuo("keys", "list", env=env, cwd=tmp_path).stdout.split() == ["ops", "profiles:", "tools,plugins"]


def test_keys_carry_their_profiles_and_can_be_removed(tmp_path):
    env = {"TANSUO_DATA_DIR": str(tmp_path)}
    assert tansuo("keys", "add", "lab", "--profiles", "tools,agent", env=env, cwd=tmp_path).returncode == 0
    assert tansuo("keys", "list", env=env, cwd=tmp_path).stdout.split() == ["lab", "profiles:", "tools,agent"]
    wrong = tansuo("keys", "add", "x", "--profiles", "root", env=env, cwd=tmp_path)
    assert wrong.returncode != 0 and "unknown profile 'root'" in wrong.stderr
    assert_no_traceback(wrong)
    assert tansuo("keys", "remove", "lab", env=env, cwd=tmp_path).returncode == 0
    assert tansuo("keys", "list", env=env, cwd=tmp_path).stdout == ""
    missing = tansuo("keys", "remove", "lab", env=env, cwd=tmp_path)
    assert missing.returncode != 0 and "no key named 'lab'" in missing.stderr
    assert_no_traceback(missing)


ASK_ENV = {"TANSUO_N_CTX": "4096", "TANSUO_PARALLEL": "1", "TANSUO_DEFAULT_CORPUS": "false"}


@pytest.mark.model
def test_ask_prints_the_answer_its_sources_and_the_trace(tmp_path):
    proc = tansuo("ask", "What weekday was 2024-02-29?", env={"TANSUO_DATA_DIR": str(tmp_path), **ASK_ENV},
                  cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    answer, _, sources = proc.stdout.partition("\nSources:\n")
    assert "Thursday" in answer and "[1] calendar tool (tool:calendar" in sources
    assert "Trace:" in proc.stderr and "call calendar(" in proc.stderr and "result calendar" in proc.stderr
    assert "1 tool calls" in proc.stderr and "in the model" in proc.stderr


@pytest.mark.model
def test_ask_json_prints_every_event_as_a_json_line(tmp_path):
    import json

    proc = tansuo("ask", "--json", "Hello!", env={"TANSUO_DATA_DIR": str(tmp_path), **ASK_ENV}, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert events[0]["type"] == "turn_started" and events[-1]["type"] == "turn_ended"
    streamed = "".join(e["text"] for e in events if e["type"] == "answer_delta")
    assert streamed.strip() and streamed.strip() == events[-1]["answer"].strip()


def test_ask_against_a_server_that_is_down_is_one_line(tmp_path):
    env = {"TANSUO_BACKEND": "openai", "TANSUO_OPENAI_BASE_URL": f"http://127.0.0.1:{free_port()}/v1",
           "TANSUO_MAX_RETRIES": "0", "TANSUO_DATA_DIR": str(tmp_path), "TANSUO_DEFAULT_CORPUS": "false"}
    proc = tansuo("ask", "hello", env=env, cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.startswith("tansuo: error: cannot reach the model server") and proc.stderr.count("\n") == 1
    assert_no_traceback(proc)


def test_ask_with_a_missing_model_is_one_line(tmp_path):
    proc = tansuo("ask", "hello", env={"TANSUO_MODEL_PATH": "/nowhere/m.gguf"}, cwd=tmp_path)
    assert proc.returncode == 1 and "model file not found: /nowhere/m.gguf" in proc.stderr
    assert_no_traceback(proc)


@pytest.mark.model
def test_sigterm_stops_a_start_that_waits_on_a_hanging_plugin(tmp_path):
    import signal
    import time

    import yaml

    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "hang.yaml").write_text(yaml.safe_dump({
        "name": "hang", "kind": "mcp", "description": "Never answers.", "timeout_s": 600,
        "mcp": {"command": [sys.executable, "-c", "import time; time.sleep(900)"]}}))
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("TANSUO_")}, **ASK_ENV,
           "TANSUO_DATA_DIR": str(tmp_path / "data"), "TANSUO_PLUGIN_DIRS": str(plugins),
           "TANSUO_PORT": str(free_port())}
    proc = subprocess.Popen([sys.executable, "-m", "tansuo.cli", "serve"], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        started = time.monotonic()
        assert "tansuo: starting on" in proc.stderr.readline()
        time.sleep(20)  # the embedder and the model are up by now; the listing waits on the plugin
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        assert time.monotonic() - started < 120  # not the plugin's 600 s
        assert "ready:" not in proc.stderr.read()
    finally:
        proc.kill()
