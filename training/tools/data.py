"""Training and evaluation samples: requests with their gold calls, from the built-in tools'
templates (agent.sft.templates) and from every installed plugin's manifest (its `example_calls`,
with their values swapped and their wording varied), plus the negatives: small talk, questions
that need a search, requests no tool fits, and several calls in one request.

Every gold call is validated against its tool's schema here, so a template that drifts from its
tool fails loudly. Splits: "train" uses the templates' training wordings, "hidden" and "dev" only
their hidden and dev wordings (never trained on). Training never sees a request of the project's
eval sets.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import jsonschema

from tansuo.llm.output import schema_validator
from tansuo.plugins.tool import ToolSpec
from tansuo.training.tools.templates import ALL, Template

KINDS = ("call", "multi", "answer", "search", "decline")


@dataclass(frozen=True)
class Sample:
    request: str
    kind: str  # call | multi | answer | search | decline
    tool: str | None
    calls: tuple[tuple[str, dict[str, Any]], ...]
    template: str
    split: str  # train | hidden | dev

    def to_dict(self) -> dict[str, Any]:
        return {"request": self.request, "kind": self.kind, "tool": self.tool,
                "calls": [{"name": n, "arguments": a} for n, a in self.calls], "template": self.template,
                "split": self.split}

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> Sample:
        return cls(row["request"], row["kind"], row["tool"], tuple((c["name"], c["arguments"]) for c in row["calls"]),
                   row["template"], row["split"])


class TemplateError(ValueError):
    pass


def generate(specs: Sequence[ToolSpec], *, per_template: int, seed: int, split: str = "train",
             exclude: Iterable[str] = ()) -> list[Sample]:
    """`per_template` samples of every template whose tool is installed (built-in ones and one per
    plugin example call), in `split`'s wordings; requests in `exclude` are never produced."""
    by_name = {s.name: s for s in specs}
    rng = random.Random(seed)
    banned = {normalise(t) for t in exclude}
    templates = [t for t in ALL if t.tool is None or t.tool in by_name]
    templates += [t for spec in specs if spec.name not in _BUILTIN_TOOLS for t in plugin_templates(spec)]
    out: list[Sample] = []
    for template in templates:
        wordings = getattr(template, split)  # train | hidden | dev
        if not wordings:
            continue
        seen: set[str] = set()
        wanted = per_template * template.weight
        for _ in range(wanted * 4):  # draws repeat for templates with few values
            if len(seen) >= wanted:
                break
            slots, calls = template.make(rng)
            request = rng.choice(wordings).format(**slots)
            if normalise(request) in banned or request in seen:
                continue
            for name, arguments in calls:
                _check(by_name[name], arguments, template.id)
            seen.add(request)
            out.append(Sample(request, template.kind, template.tool, tuple(calls), template.id, split))
    return out


_BUILTIN_TOOLS = {t.tool for t in ALL if t.tool}


def _check(spec: ToolSpec, arguments: dict[str, Any], template: str) -> None:
    # one cached validator per schema: `jsonschema.validate` checked the schema on every call, 99% of
    # generating the training data (22 s for one generation)
    error = jsonschema.exceptions.best_match(schema_validator(spec.input_schema).iter_errors(arguments))
    if error is not None:
        raise TemplateError(f"template {template}: arguments do not fit {spec.name}: {error.message}")


def normalise(text: str) -> str:
    return " ".join(text.lower().split())


# --- plugins: templates from a manifest's example calls -------------------------------------------

_WRAPS = ("{r}", "Please {l}", "Can you {l}?", "{r} Thanks.", "I need this: {l}")
_HIDDEN_WRAPS = ("Could you help me with this: {l}",)
_DEV_WRAPS = ("Quick question: {r}",)


def plugin_templates(spec: ToolSpec) -> list[Template]:
    """One template per example call: the values of the arguments that the request states verbatim
    become slots, refilled from the other examples' values of the same argument (numbers vary
    around theirs). With three or more example calls the last one's wording is hidden; every
    wording is also said a few other ways ("Please ...", "Can you ...?"), and the trained ones once
    more for the dev split ("Quick question: ...")."""
    calls = spec.example_calls
    pools: dict[str, list[Any]] = {}
    for call in calls:
        for key, value in call.arguments.items():
            if isinstance(value, (str, int, float)) and not isinstance(value, bool):
                pools.setdefault(key, []).append(value)
    out = []
    for i, call in enumerate(calls):
        hidden = len(calls) >= 3 and i == len(calls) - 1
        wording, slots = _slotted(call.request, call.arguments)
        wraps = _HIDDEN_WRAPS + ("{r}",) if hidden else _WRAPS
        variants = tuple(w.replace("{r}", wording).replace("{l}", _lower_first(wording).rstrip("?.!")) for w in wraps)
        dev = () if hidden else tuple(w.replace("{r}", wording) for w in _DEV_WRAPS)
        out.append(Template(f"plugin.{spec.name}.{i}", "call", spec.name, () if hidden else variants,
                            variants if hidden else (), _refill(spec.name, call.arguments, slots, pools), dev=dev))
    return out


def _slotted(request: str, arguments: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """The request with each argument value it states replaced by {slot}; slot -> argument key."""
    wording = request.replace("{", "{{").replace("}", "}}")
    slots = {}
    for key, value in arguments.items():
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            continue
        text = str(value)
        if text and text in wording:
            slot = f"s{len(slots)}"
            wording = wording.replace(text, "{" + slot + "}", 1)
            slots[slot] = key
    return wording, slots


def _refill(tool: str, arguments: dict[str, Any], slots: dict[str, str], pools: dict[str, list[Any]]):
    def make(rng: random.Random):
        new = dict(arguments)
        filled = {}
        for slot, key in slots.items():
            value = _vary(arguments[key], pools.get(key, [arguments[key]]), rng)
            new[key] = value
            filled[slot] = value
        return filled, [(tool, new)]

    return make


def _vary(value: Any, pool: list[Any], rng: random.Random) -> Any:
    if isinstance(value, int):
        return rng.randint(max(0, value // 2), value * 2 + 1)
    if isinstance(value, float):
        return round(value * rng.uniform(0.5, 2.0), 2)
    return rng.choice(pool)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def coverage(samples: Sequence[Sample]) -> dict[str, int]:
    """Samples per tool and per negative kind, for the training log and the tests."""
    out: dict[str, int] = {}
    for s in samples:
        key = s.tool if s.kind in ("call", "multi") else s.kind
        out[key] = out.get(key, 0) + 1
    return out

