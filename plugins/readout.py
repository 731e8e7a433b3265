"""How a tool's result reads to a person: one sentence, numbers formatted for people.

Each tool declares its reading next to it: a built-in tool a small function `(arguments, result) ->
sentence`, a plugin manifest a template (`reads: "It is {temperature} °C in {city}."`, fields of the
result first, then of the arguments). A tool without one, or whose reading does not apply to this
result, reads through `generic`. Readings never raise: a result they cannot read falls back.
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Callable, Mapping
from typing import Any

Reads = Callable[[Mapping[str, Any], Any], "str | None"]

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][\w.]*)\}")
_FLOAT_TEXT = re.compile(r"^-?\d+\.\d+(?:[eE][-+]?\d+)?$")


def number(value: float, places: int = 2) -> str:
    """3367 -> "3,367"; 42.16481 -> "42.16"; 0.000123456 -> "0.0001235"; 2.0 -> "2"."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) < 1e15):
        return f"{int(value):,}"
    if not math.isfinite(value):
        return "infinity" if value > 0 else "minus infinity" if value < 0 else "undefined"
    if abs(value) >= 1e15 or abs(value) < 1:
        return f"{value:.4g}"
    return f"{value:,.{places}f}".rstrip("0").rstrip(".")


def value_text(value: Any) -> str:
    """A result value as a person reads it: numbers (also numbers written as text, like sympy's
    "3367.00000000000") formatted, lists joined, everything else as text."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return number(value)
    if isinstance(value, str):
        text = value.strip()
        if _FLOAT_TEXT.match(text):
            return number(float(text))
        return text  # digits as text ("02134", an id) stay as written
    if isinstance(value, list):
        return ", ".join(value_text(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k} {value_text(v)}" for k, v in value.items())
    return str(value)


def template(text: str) -> Reads:
    """A manifest's reading: placeholders name result fields (then argument fields; dots reach into
    nested objects); a placeholder with no value makes the template not apply (None)."""
    names = _PLACEHOLDER.findall(text)

    def read(arguments: Mapping[str, Any], result: Any) -> str | None:
        values = {}
        for name in names:
            found = _lookup(result, name)
            if found is _MISSING:
                found = _lookup(arguments, name)
            if found is _MISSING or found is None:
                return None
            values[name] = value_text(found)
        return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)

    return read


def check_template(text: str) -> None:
    """Raises ValueError for a template that cannot be filled: doubled or unbalanced braces, a format
    spec or conversion, a placeholder that is not a field name."""
    if "{{" in text or "}}" in text:
        raise ValueError("doubled braces are not supported; write {field} placeholders only")
    try:
        fields = list(string.Formatter().parse(text))
    except ValueError:
        raise ValueError("unbalanced brace; write {field} placeholders, e.g. {city}") from None
    for _, field, spec, conversion in fields:
        if field is None:
            continue
        if spec or conversion:
            raise ValueError(f"placeholder {{{field}}} has a format spec or conversion; numbers are formatted "
                             f"for people already: write {{{field.split(':')[0].split('!')[0]}}}")
        if not _PLACEHOLDER.fullmatch("{" + field + "}"):
            raise ValueError(f"placeholder {{{field}}} must be a field name like {{city}} or {{result.value}}")


def generic(name: str, result: Any) -> str:
    """A result read without the tool's help: its one value, or its fields named."""
    if isinstance(result, dict):
        scalars = {k: v for k, v in result.items() if not isinstance(v, (dict, list))}
        if isinstance(result.get("text"), str):
            return _sentence(_short(result["text"], 400))
        if len(scalars) == 1 and len(result) == 1:
            return f"The {name} tool gives {value_text(next(iter(scalars.values())))}."
        return _sentence(f"The {name} tool gives " + "; ".join(f"{_words(k)} {_short(v)}" for k, v in result.items()))
    return _sentence(f"The {name} tool gives {_short(result)}")


def read(reads: Reads | None, name: str, arguments: Mapping[str, Any], result: Any) -> str:
    """The sentence a person sees for this result."""
    if reads is not None:
        try:
            text = reads(arguments, result)
        except Exception:  # noqa: BLE001 -- a reading that fails falls back; the result itself is fine
            text = None
        if text:
            return _sentence(text)
    return generic(name, result)


_MISSING = object()


def _lookup(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if isinstance(data, Mapping) and part in data:
            data = data[part]
        else:
            return _MISSING
    return data


def _words(key: str) -> str:
    return key.replace("_", " ")


def _short(value: Any, limit: int = 200) -> str:
    text = value_text(value)
    return text if len(text) <= limit else text[:limit - 1].rsplit(" ", 1)[0] + "…"


def _sentence(text: str) -> str:
    text = " ".join(text.split()) if "\n" not in text.strip() else text.strip()
    return text if text.endswith((".", "!", "?", "…")) or "\n" in text else f"{text}."
