"""The plugin author's loop through the command line: `plugins new` writes a plugin of each kind that
validates and whose example calls run (`plugins test`; the http kind against its own stub server
on 127.0.0.1), without overwriting anything; `plugins try` is in test_try.py (it needs the model)."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest

from tests.plugins.test_manifests import run_cli
from tests.server.helpers import free_port


@pytest.mark.parametrize("kind", ["python", "mcp"])
def test_a_new_plugin_validates_and_its_example_calls_run(tmp_path, kind: str) -> None:
    made = run_cli("plugins", "new", "word_count", "--kind", kind, "--dir", str(tmp_path))
    assert made.returncode == 0 and "wrote" in made.stdout and "tansuo plugins test" in made.stdout
    assert (tmp_path / "word_count.yaml").read_text().startswith("# yaml-language-server: $schema=")
    valid = run_cli("plugins", "validate", str(tmp_path))
    assert valid.returncode == 0 and "1 plugin(s) valid, 0 problem(s)" in valid.stdout, valid.stdout
    tested = run_cli("plugins", "test", str(tmp_path))
    assert tested.returncode == 0 and "2 example call(s) in 1 plugin(s); 0 failure(s)" in tested.stdout, tested.stdout
    assert "4" in tested.stdout.splitlines()[0]  # "the quick brown fox": four words, counted by the new code


def test_a_new_http_plugin_calls_its_stub_server_over_a_real_socket(tmp_path) -> None:
    port = free_port()
    assert run_cli("plugins", "new", "word_count", "--kind", "http", "--dir", str(tmp_path),
                   "--port", str(port)).returncode == 0
    server = subprocess.Popen([sys.executable, str(tmp_path / "word_count_server.py"), str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/word_count?text=a+b").json() == {"words": 2}:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        refused = run_cli("plugins", "test", str(tmp_path))  # a private host needs the operator's consent
        assert refused.returncode == 1 and "TANSUO_PLUGIN_ALLOW_PRIVATE_HOSTS" in refused.stdout
        tested = run_cli("plugins", "test", str(tmp_path), env={"TANSUO_PLUGIN_ALLOW_PRIVATE_HOSTS": "127.0.0.1"})
        assert tested.returncode == 0 and '{"words": 6}' in tested.stdout, tested.stdout
    finally:
        server.terminate()
        server.wait(10)


def test_new_refuses_a_bad_name_and_never_overwrites(tmp_path) -> None:
    bad = run_cli("plugins", "new", "Word-Count", "--dir", str(tmp_path))
    assert bad.returncode == 1 and bad.stderr.startswith("tansuo: error: plugin name 'Word-Count'")
    assert run_cli("plugins", "new", "word_count", "--dir", str(tmp_path)).returncode == 0
    (tmp_path / "word_count.py").write_text("# the author's own code\n")
    again = run_cli("plugins", "new", "word_count", "--dir", str(tmp_path))
    assert again.returncode == 1 and "not overwritten" in again.stderr
    assert (tmp_path / "word_count.py").read_text() == "# the author's own code\n"
