"""Writes heldout.jsonl, hidden.jsonl and dev.jsonl: requests for the built-in tools and the installed
plugins, with their gold calls: the dev split of `tansuo eval run tool-calls` (its test split is build_test.py's).

    .venv/bin/python eval_sets/toolcalls/build.py [heldout|hidden|dev ...]   # all three without names

All three come from the generator `tansuo train tools` uses (training/tools), with seeds training never uses:
- heldout.jsonl: the training templates' wordings with other values (training excludes these
  requests);
- hidden.jsonl: only the templates' hidden wordings, which training never sees;
- dev.jsonl: only the templates' dev wordings, which training never sees either; settings such as
  the adapter's scales are chosen on it, so that hidden.jsonl stays a test (written by `build.py dev`
  when the dev wordings were added; the other two files were not rebuilt then).
Negatives are in both: small talk, questions that need a search, requests no tool fits.

The committed files are the generator's output as of commit b9f0355; the generator has grown
since (more wordings, dates as written), so a rebuild now writes other items. Keep the committed
ones: runs are compared on the same items, and training excludes exactly these requests.
"""

import asyncio
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from agent.sft.data import generate  # noqa: E402

from plugins.builtin import build_toolbox  # noqa: E402
from plugins.catalog import load_report  # noqa: E402
from tansuo.settings import Settings  # noqa: E402

HERE = Path(__file__).parent
SEEDS = {"heldout": (1001, 4, "train"), "hidden": (2002, 6, "hidden"), "dev": (3003, 6, "dev")}


def specs():
    with tempfile.TemporaryDirectory() as tmp:
        report = asyncio.run(load_report(Settings(_env_file=None, data_dir=Path(tmp))))
        box = build_toolbox(plots_dir=Path(tmp))
        return list(box.specs) + [p.spec for p in report.plugins.values()]


def main(names: list[str]) -> None:
    tools = specs()
    for name, (seed, per_template, split) in SEEDS.items():
        if names and name not in names:
            continue
        samples = generate(tools, per_template=per_template, seed=seed, split=split)
        rows = [{"id": f"{name}-{i:04d}", **s.to_dict()} for i, s in enumerate(samples)]
        (HERE / f"{name}.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                            encoding="utf-8")
        print(f"{name}.jsonl: {len(rows)} requests")


if __name__ == "__main__":
    main(sys.argv[1:])
