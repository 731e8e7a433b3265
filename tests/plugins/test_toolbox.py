"""The toolbox: decorator registration, schemas from signatures, isolated time-limited calls."""

from __future__ import annotations

import time
from typing import Literal

import pytest

from tansuo.plugins.toolbox import Toolbox


def make_box() -> Toolbox:
    box = Toolbox()

    @box.tool(timeout_s=0.5)
    def spin(seconds: float) -> dict:
        """Busy for a while."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            pass
        return {"done": True}

    @box.tool(timeout_s=5)
    def hog(gigabytes: int) -> dict:
        """Allocate memory."""
        block = bytearray(gigabytes * 2**30)
        return {"size": len(block)}

    @box.tool()
    def greet(name: str, style: Literal["plain", "loud"] = "plain") -> dict:
        """Greet someone.

        Longer text the model also sees.
        """
        return {"text": f"hello {name}".upper() if style == "loud" else f"hello {name}"}

    return box


def test_decorator_returns_the_function_unchanged_and_needs_parentheses():
    box = Toolbox()

    def f(x: int) -> dict:
        """Doc."""
        return {"x": x}

    assert box.tool()(f) is f and f(2) == {"x": 2}
    with pytest.raises(TypeError, match="parentheses"):
        box.tool(f)
    with pytest.raises(ValueError, match="already registered"):
        box.tool()(f)


def test_schema_and_descriptions_come_from_the_signature_and_docstring():
    spec = {s.name: s for s in make_box().specs}["greet"]
    assert spec.description == "Greet someone."
    assert spec.model_description == "Greet someone. Longer text the model also sees."
    assert spec.input_schema["required"] == ["name"]
    assert spec.input_schema["properties"]["style"]["enum"] == ["plain", "loud"]
    assert spec.input_schema["additionalProperties"] is False


def test_functions_without_docstring_or_annotations_are_refused():
    box = Toolbox()
    with pytest.raises(TypeError, match="docstring"):
        box.tool()(lambda x: x)

    def untyped(x):
        """Doc."""

    with pytest.raises(TypeError, match="annotation"):
        box.tool()(untyped)


async def test_a_call_past_its_time_limit_is_stopped_with_a_clear_error():
    started = time.monotonic()
    result = await make_box().call("spin", {"seconds": 30})
    assert not result.ok and "took longer than 0.5s" in result.error
    assert time.monotonic() - started < 3


async def test_a_call_past_its_memory_limit_fails_cleanly():
    result = await make_box().call("hog", {"gigabytes": 8})
    assert not result.ok and "memory" in result.error


async def test_arguments_are_validated_before_the_call():
    box = make_box()
    assert (await box.call("greet", {"name": "Ada", "style": "loud"})).content == {"text": "HELLO ADA"}
    bad = await box.call("greet", {"name": "Ada", "style": "whisper", "extra": 1})
    assert not bad.ok and "style" in bad.error and "extra" in bad.error
