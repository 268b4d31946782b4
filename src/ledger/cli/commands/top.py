"""ledger top"""

from __future__ import annotations

import argparse
from typing import Any

from ledger.cli import output
from ledger.cli.commands._common import add_format, add_sources, lookup, selection
from ledger.core.workspace import Workspace
from ledger.errors import UsageError
from ledger.read import api, query

HELP = "leaderboard: the best runs by a metric"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--metric", "-m", help="the metric to rank by (default: ledger.yaml's primary_metric)")
    parser.add_argument("-n", type=int, default=10, help="how many runs (default 10)")
    parser.add_argument("--where", metavar="EXPR", help="filter, e.g. \"params.model = 'xgb' and status = 'finished'\"")
    direction = parser.add_mutually_exclusive_group()
    direction.add_argument("--max", dest="direction", action="store_const", const="max", help="higher is better")
    direction.add_argument("--min", dest="direction", action="store_const", const="min", help="lower is better")
    parser.add_argument("--columns", nargs="*", default=[], metavar="COL",
                        help="extra columns, e.g. params.lr metrics.f1")  # fmt: skip
    add_sources(parser)
    add_format(parser)


def entry(rank: int, rec: dict[str, Any]) -> dict[str, Any]:
    """One element of `ledger top --format json` (a stable contract: docs/query.md)."""
    return {"rank": rank, "id": rec["id"], "name": rec.get("name"), "status": rec.get("status"),
            "metrics": rec.get("metrics") or {}, "params": rec.get("params") or {}}  # fmt: skip


def run(args: argparse.Namespace) -> int:
    ws = Workspace.find()
    metric = args.metric or ws.config.primary_metric
    if not metric:
        raise UsageError("which metric? pass --metric NAME or set primary_metric in ledger.yaml")
    if args.n < 1:
        raise UsageError("-n must be 1 or more")
    progress = output.Progress()
    try:
        records = list(api.leaderboard(ws, metric, args.n, args.where, args.direction, selection(args),
                                       columns=args.columns, progress=progress))  # fmt: skip
    finally:
        progress.finish()
    if args.format == "json":
        output.out(output.to_json([entry(i, r) for i, r in enumerate(records, 1)]))
        return 0
    headers = ["rank", "id", "name", "status", metric, *args.columns]
    rows = [
        [i, r["id"], r.get("name"), r.get("status"), query.metric_value(r, metric)]
        + [lookup(r, c) for c in args.columns]
        for i, r in enumerate(records, 1)
    ]
    if not rows and args.format == "table":
        output.out(f"no runs with {metric} match: record one with `ledger run -- python train.py`")
        return 0
    output.out(output.table(rows, headers, args.format))
    return 0
