"""What a built-in tool's result says, for scoring: its `essence` (what two calls must share to be
the same call: "lb" and "pound" convert to the same kilograms, a plot's file name and a result's
echo of the request's wording do not count) and the `answers` it computes (the values a question
can be asked for: a product, a converted value, a weekday, a table's aggregate)."""

from __future__ import annotations

from datetime import date
from typing import Any

_ECHOES = ("file", "text")  # a plot's file name; units' text repeats the request's unit words


def essence(name: str, content: Any) -> Any:
    if name == "units" and isinstance(content, dict):
        return {"value": _round(content.get("value")), "unit": content.get("unit")}
    if name == "plot" and isinstance(content, dict):
        return {"y_min": _round(content.get("y_min"), 4), "y_max": _round(content.get("y_max"), 4)}
    return _without_echoes(content)


def answers(name: str, arguments: dict[str, Any], content: Any) -> list[Any]:
    """The values a result computes: numbers as floats, dates as dates, words lower-cased. A table
    result answers only when a step computed it: one row left, or a sorted table's first row (the
    table itself, echoed, answers nothing)."""
    if not isinstance(content, dict):
        return []
    if name == "table":
        rows = content.get("rows") or []
        steps = arguments.get("steps") or []
        if not rows or not steps:
            return []
        sorted_first = any(isinstance(s, dict) and s.get("op") == "sort" for s in steps)
        if content.get("row_count") == 1 or sorted_first:
            return [_value(v) for v in rows[0].values()]
        return []
    if name == "math":
        found = [_value(content.get("numeric")), _value(content.get("result"))]
        for solution in content.get("solutions") or []:
            for part in solution.values():
                found += [_value(part.get("numeric")), _value(part.get("result"))]
        return [v for v in found if v is not None]
    return [v for k, v in ((k, _value(v)) for k, v in content.items() if k not in _ECHOES) if v is not None]


def _value(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return float(text)
        except ValueError:
            pass
        try:
            return date.fromisoformat(text)
        except ValueError:
            return text.lower()
    return None


def _round(value: Any, places: int = 6) -> Any:
    return round(value, places) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def _without_echoes(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_echoes(v) for k, v in value.items() if k not in _ECHOES}
    if isinstance(value, list):
        return [_without_echoes(v) for v in value]
    return value
