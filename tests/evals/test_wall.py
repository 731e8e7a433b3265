"""The wall between what the project learns from and what it is measured on: no test wording is a
training request, demonstration, exemplar or example call with other values (masked equality or
cosine >= 0.95); a leak planted in a training template is caught; the harm sets' test split leaves
out near-twins of their dev prompts; the cache pairs' test split repeats no dev pair; training never
draws an eval request; and the scorers and the factuality set are built without `verifiers/` code."""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
import json
from pathlib import Path

import pytest

from tansuo.evals import learned
from tansuo.evals.context import EVAL_SETS, ROOT
from tansuo.evals.sets import read_jsonl
from tansuo.evals.wall import NEAR_TWIN, mask, near_twins, pair_twins


def written_tests() -> list[str]:
    """The test splits' wordings written apart from training."""
    return ([r["question"] for r in read_jsonl(EVAL_SETS / "tools" / "test.jsonl")]
            + [r["request"] for r in read_jsonl(EVAL_SETS / "toolcalls" / "test.jsonl")])


def test_no_injection_attack_nearly_repeats_a_detector_exemplar(embedder) -> None:
    attacks = [r["attack"] for r in read_jsonl(EVAL_SETS / "injection" / "documents.jsonl")]
    assert len(attacks) >= 100
    twins = near_twins(embedder, attacks, learned.learned_texts(generated=False))
    assert not twins, "\n".join(f"{t.cosine} {t.text!r} ~ {t.other!r} ({t.source})" for t in twins[:20])


def test_masking_keeps_the_wording_and_drops_the_values() -> None:
    assert mask("What is 12 times 7?") == mask("What is {a} times {b}?") == "what is 0 times 0?"
    assert mask("Which weekday was 3 March 2025?") == mask("Which weekday was 2031-10-09?") == "which weekday was 0?"
    assert mask("Look up Marie Curie on Wikipedia.") == mask("Look up Ada Lovelace on Wikipedia.")
    assert mask("Total?\nteam,goals\nRovers,12\nAlbion,4") == mask("Total?\ncity,sales\nOslo,1")
    assert mask("Identify this symbol: Ω") == mask("Identify this symbol: ñ")
    assert mask("What is 12 times 7?") != mask("What is 12 plus 7?")


def test_no_test_wording_nearly_repeats_anything_learned(embedder) -> None:
    twins = near_twins(embedder, written_tests(), learned.learned_texts())
    assert not twins, "\n".join(f"{t.cosine} {t.text!r} ~ {t.other!r} ({t.source})" for t in twins[:20])


def test_a_test_wording_planted_in_a_template_is_caught(embedder, monkeypatch) -> None:
    from tansuo.training.tools import templates

    leak = "Base 14, exponent 3: evaluate it."  # a test wording (math.power), with other values
    assert mask(leak) in {mask(t) for t in written_tests()}
    assert not near_twins(embedder, [leak], learned.learned_texts(generated=False))
    first = templates.ALL[0]
    planted = dataclasses.replace(first, train=first.train + ("Base {a}, exponent {k}: evaluate it.",))
    monkeypatch.setattr(templates, "ALL", (planted, *templates.ALL[1:]))
    found = near_twins(embedder, written_tests(), learned.learned_texts(generated=False))
    assert found and all(t.source == f"training template {first.id}" for t in found)
    assert {t.cosine for t in found} == {1.0}
    reworded = "Base {a}, exponent {k}: please evaluate it."  # a near-twin, not an exact one
    monkeypatch.setattr(templates, "ALL", (dataclasses.replace(first, train=first.train + (reworded,)),
                                           *templates.ALL[1:]))
    near = near_twins(embedder, written_tests(), learned.learned_texts(generated=False))
    assert near and all(NEAR_TWIN <= t.cosine < 1.0 for t in near)


def test_training_never_draws_an_eval_request() -> None:
    from tansuo.training.tools.pipeline import eval_requests

    excluded = set(eval_requests())
    assert set(written_tests()) <= excluded
    shipped = {json.loads(line)["request"] for path in learned.ADAPTERS.glob("*.demos.jsonl")
               for line in path.read_text().splitlines() if line.strip()}
    assert not shipped & excluded


def test_the_harm_test_split_leaves_out_near_twins_of_dev_prompts(embedder) -> None:
    fresh = load_script(EVAL_SETS / "harm" / "build.py").find(embedder)
    shipped = json.loads((EVAL_SETS / "harm" / "near_twins.json").read_text())
    assert fresh["removed"] == shipped["removed"], "eval_sets/harm/near_twins.json is stale: run its build.py"
    assert len(shipped["removed"]) >= 50  # Do-Not-Answer's templated prompts ("Why are people from X ...")
    from tansuo.evals.builtin_sets import harm_prompts

    test = [p.text for p, split in harm_prompts() if split == "test"]
    dev = [p.text for p, split in harm_prompts() if split == "dev"]
    assert not near_twins(embedder, test, [(t, "dev") for t in dev])


def test_the_cache_pairs_test_split_repeats_no_dev_pair(embedder) -> None:
    rows = read_jsonl(EVAL_SETS / "cache" / "pairs.jsonl")
    dev = [(r["a"], r["b"]) for r in rows if r["split"] == "dev"]
    test = [(r["a"], r["b"]) for r in rows if r["split"] != "dev"]
    assert len(test) >= 45 and not pair_twins(embedder, test, dev), pair_twins(embedder, test, dev)
    planted = ("What is the capital of Kenya?", "What is the capital of Ghana?")  # a dev pair, other names
    assert pair_twins(embedder, [planted], dev)


@pytest.mark.parametrize("path", ["evals/reading.py", "evals/claims.py", "evals/tool_sets.py", "evals/qa_sets.py",
                                  "evals/tool_values.py", "evals/wall.py", "eval_sets/factuality/build.py"])
def test_yardsticks_do_not_import_the_code_they_judge(path: str) -> None:
    tree = ast.parse((ROOT / path).read_text())
    imported = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not [m for m in imported if m.split(".")[0] == "verifiers"], imported


def test_the_test_files_are_what_their_build_scripts_write() -> None:
    for folder in ("tools", "toolcalls"):
        build = load_script(EVAL_SETS / folder / "build_test.py")
        assert build.build() == read_jsonl(EVAL_SETS / folder / "test.jsonl")


def load_script(path: Path):
    spec = importlib.util.spec_from_file_location(f"{path.parent.name}_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
