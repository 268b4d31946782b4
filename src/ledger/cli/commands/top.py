"""ledger top"""

from __future__ import annotations

import argparse

from ledger import query
from ledger.cli import output
from ledger.cli.commands._common import add_format, load_records, lookup
from ledger.errors import UsageError
from ledger.workspace import Workspace

HELP = "leaderboard: the best runs by a metric"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--metric", "-m", help="the metric to rank by (default: ledger.yaml's primary_metric)")
    parser.add_argument("-n", type=int, default=10, help="how many runs (default 10)")
    direction = parser.add_mutually_exclusive_group()
    direction.add_argument("--max", dest="direction", action="store_const", const="max", help="higher is better")
    direction.add_argument("--min", dest="direction", action="store_const", const="min", help="lower is better")
    parser.add_argument("--columns", nargs="*", default=[], metavar="COL",
                        help="extra columns, e.g. params.lr metrics.f1")  # fmt: skip
    add_format(parser)


def run(args: argparse.Namespace) -> int:
    ws = Workspace.find()
    metric = args.metric or ws.config.primary_metric
    if not metric:
        raise UsageError("which metric? pass --metric NAME or set primary_metric in ledger.yaml")
    direction = args.direction or ws.config.direction(metric)
    records = [item.record for item in load_records(ws)]
    ranked = query.leaderboard(records, metric, direction, args.n)
    if args.format == "json":
        output.out(output.to_json([
            {"rank": i, "id": r["id"], "name": r.get("name"), "status": r.get("status"),
             "metrics": r.get("metrics") or {}, "params": r.get("params") or {}}
            for i, r in enumerate(ranked, 1)
        ]))  # fmt: skip
        return 0
    headers = ["rank", "id", "name", "status", metric, *args.columns]
    rows = [
        [i, r["id"], r.get("name"), r.get("status"), query.metric_value(r, metric)]
        + [lookup(r, c) for c in args.columns]
        for i, r in enumerate(ranked, 1)
    ]
    output.out(output.table(rows, headers, args.format))
    return 0
