"""units: unit conversion through pint."""

from __future__ import annotations

import functools

import pint

from tansuo.plugins.readout import value_text
from tansuo.plugins.tool import ToolError


@functools.cache
def registry() -> pint.UnitRegistry:
    return pint.UnitRegistry(autoconvert_offset_to_baseunit=True)


def units(value: float, from_unit: str, to_unit: str) -> dict:
    """Convert a quantity between units, e.g. 26.2 miles to km, 100 degF to degC, 3 cups to ml.

    Units use pint's names and abbreviations: km, mile, lb, kg, degC, degF, kWh, mph, m/s, liter, gallon.
    """
    ureg = registry()
    try:
        quantity = ureg.Quantity(value, _unit(ureg, from_unit))
        converted = quantity.to(_unit(ureg, to_unit))
    except pint.DimensionalityError as exc:
        raise ToolError(f"cannot convert {from_unit} ({exc.dim1}) to {to_unit} ({exc.dim2})") from None
    magnitude = float(converted.magnitude)
    return {"value": magnitude, "unit": str(converted.units),
            "text": f"{value:g} {from_unit} = {magnitude:.6g} {to_unit}"}


def _unit(ureg: pint.UnitRegistry, text: str) -> pint.Unit:
    if len(text) > 100:
        raise ToolError("unit name too long")
    try:
        return ureg.Unit(text.strip())
    except (pint.UndefinedUnitError, pint.errors.DefinitionSyntaxError, AttributeError, ValueError, TypeError):
        raise ToolError(f"unknown unit {text!r}") from None


def reads(arguments: dict, result: dict) -> str | None:
    """"26.2 miles = 42.16 km.": the units as the request wrote them, the value for people."""
    value = arguments["value"]
    return (f"{value_text(value)} {_plural(arguments['from_unit'], value)} = "
            f"{value_text(result['value'])} {_plural(arguments['to_unit'], result['value'])}.")


_IRREGULAR = {"foot": "feet", "inch": "inches", "century": "centuries"}


def _plural(unit: str, value: float) -> str:
    """"mile" -> "miles" for values other than 1; abbreviations and symbols stay as written."""
    word = unit.strip()
    if value == 1 or not (word.isalpha() and word.islower() and len(word) > 3) or word.endswith("s"):
        return word
    return _IRREGULAR.get(word, word + "s")
