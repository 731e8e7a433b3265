"""The layers, as an executable rule: foundation ← retrieval, plugins ← verifiers ← agent ← server ←
the command line, with the eval runner and training outside the runtime. Every module of the
project is read (not imported) and each import checked: none points to a higher layer, none uses a
folder's bare name (everything installs under `tansuo`), project imports sit at module top outside
the command line and the offline tools, and the modules import no cycle."""

from __future__ import annotations

import ast
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Lowest first; a module may import its own layer and those below. Within a layer, the groups
# split by "|" are siblings that do not import each other.
LAYERS = (
    ("foundation", ("tansuo", "tansuo.errors", "tansuo.settings", "tansuo.embedding", "tansuo.llm", "tansuo.core")),
    ("retrieval | plugins", ("tansuo.retrieval", "tansuo.plugins")),
    ("verifiers", ("tansuo.verifiers",)),
    ("agent", ("tansuo.agent",)),
    ("server", ("tansuo.server",)),
    ("command line", ("tansuo.cli",)),
    ("outside the runtime", ("tansuo.evals", "tansuo.training")),
)
SIBLINGS = {"tansuo.retrieval": "tansuo.plugins", "tansuo.plugins": "tansuo.retrieval"}
# The command line imports what a command needs when it runs (`tansuo --version` loads no torch),
# and the offline tools load the heavy stacks per set or per run; the runtime imports at module top.
LAZY_ALLOWED = ("command line", "outside the runtime")
BARE = ("agent", "plugins", "retrieval", "verifiers", "server", "evals", "training")


@dataclass(frozen=True)
class Import:
    importer: str
    target: str
    line: int
    in_function: bool


def package_dirs() -> dict[str, Path]:
    """The import name of each installed folder, from pyproject's package-dir mapping."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    return {name: ROOT / folder for name, folder in config["package-dir"].items()}


def modules() -> dict[str, Path]:
    out = {}
    for package, folder in package_dirs().items():
        for path in folder.rglob("*.py"):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            name = ".".join([package, *parts])
            if package == "tansuo" and len(parts) and f"tansuo.{parts[0]}" in package_dirs():
                continue  # a mapped folder is read under its own name
            out[name] = path
    return out


def imports_of(name: str, source: str, known: set[str], is_package: bool = False) -> list[Import]:
    """The project imports in one module's source, each resolved to the module it loads."""
    out: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                out.extend(Import(name, a.name, child.lineno, in_function) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = _absolute(name, child, is_package)
                for alias in child.names:  # "from tansuo.agent import extract" loads a module
                    sub = f"{base}.{alias.name}"
                    out.append(Import(name, sub if sub in known else base, child.lineno, in_function))
            visit(child, nested)

    visit(ast.parse(source), False)
    return out


def _absolute(name: str, node: ast.ImportFrom, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    parts = name.split(".")
    base = parts[: len(parts) - node.level + (1 if is_package else 0)]
    return ".".join(base + ([node.module] if node.module else []))


def layer_of(module: str) -> tuple[int, str, str] | None:
    """(rank, layer, group) by the longest prefix that names the module; None outside the project."""
    best = None
    for rank, (layer, groups) in enumerate(LAYERS):
        for group in groups:
            if (module == group or module.startswith(group + ".")) and (best is None or len(group) > len(best[2])):
                best = (rank, layer, group)
    return best


def problems(found: list[Import]) -> list[str]:
    """What breaks the layering among `found` (empty when none does)."""
    out = []
    for imp in found:
        top = imp.target.split(".")[0]
        if top in BARE:
            out.append(f"{imp.importer}:{imp.line} imports {imp.target} by its folder's bare name")
            continue
        theirs, mine = layer_of(imp.target), layer_of(imp.importer)
        if theirs is None or mine is None:
            continue
        if theirs[0] > mine[0]:
            out.append(f"{imp.importer}:{imp.line} ({mine[1]}) imports {imp.target} ({theirs[1]}), a layer above")
        elif SIBLINGS.get(mine[2]) == theirs[2]:
            out.append(f"{imp.importer}:{imp.line} imports its sibling {imp.target}")
        elif imp.in_function and mine[1] not in LAZY_ALLOWED:
            out.append(f"{imp.importer}:{imp.line} imports {imp.target} inside a function")
    return out


def cycles(found: list[Import], known: set[str]) -> list[list[str]]:
    """Import cycles among the project's modules (Tarjan's strongly connected components)."""
    graph: dict[str, set[str]] = {m: set() for m in known}
    for imp in found:
        if imp.target in known and imp.target != imp.importer:
            graph[imp.importer].add(imp.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


def project_imports() -> tuple[list[Import], set[str]]:
    found_modules = modules()
    known = set(found_modules)
    found = []
    for name, path in found_modules.items():
        found += imports_of(name, path.read_text(), known, is_package=path.name == "__init__.py")
    return found, known


def test_no_module_imports_a_layer_above_its_own_or_a_bare_folder_name():
    found, _ = project_imports()
    assert len(found) > 300  # the whole project was read
    assert problems(found) == []


def test_the_modules_import_no_cycle():
    found, known = project_imports()
    assert cycles(found, known) == []


def test_tests_and_benchmarks_import_the_installed_names_only():
    bad = []
    for path in [*(ROOT / "tests").rglob("*.py"), *(ROOT / "bench").rglob("*.py")]:
        for imp in imports_of(path.stem, path.read_text(), set()):
            if imp.target.split(".")[0] in BARE:
                bad.append(f"{path.relative_to(ROOT)}:{imp.line} {imp.target}")
    assert bad == []


def test_the_checks_catch_an_upward_import_a_lazy_one_and_a_cycle():
    known = {"tansuo.verifiers.harm", "tansuo.agent.steps", "tansuo.retrieval.index", "tansuo.plugins.tool"}
    upward = imports_of("tansuo.verifiers.harm", "from tansuo.agent.steps import plan\n", known)
    lazy = imports_of("tansuo.agent.steps", "def f():\n    from tansuo.verifiers import harm\n", known)
    sibling = imports_of("tansuo.plugins.tool", "import tansuo.retrieval.index\n", known)
    bare = imports_of("tansuo.agent.steps", "from agent.turn import Turn\n", known)
    found = problems(upward + lazy + sibling + bare)
    assert [p.split(" ", 1)[0] for p in found] == [
        "tansuo.verifiers.harm:1", "tansuo.agent.steps:2", "tansuo.plugins.tool:1", "tansuo.agent.steps:1"]
    assert "a layer above" in found[0] and "inside a function" in found[1] and "sibling" in found[2] \
        and "bare name" in found[3]
    assert cycles(upward + lazy, known) == [["tansuo.agent.steps", "tansuo.verifiers.harm"]]


MAX_MODULE_LINES, MAX_FUNCTION_LINES = 400, 60
RUNTIME = ("foundation", "retrieval | plugins", "verifiers", "agent", "server", "command line")


def test_modules_and_functions_stay_small_and_the_runtime_has_no_asserts():
    long_modules, long_functions, asserts = [], [], []
    for name, path in modules().items():
        source = path.read_text()
        if source.count("\n") > MAX_MODULE_LINES:
            long_modules.append(name)
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                    and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES:
                long_functions.append(f"{name}.{node.name}")
            if isinstance(node, ast.Assert) and layer_of(name)[1] in RUNTIME:  # stripped under python -O
                asserts.append(f"{name}:{node.lineno}")
    assert (long_modules, long_functions, asserts) == ([], [], [])
