"""ledger baseline"""

from __future__ import annotations

import argparse

from ledger import registry
from ledger.cli import output
from ledger.cli.commands._common import load_records
from ledger.core.workspace import Workspace
from ledger.errors import UsageError
from ledger.read import api

HELP = "show or set the baseline run (ledger.yaml's `baseline:`)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", nargs="?", metavar="ID", help="the new baseline run (id, prefix or name)")
    parser.add_argument("--clear", action="store_true", help="remove the baseline")


def run(args: argparse.Namespace) -> int:
    ws = Workspace.find()
    if args.clear and args.run:
        raise UsageError("give a run or --clear, not both")
    items = load_records(ws)
    if args.clear:
        registry.set_baseline(ws, None)
        output.out("baseline cleared in ledger.yaml")
        return 0
    if not args.run:
        current = registry.resolve_baseline(ws, items)
        if current is None:
            output.out("no baseline: set one with `ledger baseline ID`")
        else:
            output.out(f"{current.record['id']}  {current.record.get('name')}")
        return 0
    chosen = api.find(items, args.run)
    registry.set_baseline(ws, chosen.record["id"])
    output.out(f"baseline is now {chosen.record['id']} ({chosen.record.get('name')}): commit ledger.yaml to share it")
    return 0
