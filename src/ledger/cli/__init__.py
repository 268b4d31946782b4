"""Command-line entry: argument parsing and dispatch. Commands live in `cli/commands/`,
one module each, with `HELP`, `add_arguments(parser)` and `run(args) -> int`."""

from __future__ import annotations

import argparse
import importlib
import keyword
import os
import sys
import traceback
import warnings
from collections.abc import Sequence
from typing import Any

from ledger.cli import output
from ledger.errors import LedgerError

# The order here is the order of `ledger --help`.
COMMANDS = (
    "init", "run", "sweep", "status", "commit", "push",
    "ls", "show", "top", "compare", "diff", "plot", "report",
    "select", "registry", "baseline", "reproduce", "env", "artifact",
    "check", "hook", "ci", "import",
)  # fmt: skip


def _show_warning(message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
    output.err(f"ledger: warning: {message}")


def build_parser() -> argparse.ArgumentParser:
    from ledger import __version__

    parser = argparse.ArgumentParser(
        prog="ledger",
        description="A git-native experiment ledger: every run is a YAML record in your repository.",
    )
    parser.add_argument("--version", action="version", version=f"ledger {__version__}")
    parser.add_argument("-C", dest="directory", metavar="DIR", help="run as if started in DIR")
    parser.add_argument("--traceback", action="store_true", help="show the traceback of an error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", help="what to do (ledger COMMAND --help)")
    sub.required = True
    for name in COMMANDS:
        module_name = name.replace("-", "_")
        if keyword.iskeyword(module_name):
            module_name += "_"  # `ledger import` lives in commands/import_.py
        module = importlib.import_module(f"ledger.cli.commands.{module_name}")
        command = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(handler=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the exit code: 0 ok, 1 ledger error, 2 usage, 130 interrupted."""
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.directory:
        try:
            os.chdir(args.directory)
        except OSError as exc:
            output.err(f"ledger: cannot use -C {args.directory}: {exc.strerror}")
            return 2
    previous = warnings.showwarning
    warnings.showwarning = _show_warning
    try:
        return int(args.handler(args))
    except LedgerError as exc:
        if args.traceback:
            traceback.print_exc()
        output.err(f"ledger: error: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        output.err("ledger: interrupted")
        return 130
    except BrokenPipeError:
        sys.stderr.close()
        return 0
    except Exception as exc:  # noqa: BLE001 - a bug: say so in one line, details on request
        if args.traceback:
            traceback.print_exc()
        output.err(
            f"ledger: internal error: {type(exc).__name__}: {exc} "
            "(rerun with --traceback and report it)"
        )
        return 1
    finally:
        warnings.showwarning = previous


def console_main() -> None:
    raise SystemExit(main())
