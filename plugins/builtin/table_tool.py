"""table: load CSV/JSON and run a validated list of operations on it (pandas).

No `eval`/`query` strings: every step is a typed operation on named columns.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from tansuo.plugins.readout import value_text
from tansuo.plugins.tool import ToolError

MAX_INLINE_CHARS = 1_000_000
MAX_FILE_BYTES = 50 * 2**20
Scalar = str | int | float | bool


class _Op(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Source(_Op):
    csv: str | None = Field(None, max_length=MAX_INLINE_CHARS, description="CSV text with a header row")
    json_records: str | None = Field(None, max_length=MAX_INLINE_CHARS, description="a JSON array of objects")
    file: str | None = Field(None, max_length=300, description="a .csv/.json file in the data folder")

    @model_validator(mode="after")
    def _exactly_one(self) -> Source:
        if sum(x is not None for x in (self.csv, self.json_records, self.file)) != 1:
            raise ValueError("give exactly one of csv, json_records, file")
        return self


class Filter(_Op):
    op: Literal["filter"]
    column: str
    cmp: Literal["==", "!=", "<", "<=", ">", ">=", "contains", "in"]
    value: Scalar | list[Scalar]


class Sort(_Op):
    op: Literal["sort"]
    by: list[str] = Field(min_length=1)
    descending: bool = False


class Select(_Op):
    op: Literal["select"]
    columns: list[str] = Field(min_length=1)


class Group(_Op):
    op: Literal["group"]
    by: list[str] = Field(default_factory=list, description="grouping columns; none: the whole table")
    aggregate: dict[str, Literal["mean", "sum", "min", "max", "count", "median", "std", "nunique"]] = Field(
        min_length=1, description='column -> function, e.g. {"price": "mean"}')


class Head(_Op):
    op: Literal["head"]
    n: int = Field(ge=1, le=1000)


class Describe(_Op):
    op: Literal["describe"]


Step = Annotated[Filter | Sort | Select | Group | Head | Describe, Field(discriminator="op")]


def make_table(data_folder: Path | None) -> Callable[..., dict]:
    """The table tool, reading files only from `data_folder` (none: inline data only)."""

    def table(source: Source, steps: list[Step] = [],  # noqa: B006 (never mutated)
              limit: Annotated[int, Field(ge=1, le=1000, description="rows to return")] = 50) -> dict:
        """Tables with pandas: load CSV or JSON records (inline, or a file in the data folder), then apply
        steps in order: filter rows, sort, select columns, group and aggregate, head, describe.

        Example steps: [{"op": "filter", "column": "year", "cmp": ">=", "value": 2020},
        {"op": "group", "by": ["city"], "aggregate": {"price": "mean"}}].
        """
        # strings as Python objects even where pyarrow is installed: arrow's memory pools reserve more
        # address space than the sandbox's limit allows, and the results would depend on the install
        with pd.option_context("mode.string_storage", "python"):
            frame = _load(source, data_folder)
            for step in steps:
                frame = _apply(frame, step)
            rows = json.loads(frame.head(limit).to_json(orient="records", date_format="iso"))
        return {"columns": [str(c) for c in frame.columns], "rows": rows, "row_count": len(frame)}

    return table


def _load(source: Source, data_folder: Path | None) -> pd.DataFrame:
    try:
        if source.csv is not None:
            return pd.read_csv(io.StringIO(source.csv))
        if source.json_records is not None:
            return pd.DataFrame(json.loads(source.json_records))
        path = _allowed_file(source.file or "", data_folder)
        if path.suffix == ".csv":
            return pd.read_csv(path)
        return pd.DataFrame(json.loads(path.read_text()))
    except (ValueError, pd.errors.ParserError, json.JSONDecodeError) as exc:
        raise ToolError(f"cannot read the table: {exc}") from None


def _allowed_file(name: str, data_folder: Path | None) -> Path:
    if data_folder is None:
        raise ToolError("no data folder is configured; give the data inline")
    root = data_folder.resolve()
    path = (root / name).resolve()
    if not path.is_relative_to(root) or path.suffix not in (".csv", ".json"):
        raise ToolError(f"{name!r} is not a .csv or .json file inside the data folder")
    if not path.is_file():
        raise ToolError(f"no file {name!r} in the data folder")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ToolError(f"{name!r} is larger than {MAX_FILE_BYTES // 2**20} MiB")
    return path


def _apply(frame: pd.DataFrame, step: Any) -> pd.DataFrame:
    columns = [c for c in _columns_of(step) if c not in frame.columns]
    if columns:
        raise ToolError(f"unknown column(s) {columns}; columns are {[str(c) for c in frame.columns]}")
    match step:
        case Filter():
            return frame[_mask(frame[step.column], step.cmp, step.value)]
        case Sort():
            return frame.sort_values(step.by, ascending=not step.descending, kind="stable")
        case Select():
            return frame[step.columns]
        case Group() if not step.by:  # one row: the whole table's totals, means, ...
            return pd.DataFrame([{column: frame[column].agg(fn) for column, fn in step.aggregate.items()}])
        case Group():
            grouped = frame.groupby(step.by, sort=True).agg(step.aggregate)
            return grouped.reset_index()
        case Head():
            return frame.head(step.n)
        case Describe():
            return frame.describe(include="all").reset_index(names="statistic")
    raise ToolError(f"unknown step {step!r}")  # pragma: no cover


def _columns_of(step: Any) -> list[str]:
    match step:
        case Filter():
            return [step.column]
        case Sort() | Group():
            return list(step.by) + (list(step.aggregate) if isinstance(step, Group) else [])
        case Select():
            return list(step.columns)
    return []


def _mask(column: pd.Series, cmp: str, value: Any) -> pd.Series:
    if cmp == "in":
        return column.isin(value if isinstance(value, list) else [value])
    if isinstance(value, list):
        raise ToolError(f"a list value needs cmp 'in', not {cmp!r}")
    if cmp == "contains":
        return column.astype(str).str.contains(str(value), regex=False, case=False)
    try:
        return {"==": column.__eq__, "!=": column.__ne__, "<": column.__lt__, "<=": column.__le__,
                ">": column.__gt__, ">=": column.__ge__}[cmp](value)
    except TypeError:
        raise ToolError(f"cannot compare column {column.name!r} ({column.dtype}) with {value!r}") from None


def _aggregate(arguments: dict) -> dict:
    """Column -> the aggregate the last group step computed for it ("price" -> "mean")."""
    groups = [s for s in arguments.get("steps") or [] if isinstance(s, dict) and s.get("op") == "group"]
    aggregate = groups[-1].get("aggregate") if groups else None
    return {str(k): str(v) for k, v in aggregate.items()} if isinstance(aggregate, dict) else {}


def reads(arguments: dict, result: dict) -> str | None:
    """One value reads as a sentence ("The mean of price is 12.5."); a table as its rows."""
    rows = result.get("rows", [])
    if len(rows) == 1 and len(rows[0]) == 1:
        (column, value), = rows[0].items()
        how = _aggregate(arguments).get(column)
        return f"The {how} of {column} is {value_text(value)}." if how else f"The {column} is {value_text(value)}."
    if not rows:
        return "No rows match."
    shown = "; ".join(", ".join(f"{k} {value_text(v)}" for k, v in row.items()) for row in rows[:10])
    more = f" ({result.get('row_count', len(rows)) - 10} more rows)" if result.get("row_count", len(rows)) > 10 else ""
    return f"{shown}{more}."
