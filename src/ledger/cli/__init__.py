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
    "check", "hook", "ci", "import", "ui",
)  # fmt: skip


def _show_warning(message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
    output.err(f"ledger: warning: {message}")


def _module_name(command: str) -> str:
    name = command.replace("-", "_")
    return name + "_" if keyword.iskeyword(name) else name  # `import` lives in import_.py


def _requested(argv: Sequence[str]) -> str | None:
    """The command named in argv (skipping global options), if it is a known one."""
    words = iter(argv)
    for word in words:
        if word == "-C":
            next(words, None)
        elif not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; with `only`, just that command's module is imported (so a
    command starts without loading the other twenty-odd), the others are bare names."""
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
        if only is not None and name != only:
            sub.add_parser(name)
            continue
        module = importlib.import_module(f"ledger.cli.commands.{_module_name(name)}")
        command = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(handler=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the exit code: 0 ok, 1 ledger error, 2 usage, 130 interrupted."""
    words = list(argv) if argv is not None else sys.argv[1:]
    parser = build_parser(only=_requested(words))
    try:
        args = parser.parse_args(words)
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
        output.err(f"ledger: internal error: {type(exc).__name__}: {exc} (rerun with --traceback and report it)")
        return 3
    finally:
        warnings.showwarning = previous


def console_main() -> None:
    raise SystemExit(main())
