"""One tool model for built-in tools and plugins, and the one place a schema is built.

A built-in tool is a plain function registered with `Toolbox.tool(...)`, which
returns it unchanged. Its argument schema comes from its signature (pydantic), its
descriptions from its docstring.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from tansuo.llm.types import Tool

NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"


class ToolError(Exception):
    """A call the tool refuses, with a message meant for the model (and the user)."""


class ToolAnnotations(BaseModel):
    """What a tool may do, for the operator and the policy that runs it."""

    model_config = ConfigDict(extra="forbid")
    read_only: bool = Field(True, description="the tool changes nothing outside itself")
    hosts: list[str] = Field(default_factory=list, description="hosts it may reach; empty: no network")


class ExampleCall(BaseModel):
    """A request and the arguments it calls the tool with: shown to the model as a demonstration."""

    model_config = ConfigDict(extra="forbid")
    request: str = Field(min_length=1)
    arguments: dict[str, Any]


class ToolSpec(BaseModel):
    """How any tool is described, built-in or plugin (input_schema is MCP's inputSchema)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=NAME_PATTERN)
    description: str = Field(min_length=1, description="for people")
    model_description: str = Field(min_length=1, description="for the model: when and how to call it")
    examples: list[str] = Field(default_factory=list, description="requests this tool answers")
    input_schema: dict[str, Any] = Field(description="JSON Schema of the arguments object")
    example_calls: list[ExampleCall] = Field(default_factory=list, description="requests with their arguments")
    returns: str = Field("a JSON object", description="what a call returns")
    reads: str | None = Field(None, description=(
        'how a result reads to a person: a sentence with {field} placeholders, result fields first, then '
        'arguments (e.g. "It is {temperature} °C in {city}.")'))
    timeout_s: float = Field(10.0, gt=0, le=600)
    annotations: ToolAnnotations = Field(default_factory=ToolAnnotations)

    def to_llm_tool(self) -> Tool:
        return Tool(name=self.name, description=self.model_description, parameters=self.input_schema)


def arguments_model(fn: Callable[..., Any]) -> type[BaseModel]:
    """A pydantic model of the function's parameters: validation and schema in one."""
    fields: dict[str, Any] = {}
    for param in inspect.signature(fn, eval_str=True).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise TypeError(f"{fn.__name__}: *args/**kwargs cannot be described to a model")
        if param.annotation is inspect.Parameter.empty:
            raise TypeError(f"{fn.__name__}: parameter {param.name!r} needs a type annotation")
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[param.name] = (param.annotation, default)
    return create_model(f"{fn.__name__}_arguments", __config__=ConfigDict(extra="forbid"), **fields)


def spec_from_function(fn: Callable[..., Any], *, name: str | None = None, examples: list[str] | None = None,
                       timeout_s: float = 10.0, returns: str = "a JSON object",
                       annotations: ToolAnnotations | None = None,
                       example_calls: dict[str, dict[str, Any]] | None = None) -> tuple[ToolSpec, type[BaseModel]]:
    """The ToolSpec of a function: first docstring paragraph for people, the whole for the model.
    `example_calls` maps requests to their arguments; each must validate, or registration fails."""
    doc = inspect.cleandoc(fn.__doc__ or "")
    if not doc:
        raise TypeError(f"{fn.__name__}: a tool needs a docstring (it is the tool's description)")
    model = arguments_model(fn)
    for request, arguments in (example_calls or {}).items():
        try:
            model.model_validate(arguments)
        except ValidationError as exc:
            raise TypeError(f"{fn.__name__}: example call {request!r} has invalid arguments: {exc}") from None
    spec = ToolSpec(
        name=name or fn.__name__, description=doc.split("\n\n")[0].replace("\n", " "),
        model_description=" ".join(doc.split()), examples=examples or [],
        input_schema=inline_refs(model.model_json_schema()), returns=returns, timeout_s=timeout_s,
        annotations=annotations or ToolAnnotations(),
        example_calls=[ExampleCall(request=r, arguments=a) for r, a in (example_calls or {}).items()],
    )
    return spec, model


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with its local `#/$defs/...` references replaced by their targets, so it stays
    valid when nested inside another schema (a planner's call schema). Recursive models are refused."""
    defs = schema.get("$defs", {})

    def resolve(node: Any, seen: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [resolve(v, seen) for v in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            name = ref.removeprefix("#/$defs/")
            if name in seen or name not in defs:
                raise TypeError(f"schema reference {ref!r} is recursive or missing; tools need flat schemas")
            rest = {k: v for k, v in node.items() if k != "$ref"}
            return {**resolve(defs[name], (*seen, name)), **resolve(rest, seen)}
        return {k: resolve(v, seen) for k, v in node.items() if k != "$defs"}

    return resolve(schema, ())


def toolset_hash(specs: Sequence[ToolSpec]) -> str:
    """A fingerprint of the tools and plugins (name, description, schema, example calls): when it
    changes, an adapter trained before no longer knows every tool (`tansuo doctor` says so)."""
    parts = [json.dumps({"name": s.name, "description": s.model_description, "schema": s.input_schema,
                         "calls": [c.model_dump() for c in s.example_calls]}, sort_keys=True, default=str)
             for s in sorted(specs, key=lambda s: s.name)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]
