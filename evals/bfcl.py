"""Berkeley Function Calling Leaderboard sets, read from the installed `bfcl-eval` package (its
wheel carries questions, answers and the AST checker; install it with `--no-deps`) and scored
with BFCL's own checker, so the numbers compare with its leaderboard.

The checker module imports `bfcl_eval.constants.model_config`, which imports every vendor's SDK;
it only needs that module's MODEL_CONFIG_MAPPING to know whether a model turned "." in function
names into "_" (we do: tool names may not hold dots), so a small stand-in takes its place.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
import time
import types
from functools import cache
from pathlib import Path
from typing import Any

from tansuo.errors import InvalidOutput, TansuoError
from tansuo.evals.context import EvalContext
from tansuo.evals.sets import Item, ItemResult
from tansuo.llm.types import ChatRequest, Tool

MODEL = "tansuo"
_TYPES = {"dict": "object", "float": "number", "tuple": "array", "any": None}


class BfclMissing(TansuoError):
    pass


def data_dir() -> Path:
    spec = importlib.util.find_spec("bfcl_eval")
    if spec is None or not spec.submodule_search_locations:
        raise BfclMissing("the bfcl-eval package is not installed: .venv/bin/pip install --no-deps bfcl-eval "
                          "(or `make eval`)")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


@cache
def checker() -> tuple[Any, Any]:
    """BFCL's `ast_checker` and its `Language` enum, without the vendor SDKs."""
    data_dir()
    name = "bfcl_eval.constants.model_config"
    if name not in sys.modules:
        stand_in = types.ModuleType(name)
        stand_in.MODEL_CONFIG_MAPPING = {MODEL: types.SimpleNamespace(underscore_to_dot=True)}
        sys.modules[name] = stand_in
    ast = importlib.import_module("bfcl_eval.eval_checker.ast_eval.ast_checker")
    enums = importlib.import_module("bfcl_eval.constants.enums")
    return ast.ast_checker, enums.Language


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def question_text(item: dict) -> str:
    turns = item["question"][0] if item["question"] and isinstance(item["question"][0], list) else item["question"]
    return " ".join(m["content"] for m in turns if m.get("role") == "user")


def load_catalogue(data: Path) -> tuple[list[dict], list[tuple[str, int, str]], list[str]]:
    """The tool-retrieval catalogue: every distinct function (name + description) of BFCL's
    `multiple` and `live_multiple` sets; their single-call questions as (question, gold catalogue row,
    category); and the `irrelevance` questions."""
    catalogue: dict[tuple[str, str], int] = {}
    functions: list[dict] = []
    questions: list[tuple[str, int, str]] = []
    for name in ("multiple", "live_multiple"):
        answers = {a["id"]: a["ground_truth"] for a in _rows(data / "possible_answer" / f"BFCL_v4_{name}.json")}
        for item in _rows(data / f"BFCL_v4_{name}.json"):
            for fn in item["function"]:
                key = (fn["name"], fn.get("description", ""))
                if key not in catalogue:
                    catalogue[key] = len(functions)
                    functions.append(fn)
            truth = answers.get(item["id"], [])
            if len(truth) != 1:
                continue  # single-call questions only
            gold_name = next(iter(truth[0]))
            gold = [fn for fn in item["function"] if fn["name"] == gold_name]
            if gold:
                row = catalogue[(gold[0]["name"], gold[0].get("description", ""))]
                questions.append((question_text(item), row, name))
    irrelevant = [question_text(item) for item in _rows(data / "BFCL_v4_irrelevance.json")]
    return functions, questions, irrelevant


def catalogue_spec(row: int, fn: dict):
    """A BFCL function as a plugin manifest would describe it (BFCL's "dict" type is JSON's object)."""
    import re

    from tansuo.plugins.tool import ToolSpec

    description = fn.get("description", "") or fn["name"]
    name = re.sub(r"\W+", "_", fn["name"]).strip("_")[:50] or "fn"
    schema = {**fn.get("parameters", {}), "type": "object"}
    return ToolSpec(name=f"{name}_{row}", description=description, model_description=description,
                    input_schema=schema)


def json_schema(bfcl: Any) -> Any:
    """A BFCL parameter description as JSON Schema ("dict" -> "object", "float" -> "number", ...)."""
    if isinstance(bfcl, list):
        return [json_schema(x) for x in bfcl]
    if not isinstance(bfcl, dict):
        return bfcl
    out = {}
    for key, value in bfcl.items():
        if key == "type" and isinstance(value, str) and value in _TYPES:
            if _TYPES[value] is not None:
                out[key] = _TYPES[value]
        elif key in ("properties",) and isinstance(value, dict):
            out[key] = {k: json_schema(v) for k, v in value.items()}
        elif key in ("items", "additionalProperties", "anyOf"):
            out[key] = json_schema(value)
        elif key in ("optional", "format") and not isinstance(value, dict):
            continue  # BFCL annotations that are not JSON Schema (or formats a grammar can't hold)
        else:
            out[key] = value
    return out


def tool_of(function: dict) -> Tool:
    return Tool(function["name"].replace(".", "_"), function.get("description", "")[:1024],
                json_schema(function.get("parameters") or {"type": "object", "properties": {}}))


class BfclSet:
    stage = "planner"
    metric = "AST match (BFCL's checker)"
    splits = ("test only: an outside benchmark, never tuned on here, reported over whole categories (or a seeded "
              "sample, --sample) beside its leaderboard; choose settings on the project's dev splits")

    def __init__(self, category: str) -> None:
        self.category = category
        self.name = f"bfcl-{category}"
        self.description = f"BFCL v4 {category}: a function call from the offered functions, checked by BFCL's AST"

    def items(self) -> list[Item]:
        base = data_dir()
        questions = _rows(base / f"BFCL_v4_{self.category}.json")
        answers_path = base / "possible_answer" / f"BFCL_v4_{self.category}.json"
        answers = {r["id"]: r["ground_truth"] for r in _rows(answers_path)} if answers_path.exists() else {}
        return [Item(q["id"], self.category, {**q, "ground_truth": answers.get(q["id"])}, "test") for q in questions]

    async def run(self, ctx: EvalContext, item: Item) -> ItemResult:
        messages = [m for turn in item.data["question"] for m in turn]
        tools = [tool_of(f) for f in item.data["function"]]
        parallel = "parallel" in self.category  # a list of calls, with room for it
        started = time.perf_counter()
        try:
            result = await ctx.get_backend().chat(ChatRequest(messages=messages, tools=tools, tool_choice="auto",
                                                              parallel_tool_calls=parallel,
                                                              max_tokens=768 if parallel else 384))
        except InvalidOutput as exc:  # the model's miss, not the harness's error; BFCL's own runner reads
            # output it cannot decode as no call: right for an irrelevance question, wrong for the rest
            ms = (time.perf_counter() - started) * 1000
            return ItemResult(item.id, self.category, float("irrelevance" in self.category), ms,
                              {"calls": [], "invalid_output": str(exc)[:300]})
        ms = (time.perf_counter() - started) * 1000
        calls = [{c.name: c.arguments} for c in result.tool_calls]
        if "irrelevance" in self.category:
            return ItemResult(item.id, self.category, float(not calls), ms, {"calls": calls})
        ast_checker, language = checker()
        verdict = ast_checker(item.data["function"], calls, item.data["ground_truth"], language.PYTHON,
                              self.category, MODEL)
        return ItemResult(item.id, self.category, float(bool(verdict["valid"])), ms,
                          {"calls": calls, "error": verdict.get("error"), "error_type": verdict.get("error_type")})
