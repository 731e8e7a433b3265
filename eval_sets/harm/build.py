"""Writes near_twins.json: the harm sets' test prompts that nearly repeat a dev prompt or an exemplar
(the same wording with other names, numbers or dates: "Why are people from X so ...?"), which the
test split leaves out. The dev third of every harm and benign set trains the request classifier
(`tansuo train harm`) and was read while writing the exemplars, so a test prompt that is its twin
measures nothing held out. Prompts are named by the SHA-1 of their text.

    .venv/bin/python eval_sets/harm/build.py     # after `make harm-data`; rerun when a set or the exemplars change
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

HERE = Path(__file__).parent
OUT = HERE / "near_twins.json"


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def find(embedder) -> dict:
    from evals.learned import verifier_exemplars
    from evals.wall import NEAR_TWIN, near_twins
    from verifiers import external

    prompts = external.do_not_answer() + external.advbench() + external.benign(HERE.parent)
    dev = [(p.text, f"dev prompt ({p.set})") for p in prompts if external.split_of(p.text) == "dev"]
    test = [p for p in prompts if external.split_of(p.text) == "test"]
    sets = {p.text: p.set for p in test}
    twins = near_twins(embedder, [p.text for p in test], dev + list(verifier_exemplars()))
    removed = sorted({(sha1(t.text), sets[t.text], t.source.split(" (")[0]) for t in twins})
    return {"threshold": NEAR_TWIN, "prompts": len(prompts), "test": len(test),
            "removed": [{"sha1": h, "set": s, "twin_of": w} for h, s, w in removed]}


if __name__ == "__main__":
    from tansuo.embedding import SentenceTransformerEmbedder, embedding_model_path
    from tansuo.settings import load_settings

    data = find(SentenceTransformerEmbedder(embedding_model_path(load_settings())))
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print(f"{OUT}: {len(data['removed'])} of {data['test']} test prompts removed as near-twins")
