"""Benchmarks that can fail: every benchmark takes --check and ends through `finish`, which exits 1
under --check when a measured target is missed (and 0 otherwise, or without --check)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from bench.support.checks import at_least, at_most, finish

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_a_missed_target_fails_the_check_and_a_met_one_does_not(capsys) -> None:
    met = [at_least("ratio", 1.6, 1.5), at_most("p50", 12.0, 25, " ms")]
    missed = met + [at_least("4 streams / 1", 1.36, 1.5)]
    assert finish("demo", met, check=True) == 0
    assert finish("demo", missed, check=True) == 1
    assert finish("demo", missed, check=False) == 0  # without --check the numbers are only reported
    assert finish("demo", [at_most("not run", None, 1)], check=True) == 0  # a part left out is not a miss
    out = capsys.readouterr()
    assert "**MISSED**" in out.out and "| 4 streams / 1 | 1.36 | >= 1.5 |" in out.out
    assert "1 target(s) missed: 4 streams / 1 1.36" in out.err


@pytest.mark.parametrize("path", sorted(p.name for p in BENCH.glob("*.py") if p.name != "__init__.py"))
def test_every_benchmark_takes_check_and_exits_with_finish(path: str) -> None:
    tree = ast.parse((BENCH / path).read_text())
    calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert "add_check" in calls and calls & {"finish", "save_and_finish"}, path
    main = next(n for n in tree.body if isinstance(n, ast.If) and "__main__" in ast.unparse(n.test))
    assert "sys.exit(" in ast.unparse(main), path


def test_check_is_an_option_of_a_benchmark() -> None:
    out = subprocess.run([sys.executable, str(BENCH / "tool_retrieval.py"), "--help"], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0 and "--check" in out.stdout
