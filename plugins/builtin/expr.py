"""Parse math text into sympy without evaluating any code.

sympy's own `parse_expr` runs `eval`; model output never goes there. The text is
parsed by Python's `ast` and only whitelisted nodes (numbers, names, arithmetic,
calls to known functions) are turned into sympy objects. Powers and factorials
that would take minutes are refused before sympy sees them.
"""

from __future__ import annotations

import ast
import re

import sympy

from tansuo.plugins.tool import ToolError

MAX_CHARS = 2000
MAX_EXPONENT = 10_000
MAX_FACTORIAL = 5_000

FUNCTIONS = {
    name: getattr(sympy, name)
    for name in ("sin cos tan cot sec csc asin acos atan atan2 sinh cosh tanh asinh acosh atanh exp log "
                 "sqrt cbrt Abs sign floor ceiling factorial binomial gamma gcd lcm Min Max re im conjugate").split()
}
FUNCTIONS |= {"abs": sympy.Abs, "ln": sympy.log, "min": sympy.Min, "max": sympy.Max, "root": sympy.root}
CONSTANTS = {"pi": sympy.pi, "e": sympy.E, "E": sympy.E, "I": sympy.I, "oo": sympy.oo, "inf": sympy.oo}
_BINARY = {ast.Add: sympy.Add, ast.Mult: sympy.Mul}
# "2x" -> "2*x", ")(" -> ")*(", but not "1e5"
_IMPLICIT = re.compile(r"(?<=[0-9])\s*(?=[A-Za-z(])(?![eE][+-]?\d)|(?<=\))\s*(?=[A-Za-z0-9(])")


# The operators people (and models copying them) write: "8 × 9", "10 ÷ 4", "7 − 2"
_TYPOGRAPHIC = str.maketrans({"×": "*", "·": "*", "⋅": "*", "÷": "/", "−": "-", "–": "-"})


class ExpressionError(ToolError):
    """The text is not a math expression this tool accepts; the message says why."""


def parse(text: str) -> sympy.Expr:
    """An expression such as `3x^2 + sin(x)/2` (with `^` for power and `2x` for 2*x)."""
    if len(text) > MAX_CHARS:
        raise ExpressionError(f"expression longer than {MAX_CHARS} characters")
    source = _IMPLICIT.sub("*", text.translate(_TYPOGRAPHIC).replace("^", "**").strip())
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"cannot parse {text!r}: {exc.msg}") from None
    return _convert(tree.body)


def parse_equation(text: str) -> sympy.Eq | sympy.Expr:
    """`lhs = rhs` (or `==`) becomes an equation; anything else an expression equal to 0."""
    parts = re.split(r"==|(?<![<>!=])=(?!=)", text)
    if len(parts) == 1:
        return parse(text)
    if len(parts) != 2:
        raise ExpressionError(f"{text!r} has more than one '='")
    return sympy.Eq(parse(parts[0]), parse(parts[1]))


def symbol(name: str) -> sympy.Symbol:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,30}", name) or name in FUNCTIONS:
        raise ExpressionError(f"{name!r} is not a variable name")
    return sympy.Symbol(name)


def _convert(node: ast.AST) -> sympy.Expr:
    match node:
        case ast.Constant(value=bool()):
            raise ExpressionError("booleans are not numbers here")
        case ast.Constant(value=int() | float() as value):
            return sympy.Rational(str(value)) if isinstance(value, float) else sympy.Integer(value)
        case ast.Name(id=name):
            return CONSTANTS[name] if name in CONSTANTS else symbol(name)
        case ast.UnaryOp(op=ast.USub(), operand=operand):
            return -_convert(operand)
        case ast.UnaryOp(op=ast.UAdd(), operand=operand):
            return _convert(operand)
        case ast.BinOp(left=left, op=ast.Pow(), right=right):
            return _power(_convert(left), _convert(right))
        case ast.BinOp(left=left, op=op, right=right) if type(op) in _BINARY:
            return _BINARY[type(op)](_convert(left), _convert(right))
        case ast.BinOp(left=left, op=ast.Sub(), right=right):
            return _convert(left) - _convert(right)
        case ast.BinOp(left=left, op=ast.Div(), right=right):
            return _convert(left) / _convert(right)
        case ast.BinOp(left=left, op=ast.Mod(), right=right):
            return sympy.Mod(_convert(left), _convert(right))
        case ast.Call(func=ast.Name(id=name), args=args, keywords=[]) if name in FUNCTIONS:
            return _call(name, [_convert(a) for a in args])
        case ast.Call(func=ast.Name(id=name)):
            raise ExpressionError(f"unknown function {name!r}; known: {', '.join(sorted(FUNCTIONS))}")
    raise ExpressionError(f"unsupported syntax: {ast.unparse(node)!r}")


def _power(base: sympy.Expr, exponent: sympy.Expr) -> sympy.Expr:
    if exponent.is_number and exponent.is_real and abs(exponent) > MAX_EXPONENT and base.is_number:
        if abs(base) not in (0, 1):
            raise ExpressionError(f"exponent {exponent} is too large (limit {MAX_EXPONENT})")
    return sympy.Pow(base, exponent)


def _call(name: str, args: list[sympy.Expr]) -> sympy.Expr:
    if name == "factorial" and args and args[0].is_number and abs(args[0]) > MAX_FACTORIAL:
        raise ExpressionError(f"factorial of {args[0]} is too large (limit {MAX_FACTORIAL})")
    try:
        return FUNCTIONS[name](*args)
    except (TypeError, ValueError) as exc:
        raise ExpressionError(f"{name}{tuple(args)}: {exc}") from None
