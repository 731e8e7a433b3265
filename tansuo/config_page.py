"""docs/configuration.md, generated from `Settings`: each field's variable, type, default and its
description (which lives on the field). `python -m tansuo.config_page` writes the page;
tests/tansuo/test_config_page.py fails when the committed page is stale."""

from __future__ import annotations

import sys
import types
import typing
from enum import Enum
from pathlib import Path
from typing import Any, Literal

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from tansuo.settings import ENV_PREFIX, Settings

PAGE = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"
HEADER = f"""# Configuration

One validated settings object (`tansuo.settings.Settings`, pydantic-settings), read from the
environment (prefix `{ENV_PREFIX}`) and an optional `.env` file, built once at start and passed down;
nothing reads the environment at import time. An invalid value stops the start with a message
that names the variable to set. `tansuo doctor` prints the effective configuration.

This page is generated from the fields (`python -m tansuo.config_page`); a test fails when it is stale.

| variable | type | default | meaning |
|---|---|---|---|
"""


def configuration_page() -> str:
    rows = [_row(name, field) for name, field in Settings.model_fields.items()]
    return HEADER + "\n".join(rows) + "\n"


def _row(name: str, field: FieldInfo) -> str:
    meaning = " ".join((field.description or "").split()).replace("|", "\\|")
    return f"| `{ENV_PREFIX}{name.upper()}` | {_type(field.annotation)} | {_default(field)} | {meaning} |"


def _type(annotation: Any) -> str:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type(args[0])
    if origin is Literal:
        return " or ".join(f"`{a}`" for a in args)
    if origin in (typing.Union, types.UnionType):
        shown = [_type(a) for a in args if a is not type(None)]
        return " or ".join(shown) + (" (optional)" if type(None) in args else "")
    if origin is list:
        return f"list of {_type(args[0])}, comma-separated" if args else "list, comma-separated"
    if origin is dict:
        return "JSON object"
    names = {bool: "true/false", int: "integer", float: "number", str: "text", Path: "path"}
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
        if isinstance(value, Path):  # depends on the machine: the description says what it is
            return "—"
    else:
        value = field.default
    if value is None or value is PydanticUndefined or value == [] or value == {}:
        return "—"
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, (list, tuple, frozenset, set)):
        return f"`{','.join(str(v) for v in value)}`"
    return f"`{value}`"


if __name__ == "__main__":
    PAGE.write_text(configuration_page())
    sys.stdout.write(f"wrote {PAGE}\n")
