"""ledger check"""

from __future__ import annotations

import argparse

from ledger.cli import output
from ledger.core.workspace import Workspace
from ledger.errors import UsageError
from ledger.gates import check

HELP = "validate records (schema and safety rules): staged, in a revision range, or files"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--staged", action="store_true",
                        help="the records staged for the next commit (a pre-commit hook)")  # fmt: skip
    source.add_argument("--rev", metavar="A..B",
                        help="records added or changed in A..B (CI), or all records at one revision")  # fmt: skip
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="record files or folders (default: experiments/)")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    if args.paths and (args.staged or args.rev):
        raise UsageError("give paths, --staged or --rev, not several")
    ws = Workspace.find()
    if args.staged:
        result = check.check_staged(ws)
    elif args.rev:
        result = check.check_rev(ws, args.rev)
    else:
        result = check.check_paths(ws, args.paths)
    return report(result)


def report(result: check.Result) -> int:
    """Print one line per problem; the exit code (1 when any)."""
    for problem in result.problems:
        output.out(str(problem))
    if result.ok:
        output.err(f"ledger: {result.checked} record file(s) checked, no problems")
        return 0
    files = len({p.path for p in result.problems})
    output.err(
        f"ledger: {len(result.problems)} problem(s) in {files} file(s): fix or remove them "
        "(records are written by ledger, not by hand)"
    )
    return 1
