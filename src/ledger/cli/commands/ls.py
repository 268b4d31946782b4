"""ledger ls"""

from __future__ import annotations

import argparse

from ledger.cli import output
from ledger.cli.commands._common import add_format, add_sources, scan, short_time
from ledger.core.workspace import Workspace

HELP = "list runs (HEAD plus uncommitted runs in the working tree), newest first"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-n", "--limit", type=int, default=None, help="show at most N runs")
    parser.add_argument("--where", metavar="EXPR", help="filter, e.g. \"metrics.auc > 0.9 and tags.stage = 'final'\"")
    add_sources(parser)
    add_format(parser)


def run(args: argparse.Namespace) -> int:
    ws = Workspace.find()
    heads = [(item.head, item.origin) for item in scan(ws, args, where=args.where)]
    heads.sort(key=lambda h: (str(h[0].get("started_at") or ""), h[0]["id"]), reverse=True)
    if args.limit is not None:
        heads = heads[: max(args.limit, 0)]
    metric = ws.config.primary_metric
    if args.format == "json":
        output.out(output.to_json([
            {"id": h["id"], "name": h.get("name"), "status": h.get("status"),
             "started_at": h.get("started_at"), "experiment": h.get("experiment"),
             "metrics": h.get("metrics") or {}, "origin": origin}
            for h, origin in heads
        ]))  # fmt: skip
        return 0
    headers = ["id", "name", "status", "started"] + ([metric] if metric else [])
    rows = [
        [h["id"], h.get("name"), h.get("status"), short_time(h.get("started_at"))]
        + ([(h.get("metrics") or {}).get(metric)] if metric else [])
        for h, _ in heads
    ]
    if not rows and args.format == "table":
        if args.where is not None:
            output.out("no runs match the --where expression")
        else:
            output.out("no runs yet: record one with `ledger run -- python train.py`")
        return 0
    output.out(output.table(rows, headers, args.format))
    return 0
