"""The default corpus: Python documentation already on the machine, read offline.

- The language reference topics that ``help()`` shows (``pydoc_data.topics``).
- The docstrings of installed packages' public modules, classes, functions and methods,
  read from their source with ``ast``: nothing is imported, so no package code runs and
  a broken package cannot stop the build.

Each document carries its package and version, and a date where the installed metadata
gives one (for the reference topics, the interpreter's build date).
"""

from __future__ import annotations

import ast
import importlib.metadata as md
import importlib.util
import platform
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from tansuo.retrieval.documents import Document, parse_date
from tansuo.settings import DEFAULT_CORPUS_PACKAGES as DEFAULT_PACKAGES

MIN_DOCSTRING = 40  # characters; shorter ones ("Return self.") say nothing searchable
MAX_FILE_BYTES = 2_000_000  # generated tables, not documentation
SKIPPED_DIRS = {"tests", "test", "testing", "_testing", "benchmarks", "__pycache__", "conftest"}


@dataclass(frozen=True)
class PackageInfo:
    name: str  # the import name
    distribution: str
    version: str
    released: datetime | None
    folder: Path


def stdlib_topics() -> list[Document]:
    """The reference topics of the running Python, dated by the interpreter's build date."""
    from pydoc_data.topics import topics

    version = platform.python_version()
    built = parse_date(platform.python_build()[1])
    docs = []
    for key, text in sorted(topics.items()):
        title = text.strip().split("\n", 1)[0].strip() or key
        docs.append(Document(id=f"pydoc:{key}", title=f"Python {version} reference: {title}",
                             source=f"pydoc:{key}", text=text.strip(), published=built,
                             metadata={"package": "python", "version": version, "kind": "reference topic",
                                       "date_kind": "interpreter build date"}))
    return docs


def package_info(name: str) -> PackageInfo | None:
    """Where an installed package lives, and its distribution's version; None if not installed."""
    try:
        spec = importlib.util.find_spec(name)  # a top-level name: finds it without importing it
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations)))
    dist = (md.packages_distributions().get(name) or [name])[0]
    try:
        meta = md.metadata(dist)
        version = meta.get("Version") or "unknown"
        released = next((parse_date(meta[k]) for k in ("Release-Date", "Released", "Date") if meta.get(k)), None)
    except md.PackageNotFoundError:
        version, released = "unknown", None
    return PackageInfo(name, dist, version, released, folder)


def source_files(package: PackageInfo) -> list[Path]:
    """The package's Python files, tests and over-large generated files left out."""
    files = []
    for path in sorted(package.folder.rglob("*.py")):
        parts = path.relative_to(package.folder).parts
        if any(p in SKIPPED_DIRS or p.startswith("test_") for p in parts):
            continue
        try:
            if path.stat().st_size <= MAX_FILE_BYTES:
                files.append(path)
        except OSError:
            continue
    return files


def package_docs(package: PackageInfo, path: Path) -> list[Document]:
    """The public docstrings in one source file; an unparsable file gives none."""
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (SyntaxError, ValueError, OSError, RecursionError):
        return []
    relative = path.relative_to(package.folder).with_suffix("")
    parts = [package.name, *relative.parts]
    if parts[-1] == "__init__":
        parts.pop()
    module = ".".join(parts)
    return [_document(package, path, module, qualname, node, kind)
            for qualname, node, kind in _public_nodes(tree)]


def _public_nodes(tree: ast.Module) -> Iterator[tuple[str, ast.AST, str]]:
    if _doc(tree):
        yield "", tree, "module"
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _public(node.name) and _doc(node):
            yield node.name, node, "function"
        elif isinstance(node, ast.ClassDef) and _public(node.name):
            if _doc(node):
                yield node.name, node, "class"
            for member in node.body:
                if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)) and _public(member.name) \
                        and _doc(member):
                    yield f"{node.name}.{member.name}", member, "method"


def _public(name: str) -> bool:
    return not name.startswith("_")


def _doc(node: ast.AST) -> str | None:
    try:
        text = ast.get_docstring(node, clean=True)  # type: ignore[arg-type]
    except TypeError:
        return None
    return text if text and len(text) >= MIN_DOCSTRING else None


def _document(package: PackageInfo, path: Path, module: str, qualname: str, node: ast.AST, kind: str) -> Document:
    full = f"{module}.{qualname}" if qualname else module
    # The title drops private module names (numpy.linalg._linalg.svd reads as numpy.linalg.svd):
    # that is how users name the object.
    shown = ".".join(p for p in full.split(".") if not p.startswith("_")) or full
    signature = _signature(node) if kind in ("function", "method") else ""
    header = f"{shown}{signature}" + (f" ({kind} in {package.distribution} {package.version})")
    line = getattr(node, "lineno", 1)
    return Document(id=f"py:{full}", title=shown, source=f"{path}#L{line}" if qualname else str(path),
                    text=f"{header}\n\n{_doc(node)}", published=package.released,
                    metadata={"package": package.distribution, "version": package.version, "kind": kind,
                              "module": module})


def _signature(node: ast.AST) -> str:
    try:
        return f"({ast.unparse(node.args)})"  # type: ignore[attr-defined]
    except (AttributeError, ValueError):
        return "()"


def default_corpus(packages: tuple[str, ...] | list[str] = DEFAULT_PACKAGES,
                   progress: Callable[[str, int, int], None] | None = None) -> Iterator[Document]:
    """Every document of the default corpus, package by package (missing packages are skipped)."""
    yield from stdlib_topics()
    found = [p for p in (package_info(name) for name in packages) if p is not None]
    files = [(p, f) for p in found for f in source_files(p)]
    for i, (package, path) in enumerate(files, start=1):
        yield from package_docs(package, path)
        if progress:
            progress("reading docstrings", i, len(files))


def installed_packages() -> list[str]:
    """Every importable top-level package in the environment (for the large benchmark corpus)."""
    names = set()
    for top, dists in md.packages_distributions().items():
        if top.isidentifier() and not top.startswith("_") and top not in sys.stdlib_module_names:
            names.add(top)
    return sorted(names)
