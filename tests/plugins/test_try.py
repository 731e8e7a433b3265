"""`tansuo plugins try` on the real model: a plugin made by `plugins new` is ranked, offered, called,
and cited in the answer; an unknown name is one line."""

from __future__ import annotations

from tests.plugins.test_manifests import run_cli


def test_plugins_try_shows_a_new_plugin_being_called(tmp_path) -> None:
    folder = tmp_path / "plugins"
    assert run_cli("plugins", "new", "word_count", "--dir", str(folder)).returncode == 0
    env = {"TANSUO_DATA_DIR": str(tmp_path / "data"), "TANSUO_PLUGIN_DIRS": str(folder), "TANSUO_N_CTX": "4096"}
    tried = run_cli("plugins", "try", "word_count", "how many words are in 'the quick brown fox'?", env=env)
    lines = dict(line.split(":", 1) for line in tried.stdout.splitlines() if ":" in line)
    assert lines["index"].strip().startswith("rank 1 of"), tried.stdout + tried.stderr
    assert lines["router"].strip().startswith("offers it")
    assert lines["call"].strip().startswith("word_count(") and '"words": 4' in lines["result"]
    assert "4" in lines["answer"] and tried.returncode == 0
    unknown = run_cli("plugins", "try", "no_such_plugin", "hello", env=env)
    assert unknown.returncode == 1 and unknown.stderr.startswith("tansuo: error: no plugin named 'no_such_plugin'")
