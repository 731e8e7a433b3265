"""Wrap any LangChain `BaseTool` as a Tansuo plugin."""

from __future__ import annotations

from typing import Any

from langchain_core.tools import BaseTool

from tansuo.plugins.plugin import Plugin
from tansuo.plugins.tool import ToolAnnotations, ToolError, ToolSpec


def plugin_from_langchain(tool: BaseTool, *, examples: list[str] | None = None, timeout_s: float = 30.0,
                          annotations: ToolAnnotations | None = None) -> Plugin:
    """The tool's name, description and argument schema become the plugin's; calls go to `ainvoke`."""
    schema = tool.tool_call_schema
    input_schema = schema.model_json_schema() if hasattr(schema, "model_json_schema") else dict(schema)
    input_schema.setdefault("type", "object")
    spec = ToolSpec(name=tool.name, description=tool.description.split("\n")[0] or tool.name,
                    model_description=tool.description or tool.name, examples=examples or [],
                    input_schema=input_schema, timeout_s=timeout_s,
                    annotations=annotations or ToolAnnotations(read_only=False))

    async def run(arguments: dict[str, Any]) -> Any:
        try:
            output = await tool.ainvoke(arguments)
        except Exception as exc:  # the tool's own failure goes back to the model
            raise ToolError(f"{type(exc).__name__}: {exc}") from None
        return output if isinstance(output, dict) else {"text": str(output)}

    return Plugin(spec, f"langchain:{type(tool).__module__}.{type(tool).__qualname__}", "langchain", run)
