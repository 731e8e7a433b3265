"""Manifests: validation with file and field, the published schema, discovery."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tansuo.plugins.http_runtime import HostPolicy
from tansuo.plugins.manifest import manifest_schema
from tansuo.plugins.registry import BUILTIN_DIR, discover, load_plugins

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).parents[2]


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("TANSUO_")}
    return subprocess.run([sys.executable, "-m", "tansuo.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300, env={**base, **(env or {})})


def test_validate_reports_one_line_per_problem_and_loads_the_good_ones():
    proc = run_cli("plugins", "validate", str(FIXTURES / "mixed"))
    assert proc.returncode == 1
    fails = sorted(line for line in proc.stdout.splitlines() if line.startswith("FAIL"))
    expected = [
        ("bad_schema.yaml", "input_schema", "not a valid JSON Schema"),
        ("missing_fields.yaml", "description", "Field required"),
        ("not_yaml.yml", "(file)", "not valid YAML"),
        ("unknown_kind.yaml", "kind", "'python', 'http' or 'mcp'"),
        ("unreachable.yaml", "python.entry", "no function 'no_such_function'"),
        ("zz_duplicate.yaml", "name", "duplicate name 'char_info'"),
    ]
    assert len(fails) == len(expected)
    for line, (file, field, message) in zip(fails, expected):
        assert f"{file}: {field}: " in line and message in line, line
    assert "ok   char_info (python)" in proc.stdout and "ok   weather (http)" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_validate_on_good_manifests_exits_0():
    proc = run_cli("plugins", "validate", str(BUILTIN_DIR))
    assert proc.returncode == 0, proc.stdout
    assert "0 problem(s)" in proc.stdout


def test_validate_on_a_missing_path_is_one_line():
    proc = run_cli("plugins", "validate", "/no/such/folder")
    assert proc.returncode == 1 and proc.stderr.strip() == "tansuo: error: no such file or folder: /no/such/folder"


def test_published_schema_is_current_and_printed():
    published = json.loads((ROOT / "plugins" / "manifest.schema.json").read_text())
    assert published == manifest_schema(), "run: tansuo plugins schema > plugins/manifest.schema.json"
    assert json.loads(run_cli("plugins", "schema").stdout) == published
    assert "$schema" in published["properties"] and published["properties"]["kind"]["enum"] == ["python", "http", "mcp"]


async def test_builtin_manifests_load_and_bad_ones_do_not_stop_good_ones():
    report = await load_plugins(discover([FIXTURES / "mixed"], entry_points=False), policy=HostPolicy(),
                                reserved=["math"])
    assert {"unicode_info", "wikipedia_search", "char_info", "weather"} <= set(report.plugins)
    assert len(report.problems) == 5  # the unreachable entry point is found on first call, not at load


async def test_a_plugin_may_not_take_a_builtin_tools_name(tmp_path):
    (tmp_path / "m.yaml").write_text("name: math\nkind: python\ndescription: d\npython: {entry: 'json:dumps'}\n")
    report = await load_plugins([tmp_path / "m.yaml"], policy=HostPolicy(), reserved=["math"])
    assert not report.plugins and "built-in tool's name" in str(report.problems[0])


@pytest.mark.parametrize("entry", ["os:system", "subprocess:run", "builtins:eval", "os.path:join", "_io:open"])
async def test_a_python_plugin_naming_a_system_module_is_refused_unless_allowed(tmp_path, entry):
    (tmp_path / "m.yaml").write_text(f"name: runner\nkind: python\ndescription: d\npython: {{entry: '{entry}'}}\n")
    report = await load_plugins([tmp_path / "m.yaml"], policy=HostPolicy())
    assert not report.plugins and "python.entry" in str(report.problems[0]) and "system module" in str(
        report.problems[0])
    allowed = await load_plugins([tmp_path / "m.yaml"], policy=HostPolicy(), system_entries=True)
    assert set(allowed.plugins) == {"runner"}


async def test_python_plugin_is_called_with_validated_arguments():
    report = await load_plugins([BUILTIN_DIR / "unicode_info.yaml"], policy=HostPolicy())
    plugin = report.plugins["unicode_info"]
    result = await plugin.call({"text": "é"})
    assert result.ok and result.content["characters"][0]["name"] == "LATIN SMALL LETTER E WITH ACUTE"
    bad = await plugin.call({"text": ""})
    assert not bad.ok and "invalid arguments: text" in bad.error


async def test_an_installed_package_ships_plugins_through_the_entry_point_group(tmp_path, monkeypatch):
    dist = tmp_path / "acme_plugins-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-plugins\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[tansuo.plugins]\nacme = acme_plugins:manifests\n")
    (tmp_path / "acme_plugins.py").write_text(
        "from pathlib import Path\n\ndef manifests():\n    return [Path(__file__).parent / 'acme']\n")
    (tmp_path / "acme").mkdir()
    (tmp_path / "acme" / "echo.yaml").write_text(
        "name: acme_echo\nkind: python\ndescription: Echo.\npython: {entry: 'json:dumps'}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    files = discover([], builtin=False, entry_points=True)
    assert tmp_path / "acme" / "echo.yaml" in files
    report = await load_plugins(files, policy=HostPolicy())
    assert "acme_echo" in report.plugins


@pytest.mark.model
def test_list_and_search_from_the_command_line(tmp_path):
    env = {"TANSUO_DATA_DIR": str(tmp_path), "TANSUO_PLUGIN_DIRS": str(FIXTURES / "mixed")}
    listed = run_cli("plugins", "list", env=env)
    assert listed.returncode == 0 and "unicode_info" in listed.stdout and "weather" in listed.stdout
    assert "problem:" in listed.stderr and "bad_schema.yaml" in listed.stderr
    found = run_cli("plugins", "search", "what is the code point of the letter é", "-k", "2", env=env)
    assert found.returncode == 0, found.stderr
    first = found.stdout.splitlines()[0].split()
    assert first[1] in {"unicode_info", "char_info"} and float(first[0]) > 0.35
    assert (tmp_path / "plugin-index" / "index.npz").is_file()
    nothing = run_cli("plugins", "search", "bake sourdough bread", env=env)
    assert "no plugin fits" in nothing.stdout


def test_plugins_test_runs_every_example_call_and_fails_on_a_broken_one(tmp_path):
    good = run_cli("plugins", "test", str(BUILTIN_DIR.parent / "manifests" / "unicode_info.yaml"))
    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stdout.count("ok   unicode_info example_calls[") == 4 and "0 failure(s)" in good.stdout
    assert '"code_point": "U+20AC"' in good.stdout  # the call really ran
    (tmp_path / "mean.yaml").write_text(json.dumps({
        "name": "mean", "kind": "python", "description": "The mean of some numbers.",
        "input_schema": {"type": "object", "properties": {"data": {"type": "array", "items": {"type": "number"}}},
                         "required": ["data"]},
        "example_calls": [{"request": "mean of 1 and 2", "arguments": {"data": [1, 2]}},
                          {"request": "mean of nothing", "arguments": {"data": []}}],
        "python": {"entry": "statistics:mean"}}))
    broken = run_cli("plugins", "test", str(tmp_path))
    assert broken.returncode == 1
    assert "ok   mean example_calls[0] ('mean of 1 and 2'): 1.5" in broken.stdout
    assert "FAIL mean example_calls[1] ('mean of nothing'): StatisticsError" in broken.stdout
    assert "2 example call(s) in 1 plugin(s); 1 failure(s)" in broken.stdout and "Traceback" not in broken.stdout
