"""Data shipped inside a package (exemplars, demonstrations, thresholds): YAML files under a
package's `data/` folder, read through the package (so an installed wheel reads its own copy) and
parsed once."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml


@cache
def shipped(package: str, name: str) -> Any:
    """`<package>/data/<name>.yaml`, parsed: `shipped("tansuo.verifiers", "harm")`."""
    text = resources.files(package).joinpath("data", f"{name}.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)
