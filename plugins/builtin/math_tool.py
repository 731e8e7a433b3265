"""math: exact and numeric evaluation, equations and systems, calculus, simplification (sympy)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

import sympy
from pydantic import BaseModel, ConfigDict, Field

from tansuo.plugins.builtin.expr import parse, parse_equation, symbol
from tansuo.plugins.readout import value_text
from tansuo.plugins.tool import ToolError

Expression = Annotated[str, Field(min_length=1, max_length=2000, description="e.g. 3x^2 + sin(x)/2")]
Variable = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,30}$", description="a variable name")]


class _Op(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Evaluate(_Op):
    operation: Literal["evaluate"]
    expression: Expression
    digits: int = Field(15, ge=1, le=100, description="significant digits of the numeric value")


class Solve(_Op):
    operation: Literal["solve"]
    equations: list[str] = Field(min_length=1, max_length=10, description='e.g. ["x + y = 35", "2x + 4y = 94"]')
    variables: list[Variable] | None = Field(None, description="unknowns; default: every symbol")


class Derivative(_Op):
    operation: Literal["derivative"]
    expression: Expression
    variable: Variable = "x"
    order: int = Field(1, ge=1, le=20)


class Integral(_Op):
    operation: Literal["integral"]
    expression: Expression
    variable: Variable = "x"
    lower: str | None = Field(None, description="lower bound for a definite integral")
    upper: str | None = Field(None, description="upper bound for a definite integral")


class Limit(_Op):
    operation: Literal["limit"]
    expression: Expression
    variable: Variable = "x"
    point: str = Field(description="e.g. 0, oo")
    direction: Literal["+", "-", "+-"] = "+-"


class Simplify(_Op):
    operation: Literal["simplify"]
    expression: Expression


MathRequest = Annotated[Evaluate | Solve | Derivative | Integral | Limit | Simplify,
                        Field(discriminator="operation")]


def math(request: MathRequest) -> dict:
    """Exact math with sympy: evaluate an expression, solve equations or a system of equations,
    take a derivative, an integral or a limit, or simplify.

    Write expressions with + - * / ^ and functions such as sqrt, sin, log, factorial; "2x" means 2*x.
    For word problems, write the equations, e.g. heads and legs of chickens and rabbits:
    ["c + r = 35", "2c + 4r = 94"].
    """
    return _HANDLERS[type(request)](request)


def _evaluate(r: Evaluate) -> dict:
    value = sympy.simplify(parse(r.expression))
    return _value(value, r.digits)


def _solve(r: Solve) -> dict:
    equations = [parse_equation(text) for text in r.equations]
    unknowns = [symbol(v) for v in r.variables] if r.variables else sorted(
        set().union(*(e.free_symbols for e in equations)), key=str)
    if not unknowns:
        raise ToolError("no unknowns to solve for")
    solutions = sympy.solve(equations, unknowns, dict=True)
    return {"solutions": [{str(k): _value(v, 15) for k, v in s.items()} for s in solutions],
            "count": len(solutions)}


def _derivative(r: Derivative) -> dict:
    return _value(sympy.diff(parse(r.expression), symbol(r.variable), r.order))


def _integral(r: Integral) -> dict:
    expr, var = parse(r.expression), symbol(r.variable)
    if (r.lower is None) != (r.upper is None):
        raise ToolError("give both lower and upper bounds, or neither")
    if r.lower is None:
        return _value(sympy.integrate(expr, var)) | {"note": "plus an arbitrary constant"}
    return _value(sympy.integrate(expr, (var, parse(r.lower), parse(r.upper))))


def _limit(r: Limit) -> dict:
    return _value(sympy.limit(parse(r.expression), symbol(r.variable), parse(r.point), r.direction))


def _simplify(r: Simplify) -> dict:
    return _value(sympy.simplify(parse(r.expression)))


def _value(value: sympy.Expr, digits: int = 15) -> dict:
    out = {"result": str(value)}
    if value.is_number and value.is_finite:
        numeric = sympy.N(value, digits)
        out["numeric"] = str(numeric)
    return out


_HANDLERS = {Evaluate: _evaluate, Solve: _solve, Derivative: _derivative, Integral: _integral,
             Limit: _limit, Simplify: _simplify}


def reads(arguments: dict, result: dict) -> str | None:
    """"37 × 91 = 3,367." / "x = 3 and y = 4." / "The derivative of x^5 is 5*x^4."."""
    request = arguments.get("request", {})
    operation = request.get("operation")
    if operation == "solve":
        solutions = result.get("solutions", [])
        if not solutions:
            return "These equations have no solution."
        found = [" and ".join(f"{k} = {_shown(v)}" for k, v in s.items()) for s in solutions]
        return "; or ".join(found) + "."
    value = _shown(result)
    expression = _pretty(request.get("expression", ""))
    if operation == "evaluate":
        if expression.replace(" ", "") == str(result.get("result", "")).replace(" ", ""):
            return f"{expression} ≈ {value_text(result['numeric'])}." if result.get("numeric") else None
        return f"{expression} = {value}."
    if operation == "derivative":
        order = request.get("order", 1)
        which = "derivative" if order == 1 else f"derivative of order {order}"
        return f"The {which} of {expression} is {value}."
    if operation == "integral":
        bounds = f" from {request['lower']} to {request['upper']}" if request.get("lower") is not None else ""
        constant = " (plus a constant)" if result.get("note") else ""
        return f"The integral of {expression}{bounds} is {value}{constant}."
    if operation == "limit":
        return f"The limit of {expression} as {request.get('variable', 'x')} → {request.get('point')} is {value}."
    if operation == "simplify":
        return f"{expression} simplifies to {value}."
    return None


def _shown(value: dict) -> str:
    """The exact result, with its decimal value where the exact form is not already a plain number."""
    exact, numeric = value.get("result", ""), value.get("numeric")
    if numeric is None:
        return exact
    try:
        is_plain = float(exact) == float(numeric)
    except ValueError:
        is_plain = False
    if is_plain or re.fullmatch(r"-?\d+/\d+", exact):  # a fraction reads as its decimal value
        return value_text(numeric)
    return f"{exact} ≈ {value_text(numeric)}"


def _pretty(expression: str) -> str:
    return re.sub(r"\s*\*\s*(?!\*)", " × ", expression.replace("**", "^")).strip()
