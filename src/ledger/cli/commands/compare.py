"""ledger compare"""

from __future__ import annotations

import argparse

from ledger.cli import output
from ledger.cli.commands._common import add_format, add_sources, scan
from ledger.core.workspace import Workspace
from ledger.errors import UsageError
from ledger.read import api, query

HELP = "compare runs side by side: differing params, metrics, data, env and code first"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("runs", nargs="+", metavar="ID", help="two or more runs (id, unique prefix or name)")
    parser.add_argument("--diff-only", action="store_true", help="leave out the fields that are the same")
    add_sources(parser)
    add_format(parser)


def run(args: argparse.Namespace) -> int:
    if len(args.runs) < 2:
        raise UsageError("compare needs two or more runs: ledger compare ID ID [ID ...]")
    ws = Workspace.find()
    items = api.candidates(scan(ws, args), args.runs)
    chosen = [api.find(items, ref) for ref in args.runs]
    records = [item.record for item in chosen]
    rows = query.compare(records)
    if args.diff_only:
        rows = [row for row in rows if row[2]]
    ids = [rec["id"] for rec in records]
    if args.format == "json":
        output.out(output.to_json({
            "runs": ids,
            "fields": [{"field": name, "values": values, "differs": differs}
                       for name, values, differs in rows],
        }))  # fmt: skip
        return 0
    headers = ["field", *ids, "differs"] if args.format != "table" else ["", "field", *ids]
    if args.format == "table":
        table_rows = [["*" if differs else "", name, *values] for name, values, differs in rows]
    else:
        table_rows = [[name, *values, "yes" if differs else ""] for name, values, differs in rows]
    output.out(output.table(table_rows, headers, args.format))
    return 0
