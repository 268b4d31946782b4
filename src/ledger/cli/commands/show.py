"""ledger show"""

from __future__ import annotations

import argparse

from ledger.cli import output
from ledger.cli.commands._common import add_sources, scan
from ledger.core import yamlio
from ledger.core.workspace import Workspace
from ledger.read import api

HELP = "show one run's record (by id, unique id prefix or name)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", metavar="ID", help="run id, unique prefix of one, or run name")
    parser.add_argument("--format", choices=("yaml", "json"), default="yaml", help="output format")
    add_sources(parser)


def run(args: argparse.Namespace) -> int:
    ws = Workspace.find()
    item = api.find(api.candidates(scan(ws, args), [args.run]), args.run)
    if args.format == "json":
        output.out(output.to_json(item.record))
    else:
        where = item.path if item.commit is None else f"{item.origin}:{item.path}"
        output.out(f"# {where}")
        output.out(yamlio.dumps(item.record).rstrip("\n"))
    return 0
