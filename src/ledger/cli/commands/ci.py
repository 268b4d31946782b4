"""ledger ci"""

from __future__ import annotations

import argparse

from ledger.cli import output
from ledger.core.workspace import Workspace
from ledger.gates import ci as ci_template

HELP = "write a CI workflow that checks records and posts `ledger diff` on pull requests"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="forge", metavar="FORGE", help="the forge to write a workflow for")
    sub.required = True
    github = sub.add_parser("github", help=f"write {ci_template.WORKFLOW_PATH} (GitHub Actions)",
                            description=f"write {ci_template.WORKFLOW_PATH}")  # fmt: skip
    github.add_argument("--force", action="store_true", help="replace an existing workflow file")
    github.add_argument("--fail-on-regression", action="store_true",
                        help="also fail the check when the best new run is worse than the base's")  # fmt: skip
    github.add_argument("--python", default="3.11", help="the Python version CI uses (default 3.11)")
    github.add_argument("--stdout", action="store_true", help="print the workflow instead of writing it")


def run(args: argparse.Namespace) -> int:
    if args.stdout:
        text = ci_template.render(fail_on_regression=args.fail_on_regression, python=args.python)
        output.out(text.rstrip("\n"))
        return 0
    ws = Workspace.find()
    path = ci_template.write(ws, force=args.force, fail_on_regression=args.fail_on_regression, python=args.python)
    output.out(f"wrote {path.relative_to(ws.root).as_posix()}: commit it to review experiments in pull requests")
    return 0
