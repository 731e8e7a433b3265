"""The `tansuo` command. Errors are one line on stderr and an exit code."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points

from tansuo import __version__
from tansuo.cli import index, plugins, serve
from tansuo.errors import ConfigError, TansuoError
from tansuo.settings import Settings, load_settings

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
COMMANDS = "tansuo.commands"  # entry-point group of the commands outside the runtime (eval, train)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tansuo", description="Tansuo, a self-hosted search assistant.")
    parser.add_argument("--version", action="version", version=f"tansuo {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ask = sub.add_parser("ask", help="ask a question: the answer streams, then its sources and the trace")
    ask.add_argument("question", help="the question (use - to read it from stdin)")
    ask.add_argument("--profile", choices=["tools", "plugins", "agent"],
                     help="tool modes for this turn (default: TANSUO_MODEL_PROFILE)")
    ask.add_argument("--json", action="store_true", help="print every trace event as a JSON line instead")
    ask.add_argument("--quiet", action="store_true", help="no trace on stderr")
    ask.add_argument("--local", action="store_true",
                     help="run the turn in this process even when `tansuo serve` runs on the same data dir")
    ask.set_defaults(handler=_ask)

    doctor = sub.add_parser("doctor", help="print the configuration and check each part")
    doctor.set_defaults(handler=_doctor)

    plugins.add_parser(sub)
    index.add_parser(sub)
    serve.add_parsers(sub)
    for command in sorted(entry_points(group=COMMANDS), key=lambda e: e.name):  # eval, train
        command.load()(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print("tansuo: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader went away (`| head`): nothing left to tell anyone
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except TansuoError as exc:
        print(f"tansuo: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:  # last resort: one line, the traceback only on request
        if os.environ.get("TANSUO_DEBUG"):
            raise
        print(f"tansuo: internal error: {type(exc).__name__}: {exc} (set TANSUO_DEBUG=1 for details)",
              file=sys.stderr)
        return EXIT_ERROR


def _ask(args: argparse.Namespace) -> int:
    import io

    from tansuo.cli.ask import ask
    from tansuo.cli.index import progress_bars

    question = sys.stdin.read() if args.question == "-" else args.question
    if not question.strip():
        raise TansuoError("the question is empty")
    err = io.StringIO() if args.quiet else sys.stderr
    with progress_bars() as progress:
        complete = asyncio.run(ask(load_settings(), question, profile=args.profile, out=sys.stdout, err=err,
                                   as_json=args.json, progress=progress, local=args.local))
    return EXIT_OK if complete else EXIT_ERROR


def _doctor(args: argparse.Namespace) -> int:
    from tansuo.cli.doctor import run_checks

    try:
        settings = load_settings()
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"FAIL configuration: {problem}")
        return EXIT_ERROR
    _print_config(settings)
    checks = run_checks(settings)
    for check in checks:
        print(check.line())
    return EXIT_OK if all(c.ok for c in checks) else EXIT_ERROR


def _print_config(settings: Settings) -> None:
    print(f"tansuo {__version__}; effective configuration (env prefix TANSUO_):")
    for name, value in settings.public_dict().items():
        print(f"  {name} = {value}")

