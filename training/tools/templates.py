"""Request templates for the built-in tools and the negatives, each with the gold call its values
make. The wordings and value pools are data (templates.yaml); how each template draws its values
is code (values.py). A template has training wordings, *hidden* wordings and *dev* wordings; the
latter two are never trained on. Requests drawn from all three (with seeds training never uses) make
up the dev split of the `tool-calls` eval set, where settings are chosen; its test split is written
apart from these templates (eval_sets/toolcalls/test_wordings.yaml) and kept clear of them by a test.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tansuo.training.tools.values import MAKERS, Calls, Slots

TEMPLATES = Path(__file__).with_name("templates.yaml")


@dataclass(frozen=True)
class Template:
    id: str
    kind: str  # call | multi | answer | search | decline
    tool: str | None  # the tool called (call, multi); None for the others
    train: tuple[str, ...]
    hidden: tuple[str, ...]
    make: Callable[[random.Random], tuple[Slots, Calls]]
    weight: int = 1  # samples per draw relative to the others (one template covering many unit pairs)
    dev: tuple[str, ...] = ()  # wordings of the dev split (settings are chosen on it; never trained on)
    group: str = ""  # math, units, calendar, table, plot, multi, negatives


def load(path: Path = TEMPLATES) -> tuple[tuple[Template, ...], dict[str, Any]]:
    """The templates of a templates file, each bound to its value maker, and the value pools."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    pools = {name: _frozen(values) for name, values in data["pools"].items()}
    return tuple(_template(entry, pools) for entry in data["templates"]), pools


def _template(entry: dict[str, Any], pools: dict[str, Any]) -> Template:
    extra = dict(entry.get("with", {}))
    if "pool" in entry:
        extra["options"] = pools[entry["pool"]]
    make = functools.partial(MAKERS[entry["values"]], pools=pools, **extra)
    return Template(entry["id"], entry["kind"], entry.get("tool"), tuple(entry["train"]), tuple(entry["hidden"]),
                    make, weight=entry.get("weight", 1), dev=tuple(entry.get("dev", ())), group=entry["group"])


def _frozen(value: Any) -> Any:
    """Pools as tuples, as the makers were written for (and nothing can change them)."""
    return tuple(_frozen(v) for v in value) if isinstance(value, list) else value


ALL, POOLS = load()
BUILTIN = tuple(t for t in ALL if t.group != "negatives")
NEGATIVES = tuple(t for t in ALL if t.group == "negatives")
