"""One tool model for built-in tools and plugins, and the one place a schema is built.

A built-in tool is a plain function registered with `Toolbox.tool(...)`, which
returns it unchanged. Its argument schema comes from its signature (pydantic), its
descriptions from its docstring.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from tansuo.llm.types import Tool

NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"


class ToolError(Exception):
    """A call the tool refuses, with a message meant for the model (and the user)."""


class ToolAnnotations(BaseModel):
    """What a tool may do, for the operator and the policy that runs it."""

    model_config = ConfigDict(extra="forbid")
    read_only: bool = Field(True, description="the tool changes nothing outside itself")
    hosts: list[str] = Field(default_factory=list, description="hosts it may reach; empty: no network")


class ToolSpec(BaseModel):
    """How any tool is described, built-in or plugin (input_schema is MCP's inputSchema)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=NAME_PATTERN)
    description: str = Field(min_length=1, description="for people")
    model_description: str = Field(min_length=1, description="for the model: when and how to call it")
    examples: list[str] = Field(default_factory=list, description="requests this tool answers")
    input_schema: dict[str, Any] = Field(description="JSON Schema of the arguments object")
    returns: str = Field("a JSON object", description="what a call returns")
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
                       annotations: ToolAnnotations | None = None) -> tuple[ToolSpec, type[BaseModel]]:
    """The ToolSpec of a function: first docstring paragraph for people, the whole for the model."""
    doc = inspect.cleandoc(fn.__doc__ or "")
    if not doc:
        raise TypeError(f"{fn.__name__}: a tool needs a docstring (it is the tool's description)")
    model = arguments_model(fn)
    spec = ToolSpec(
        name=name or fn.__name__, description=doc.split("\n\n")[0].replace("\n", " "),
        model_description=" ".join(doc.split()), examples=examples or [],
        input_schema=model.model_json_schema(), returns=returns, timeout_s=timeout_s,
        annotations=annotations or ToolAnnotations(),
    )
    return spec, model
