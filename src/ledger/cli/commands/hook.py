"""ledger hook"""

from __future__ import annotations

import argparse

from ledger.cli import output
from ledger.cli.commands.check import report
from ledger.core.workspace import Workspace
from ledger.gates import check, guard, hooks

HELP = "install the git pre-commit hook (record checks + the unlogged-code guard), or run it"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", help="install, or run (what the hook runs)")
    sub.required = True
    install = sub.add_parser("install", help="write .git/hooks/pre-commit (core.hooksPath honoured)",
                             description="write the pre-commit hook; an existing hook is kept and "
                             "run first unless --force")  # fmt: skip
    install.add_argument("--force", action="store_true", help="replace an existing hook")
    run_parser = sub.add_parser("run", help="what the hook runs: `ledger check --staged` and the guard",
                                description="check the staged records, then the unlogged-code guard")  # fmt: skip
    run_parser.add_argument("--no-check", dest="check", action="store_false",
                            help="skip the record checks")  # fmt: skip
    run_parser.add_argument("--no-guard", dest="guard", action="store_false",
                            help="skip the unlogged-code guard")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    ws = Workspace.find()
    if args.action == "install":
        done = hooks.install(ws, force=args.force)
        verb = "updated" if done.updated else "installed"
        output.out(f"{verb} the pre-commit hook: {done.path}")
        if done.chained:
            output.out(f"your earlier hook was kept as {done.chained.name} and runs first")
        if done.replaced:
            output.out("the earlier hook was replaced (--force)")
        if not ws.config.guard:
            output.out("tip: list model code in ledger.yaml `guard:` to refuse commits of unrun code")
        return 0
    code = 0
    if args.check:
        result = check.check_staged(ws)
        if not result.ok:
            code = report(result)
    if args.guard and code == 0:
        verdict = guard.check(ws)
        if verdict.run_id:
            output.err(f"ledger: guarded code matches run {verdict.run_id}")
    return code
