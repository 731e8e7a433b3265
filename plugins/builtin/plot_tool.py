"""plot: the curve of a function over a range, rendered to a PNG file the API can serve."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import numpy as np
import sympy
from pydantic import Field

from tansuo.plugins.builtin.expr import parse, symbol
from tansuo.plugins.readout import value_text
from tansuo.plugins.tool import ToolError


def warm_matplotlib() -> None:
    """Import matplotlib once in the service so isolated calls start fast."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401


def make_plot(plots_dir: Path) -> Callable[..., dict]:
    """The plot tool, writing PNGs into `plots_dir`. A file's name is 128 bits keyed by a secret of
    this process, so a plot's address cannot be worked out from what it shows: /plots/ needs no key
    (an <img> sends none), and only the turn that drew a plot learns its name."""
    secret = secrets.token_bytes(16)
    for old in plots_dir.glob("*.png") if plots_dir.is_dir() else ():
        if re.fullmatch(r"[0-9a-f]{16}\.png", old.name):  # named by the arguments alone: guessable
            old.unlink(missing_ok=True)

    def plot(expression: Annotated[str, Field(min_length=1, max_length=500, description="e.g. sin(x)/x")],
             start: float, end: float,
             variable: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,30}$")] = "x",
             points: Annotated[int, Field(ge=10, le=5000)] = 400,
             title: Annotated[str | None, Field(max_length=200)] = None) -> dict:
        """Plot y = f(variable) for variable from start to end and return the PNG file.

        The expression uses the math tool's syntax (^ for power, sin, exp, log, sqrt, ...).
        """
        if not start < end:
            raise ToolError("start must be less than end")
        expr, var = parse(expression), symbol(variable)
        extra = expr.free_symbols - {var}
        if extra:
            raise ToolError(f"the expression has other unknowns: {sorted(map(str, extra))}")
        xs = np.linspace(start, end, points)
        ys = _evaluate(expr, var, xs)
        name = hmac.new(secret, f"{expression}|{variable}|{start}|{end}|{points}|{title}".encode(),
                        hashlib.sha256).hexdigest()[:32]
        path = plots_dir / f"{name}.png"
        _render(xs, ys, title or f"y = {expression}", variable, path)
        finite = ys[np.isfinite(ys)]
        return {"file": f"plots/{path.name}", "points": points,
                "y_min": float(finite.min()) if finite.size else None,
                "y_max": float(finite.max()) if finite.size else None}

    return plot


def _evaluate(expr: sympy.Expr, var: sympy.Symbol, xs: np.ndarray) -> np.ndarray:
    # lambdify prints the already-validated sympy tree to numpy code; no model text reaches it
    fn = sympy.lambdify(var, expr, modules="numpy")
    with np.errstate(all="ignore"):
        ys = np.asarray(fn(xs), dtype=complex) * np.ones_like(xs)
    return np.where(np.abs(ys.imag) < 1e-12, ys.real, np.nan)


def _render(xs: np.ndarray, ys: np.ndarray, title: str, variable: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    ax.plot(xs, ys)
    ax.set_title(title)
    ax.set_xlabel(variable)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    tmp.replace(path)


def reads(arguments: dict, result: dict) -> str | None:
    """"The plot of sin(x)/x from -10 to 10 is at plots/….png.": the page shows the image itself."""
    span = f" from {value_text(arguments['start'])} to {value_text(arguments['end'])}" if "start" in arguments else ""
    return f"The plot of {arguments.get('expression', 'the function')}{span} is at {result['file']}."
