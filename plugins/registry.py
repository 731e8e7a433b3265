"""Finding, validating and calling plugins.

Loading never stops at a bad manifest: every problem is collected with its file and
field, and the good manifests load. Calls validate arguments against the
manifest's schema and come back as `ToolResult`s (errors included) for the model.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.metadata
import importlib.util
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tansuo.plugins.http_runtime import HostPolicy, call_http
from tansuo.plugins.manifest import ManifestProblem, PluginManifest, load_manifest
from tansuo.plugins.mcp_runtime import mcp_plugins
from tansuo.plugins.plugin import Plugin, Runner
from tansuo.plugins.tool import ToolError
from tansuo.plugins.toolbox import run_isolated

ENTRY_POINT_GROUP = "tansuo.plugins"
BUILTIN_DIR = Path(__file__).parent / "manifests"
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass
class LoadReport:
    plugins: dict[str, Plugin] = field(default_factory=dict)
    problems: list[ManifestProblem] = field(default_factory=list)

    def add(self, plugin: Plugin, reserved: set[str]) -> None:
        name = plugin.spec.name
        if name in reserved:
            self.problems.append(ManifestProblem(plugin.source, "name", f"{name!r} is a built-in tool's name"))
        elif name in self.plugins:
            first = self.plugins[name].source
            self.problems.append(ManifestProblem(plugin.source, "name", f"duplicate name {name!r} (first in {first})"))
        else:
            self.plugins[name] = plugin


def discover(dirs: Iterable[Path], *, builtin: bool = True, entry_points: bool = True) -> list[Path]:
    """Manifest files: the built-in folder, the given directories (or files), installed packages."""
    roots = ([BUILTIN_DIR] if builtin else []) + list(dirs)
    if entry_points:
        roots += _entry_point_paths()
    files: list[Path] = []
    for root in roots:
        if root.is_file():
            files.append(root)
        elif root.is_dir():
            files += sorted(p for p in root.rglob("*") if p.suffix in MANIFEST_SUFFIXES and p.is_file())
    return files


def _entry_point_paths() -> list[Path]:
    """Each `tansuo.plugins` entry point names a function returning manifest files or folders."""
    paths = []
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            paths += [Path(p) for p in ep.load()()]
        except Exception as exc:  # a broken package must not stop the others
            print(f"plugin package {ep.value}: cannot list manifests: {exc}", file=sys.stderr)
    return paths


async def load_plugins(files: Iterable[Path], *, policy: HostPolicy, reserved: Iterable[str] = (),
                       check_entries: bool = False, system_entries: bool = False) -> LoadReport:
    """Validate every manifest; a bad one is reported and skipped.

    `check_entries` also imports python plugins' entry points (the validate command
    does; the service imports them lazily at first call). A python plugin is code that runs in the
    service's process: its entry may not be a system module (`SYSTEM_MODULES`: `os:system` validated
    and ran) unless the operator sets `system_entries`.
    """
    report, reserved_names = LoadReport(), set(reserved)
    for path in files:
        manifest, problems = load_manifest(path)
        report.problems += problems
        if manifest is None:
            continue
        try:
            if manifest.kind == "python" and not system_entries:
                refuse_system_entry(manifest.python.entry, str(path))  # type: ignore[union-attr]
            for plugin in await _plugins_of(manifest, str(path), policy, check_entries):
                report.add(plugin, reserved_names)
        except ManifestProblem as problem:
            report.problems.append(problem)
    return report


async def _plugins_of(manifest: PluginManifest, source: str, policy: HostPolicy,
                      check_entries: bool) -> list[Plugin]:
    if manifest.kind == "python":
        entry = manifest.python.entry  # type: ignore[union-attr]
        if check_entries:
            resolve_entry(entry, source)
        elif importlib.util.find_spec(entry.split(":")[0].split(".")[0]) is None and _beside(entry, source) is None:
            raise ManifestProblem(source, "python.entry", f"module of {entry!r} is neither installed nor "
                                                          f"beside the manifest")
        return [Plugin(manifest.to_spec(), source, "python", _python_runner(entry, source, manifest.timeout_s))]
    if manifest.kind == "http":
        runtime, hosts, timeout = manifest.http, manifest.annotations.hosts, manifest.timeout_s

        async def run_http(arguments: dict[str, Any]) -> Any:
            return await call_http(runtime, hosts, arguments, policy=policy, timeout_s=timeout)  # type: ignore[arg-type]

        return [Plugin(manifest.to_spec(), source, "http", run_http)]
    return await mcp_plugins(manifest, source)


# Modules whose functions run programs, open files or sockets, load code or end the process: a
# manifest that names one is refused (TANSUO_PLUGIN_SYSTEM_ENTRIES=true allows it).
SYSTEM_MODULES = frozenset({
    "builtins", "os", "posix", "nt", "sys", "subprocess", "shutil", "importlib", "runpy", "code", "codeop",
    "pty", "socket", "ssl", "ctypes", "multiprocessing", "concurrent", "threading", "asyncio", "signal", "pickle",
    "marshal", "shelve", "io", "pathlib", "tempfile", "glob", "fileinput", "webbrowser", "urllib", "http",
    "ftplib", "smtplib", "telnetlib", "xmlrpc", "socketserver", "sqlite3", "dbm", "gc", "inspect", "types",
    "pdb", "bdb", "trace", "site", "sysconfig", "zipimport", "pkgutil", "tarfile", "zipfile", "platform",
})


def refuse_system_entry(entry: str, source: str) -> None:
    top = entry.split(":")[0].split(".")[0]
    if top in SYSTEM_MODULES or top.startswith("_"):
        raise ManifestProblem(source, "python.entry", f"{entry!r} is in the system module {top!r}: a python "
                              "plugin runs in the service's process, so system modules are refused "
                              "(TANSUO_PLUGIN_SYSTEM_ENTRIES=true allows them)")


def resolve_entry(entry: str, source: str) -> Callable[..., Any]:
    """The entry's function: its module installed, else a file beside the manifest (`name.py` for
    `name:function`, how `tansuo plugins new` lays a python plugin out; never in place of an
    installed module of that name)."""
    module_name, _, attr = entry.partition(":")
    try:
        module = sys.modules.get(module_name)
        if module is None and importlib.util.find_spec(module_name.split(".")[0]) is None:
            module = _import_beside(module_name, _beside(entry, source))
        module = module or importlib.import_module(module_name)
    except Exception as exc:
        raise ManifestProblem(source, "python.entry", f"cannot import {module_name!r}: {exc}") from None
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise ManifestProblem(source, "python.entry", f"{module_name!r} has no function {attr!r}")
    return fn


def _beside(entry: str, source: str) -> Path | None:
    """`name.py` in the manifest's folder, for an entry `name:function` (a dotted module is a package's)."""
    module_name = entry.partition(":")[0]
    path = Path(source).parent / f"{module_name}.py"
    return path if "." not in module_name and path.is_file() else None


def _import_beside(module_name: str, path: Path | None) -> Any:
    if path is None:
        return None
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    sys.modules[module_name] = module
    return module


def _python_runner(entry: str, source: str, timeout_s: float) -> Runner:
    async def run(arguments: dict[str, Any]) -> Any:
        try:
            fn = resolve_entry(entry, source)
        except ManifestProblem as problem:
            raise ToolError(f"plugin cannot be loaded: {problem.message}") from None
        ok, value = await asyncio.to_thread(run_isolated, fn, arguments, timeout_s)
        if not ok:
            raise ToolError(value)
        return value

    return run
