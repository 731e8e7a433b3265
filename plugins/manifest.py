"""Plugin manifests: the file plugin authors write (YAML or JSON).

`PluginManifest.model_json_schema()` is published (`tansuo plugins schema`), so a
manifest may start with a `$schema` line and editors validate it as it is typed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import jsonschema
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from tansuo.plugins.readout import check_template
from tansuo.plugins.tool import NAME_PATTERN, ExampleCall, ToolAnnotations, ToolSpec

SCHEMA_ID = "https://tansuo.dev/schemas/plugin-manifest.json"
ENV_NAME = r"^[A-Z_][A-Z0-9_]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PythonRuntime(_Strict):
    entry: str = Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$", description="module:function, imported lazily")


class HttpAuth(_Strict):
    env: str = Field(pattern=ENV_NAME, description="environment variable holding the secret (never the secret)")
    scheme: Literal["bearer", "header", "query"] = "bearer"
    name: str = Field("Authorization", description="header or query parameter name for header/query schemes")


class HttpRuntime(_Strict):
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    url: str = Field(pattern=r"^https?://", description="URL template; {arg} is replaced by that argument, URL-quoted")
    headers: dict[str, str] = Field(default_factory=dict)
    auth: HttpAuth | None = None
    body: Literal["json", "none"] = Field("json", description="send the remaining arguments as a JSON body")
    max_response_bytes: int = Field(1_000_000, ge=1, le=50_000_000)


class McpRuntime(_Strict):
    command: list[str] = Field(min_length=1, description="the MCP server's command line (stdio transport)")
    env: dict[str, str] = Field(default_factory=dict)
    tools: list[str] | None = Field(None, description="only these of the server's tools (default: all)")


class PluginManifest(_Strict):
    """A third-party tool: what it does, its arguments, and how to run it."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, json_schema_extra={"$id": SCHEMA_ID})

    schema_: str | None = Field(None, alias="$schema")
    name: str = Field(pattern=NAME_PATTERN)
    kind: Literal["python", "http", "mcp"]
    description: str = Field(min_length=1, description="for people")
    model_description: str | None = Field(None, description="for the model; default: description")
    examples: list[str] = Field(default_factory=list, description="requests this plugin answers")
    input_schema: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}},
                                         description="JSON Schema of the arguments (MCP inputSchema)")
    example_calls: list[ExampleCall] = Field(
        default_factory=list, description="requests with the arguments they call with, shown to the model")
    returns: str = "a JSON object"
    reads: str | None = Field(None, max_length=500, description=(
        'how a result reads to a person: a sentence with {field} placeholders, result fields first, then '
        'arguments, e.g. "It is {temperature} °C in {city}."'))
    timeout_s: float = Field(10.0, gt=0, le=600)
    annotations: ToolAnnotations = Field(default_factory=ToolAnnotations)
    python: PythonRuntime | None = None
    http: HttpRuntime | None = None
    mcp: McpRuntime | None = None

    @field_validator("input_schema")
    @classmethod
    def _valid_schema(cls, schema: dict[str, Any]) -> dict[str, Any]:
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as exc:
            raise ValueError(f"not a valid JSON Schema: {exc.message}") from None
        if schema.get("type") != "object":
            raise ValueError('must describe an object ("type": "object")')
        return schema

    @field_validator("reads")
    @classmethod
    def _reads_is_a_template(cls, text: str | None) -> str | None:
        if text is not None:
            check_template(text)
        return text

    @field_validator("example_calls")
    @classmethod
    def _examples_fit_the_schema(cls, calls: list[ExampleCall], info: ValidationInfo) -> list[ExampleCall]:
        schema = info.data.get("input_schema")
        for i, call in enumerate(calls):
            error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema or {}).iter_errors(
                call.arguments))
            if error is not None:
                raise ValueError(f"[{i}] ({call.request!r}): arguments do not fit input_schema: {error.message}")
        return calls

    @model_validator(mode="after")
    def _runtime_matches_kind(self) -> PluginManifest:
        given = [k for k in ("python", "http", "mcp") if getattr(self, k) is not None]
        if given != [self.kind]:
            raise ValueError(f"kind {self.kind!r} needs a {self.kind!r} section and no other "
                             f"(found: {', '.join(given) or 'none'})")
        return self

    def to_spec(self) -> ToolSpec:
        return ToolSpec(name=self.name, description=self.description,
                        model_description=self.model_description or self.description, examples=self.examples,
                        example_calls=self.example_calls,
                        input_schema=self.input_schema, returns=self.returns, reads=self.reads,
                        timeout_s=self.timeout_s,
                        annotations=self.annotations)


def manifest_schema() -> dict[str, Any]:
    return PluginManifest.model_json_schema(by_alias=True)


class ManifestProblem(Exception):
    """One problem of one manifest file, with the field it is in."""

    def __init__(self, path: Path | str, field: str, message: str) -> None:
        super().__init__(f"{path}: {field}: {message}")
        self.path, self.field, self.message = str(path), field, message


def load_manifest(path: Path) -> tuple[PluginManifest | None, list[ManifestProblem]]:
    """Parse and validate one file: the manifest, or every problem found in it."""
    try:
        data = _load_data(path)
        return PluginManifest.model_validate(data), []
    except ManifestProblem as problem:
        return None, [problem]
    except ValidationError as exc:
        return None, [ManifestProblem(path, ".".join(str(p) for p in e["loc"]) or "(file)",
                                      e["msg"].removeprefix("Value error, ")) for e in exc.errors()]


def _load_data(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestProblem(path, "(file)", f"cannot read: {exc}") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ManifestProblem(path, "(file)", f"not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {exc}".splitlines()[0]) from None
    if not isinstance(data, dict):
        raise ManifestProblem(path, "(file)", "a manifest is a mapping of fields")
    return data

