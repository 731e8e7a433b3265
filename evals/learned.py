"""Everything the project learns from or shows the model as an example, as (text, source) pairs:
the fine-tune's training requests (the shipped demonstrations, a fresh draw of the generator, the
templates' training wordings and word pools), the tools' and plugin manifests' examples and example
calls, and the verifiers' exemplars. A test split's wordings must stay clear of all of it
(evals.wall)."""

from __future__ import annotations

import asyncio
import functools
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import yaml

from tansuo.evals.context import ROOT

ADAPTERS = ROOT / "tansuo" / "llm" / "adapters"
VERIFIER_DATA = ROOT / "verifiers" / "data"
GENERATED_PER_TEMPLATE = 40  # as `tansuo train tools` draws by default


def learned_texts(*, generated: bool = True) -> list[tuple[str, str]]:
    from tansuo.evals.wall import unique

    specs = installed_specs()
    pairs = [*demonstrations(), *template_texts(specs), *tool_examples(specs), *verifier_exemplars()]
    if generated:
        pairs += generated_requests(specs)
    return unique(pairs)


@functools.cache
def installed_specs() -> tuple:
    """The built-in tools' and the bundled plugins' specs, as training sees them."""
    from tansuo.plugins.builtin import build_toolbox
    from tansuo.plugins.catalog import load_report
    from tansuo.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        report = asyncio.run(load_report(Settings(_env_file=None, data_dir=Path(tmp))))
        box = build_toolbox(plots_dir=Path(tmp))
        return (*box.specs, *(p.spec for p in report.plugins.values()))


def demonstrations() -> Iterator[tuple[str, str]]:
    for path in sorted(ADAPTERS.glob("*.demos.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                yield json.loads(line)["request"], f"demonstration ({path.name})"


def template_texts(specs) -> Iterator[tuple[str, str]]:
    """Training wordings of every template (slots masked alike), and every word pool of the
    templates file that training draws from (its hidden and dev pools are not training)."""
    from tansuo.training.tools import templates
    from tansuo.training.tools.data import plugin_templates

    plugin = [t for s in specs if s.name not in {t.tool for t in templates.ALL} for t in plugin_templates(s)]
    for template in (*templates.ALL, *plugin):
        for wording in template.train:
            yield wording, f"training template {template.id}"
    for name, value in templates.POOLS.items():
        if value and all(isinstance(v, str) for v in value) and not any(tag in name for tag in ("hidden", "dev")):
            for text in value:
                yield text, f"training pool {name} (training/tools/templates.yaml)"


def generated_requests(specs) -> Iterator[tuple[str, str]]:
    """What `tansuo train tools` would train on now (its default seed and size)."""
    from tansuo.training.tools.data import generate

    for sample in generate(specs, per_template=GENERATED_PER_TEMPLATE, seed=0):
        yield sample.request, f"training request ({sample.template})"


def tool_examples(specs) -> Iterator[tuple[str, str]]:
    for spec in specs:
        for text in spec.examples:
            yield text, f"example of {spec.name}"
        for call in spec.example_calls:
            yield call.request, f"example call of {spec.name}"


def verifier_exemplars() -> Iterator[tuple[str, str]]:
    for path in sorted(VERIFIER_DATA.glob("*.yaml")):
        for text in _strings(yaml.safe_load(path.read_text(encoding="utf-8"))):
            yield text, f"exemplar ({path.name})"


def _strings(node) -> Iterator[str]:
    """Every list item that is a string (exemplars), at any depth; scalars of keys are settings."""
    if isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            if isinstance(value, str):
                yield value
            else:
                yield from _strings(value)
