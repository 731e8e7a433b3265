"""`tansuo plugins list|new|validate|test|try|search|schema`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from tansuo.errors import TansuoError
from tansuo.settings import load_settings

EXIT_OK, EXIT_PROBLEMS = 0, 1


def add_parser(sub: argparse._SubParsersAction) -> None:
    plugins = sub.add_parser("plugins", help="list, validate and search plugins")
    cmds = plugins.add_subparsers(dest="plugins_command", required=True, metavar="SUBCOMMAND")
    cmds.add_parser("list", help="every plugin that loads, and every problem").set_defaults(handler=_list)
    validate = cmds.add_parser("validate", help="check manifest files or folders; exit 1 on problems")
    validate.add_argument("paths", nargs="+", type=Path)
    validate.set_defaults(handler=_validate)
    new = cmds.add_parser("new", help="write a working plugin to start from: a manifest and its code")
    new.add_argument("name")
    new.add_argument("--kind", choices=("python", "http", "mcp"), default="python")
    new.add_argument("--dir", type=Path, default=Path("."), help="where to write it (default: here)")
    new.add_argument("--port", type=int, default=8765, help="the http kind's local server port (default 8765)")
    new.set_defaults(handler=_new)
    test = cmds.add_parser("test", help="run every plugin's example calls (really: HTTP plugins are called); "
                                        "exit 1 when one fails")
    test.add_argument("paths", nargs="*", type=Path, help="manifest files or folders (default: the configured "
                                                          "plugin folders and packages)")
    test.set_defaults(handler=_test)
    try_ = cmds.add_parser("try", help="what a request does with one plugin: index rank, offered or not, the "
                                       "model's call, its result, the answer (one real turn)")
    try_.add_argument("name")
    try_.add_argument("request")
    try_.set_defaults(handler=_try)
    search = cmds.add_parser("search", help="the plugins that best fit a request")
    search.add_argument("request")
    search.add_argument("-k", type=int, default=5)
    search.set_defaults(handler=_search)
    cmds.add_parser("schema", help="print the manifest JSON Schema").set_defaults(handler=_schema)


def _schema(args: argparse.Namespace) -> int:
    from tansuo.plugins.manifest import manifest_schema

    print(json.dumps(manifest_schema(), indent=2))
    return EXIT_OK


def _validate(args: argparse.Namespace) -> int:
    from tansuo.plugins.catalog import load_report

    missing = [p for p in args.paths if not p.exists()]
    if missing:
        raise TansuoError(f"no such file or folder: {', '.join(map(str, missing))}")
    report = asyncio.run(load_report(load_settings(), list(args.paths), check_entries=True, builtin=False))
    for name, plugin in sorted(report.plugins.items()):
        code = "  (python: its code runs inside the service, with its rights)" if plugin.kind == "python" else ""
        print(f"ok   {name} ({plugin.kind}) {plugin.source}{code}")
    for problem in report.problems:
        print(f"FAIL {problem}")
    if not report.plugins and not report.problems:
        raise TansuoError(f"no manifest files (*.yaml, *.yml, *.json) in {', '.join(map(str, args.paths))}")
    print(f"{len(report.plugins)} plugin(s) valid, {len(report.problems)} problem(s)")
    return EXIT_PROBLEMS if report.problems else EXIT_OK


def _new(args: argparse.Namespace) -> int:
    from tansuo.cli.plugin_new import new_plugin

    written = new_plugin(args.name, args.kind, args.dir, port=args.port)
    for path in written:
        print(f"wrote {path}")
    folder = args.dir
    steps = {"python": f"tansuo plugins test {folder}",
             "http": f"python {written[1]} {args.port} &   then:   "
                     f"TANSUO_PLUGIN_ALLOW_PRIVATE_HOSTS=127.0.0.1 tansuo plugins test {folder}",
             "mcp": f"tansuo plugins test {folder}"}
    print(f"next: edit them, then: {steps[args.kind]}; "
          f"to use it: TANSUO_PLUGIN_DIRS={folder.resolve()} (docs/tools-and-plugins.md)")
    return EXIT_OK


def _try(args: argparse.Namespace) -> int:
    from tansuo.cli.plugin_try import try_plugin

    called = asyncio.run(try_plugin(load_settings(), args.name, args.request, sys.stdout))
    return EXIT_OK if called else EXIT_PROBLEMS


def _test(args: argparse.Namespace) -> int:
    """Each example call through the plugin's own runner (isolated, with its timeout), as the agent
    would make it; a manifest that does not load counts as a failure too."""
    from tansuo.plugins.catalog import load_report

    missing = [p for p in args.paths if not p.exists()]
    if missing:
        raise TansuoError(f"no such file or folder: {', '.join(map(str, missing))}")
    paths = list(args.paths) or None
    report = asyncio.run(load_report(load_settings(), paths, check_entries=True, builtin=False))
    failed = [f"FAIL {problem}" for problem in report.problems]
    calls = 0
    for name, plugin in sorted(report.plugins.items()):
        if not plugin.spec.example_calls:
            print(f"--   {name}: no example calls to run")
        for i, example in enumerate(plugin.spec.example_calls):
            calls += 1
            result = asyncio.run(plugin.call(example.arguments))
            line = f"{name} example_calls[{i}] ({example.request!r})"
            if result.ok:
                print(f"ok   {line}: {json.dumps(result.content, default=str, ensure_ascii=False)[:120]}")
            else:
                failed.append(f"FAIL {line}: {result.error}")
    for line in failed:
        print(line)
    print(f"{calls} example call(s) in {len(report.plugins)} plugin(s); {len(failed)} failure(s)")
    return EXIT_PROBLEMS if failed else EXIT_OK


def _list(args: argparse.Namespace) -> int:
    from tansuo.plugins.catalog import load_report

    report = asyncio.run(load_report(load_settings()))
    for name, plugin in sorted(report.plugins.items()):
        print(f"{name:28} {plugin.kind:6} {plugin.spec.description}")
    for problem in report.problems:
        print(f"problem: {problem}", file=sys.stderr)
    return EXIT_OK


def _search(args: argparse.Namespace) -> int:
    from tansuo.plugins.catalog import load_catalog

    def progress(done: int, total: int) -> None:
        print(f"\rindexing plugins {done}/{total}", end="" if done < total else "\n", file=sys.stderr)

    catalog = asyncio.run(load_catalog(load_settings(), progress=progress))
    result = catalog.index.search(args.request, k=args.k)
    for hit in result.hits:
        print(f"{hit.score:.3f}  {hit.name}  {catalog.report.plugins[hit.name].spec.description}")
    if result.abstained:
        print(f"no plugin fits (best score below {catalog.index.threshold})")
    return EXIT_OK
