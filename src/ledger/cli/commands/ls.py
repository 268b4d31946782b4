"""ledger ls"""

from __future__ import annotations

import argparse

from ledger.cli import output
from ledger.cli.commands._common import add_format, load_records, short_time
from ledger.workspace import Workspace

HELP = "list runs (HEAD plus uncommitted runs in the working tree), newest first"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-n", "--limit", type=int, default=None, help="show at most N runs")
    add_format(parser)


def run(args: argparse.Namespace) -> int:
    ws = Workspace.find()
    records = [item.record for item in load_records(ws)]
    records.sort(key=lambda r: (r.get("started_at") or "", r["id"]), reverse=True)
    if args.limit is not None:
        records = records[: args.limit]
    metric = ws.config.primary_metric
    if args.format == "json":
        output.out(output.to_json([
            {"id": r["id"], "name": r.get("name"), "status": r.get("status"),
             "started_at": r.get("started_at"), "experiment": r.get("experiment"),
             "metrics": r.get("metrics") or {}}
            for r in records
        ]))  # fmt: skip
        return 0
    headers = ["id", "name", "status", "started"] + ([metric] if metric else [])
    rows = [
        [r["id"], r.get("name"), r.get("status"), short_time(r.get("started_at"))]
        + ([(r.get("metrics") or {}).get(metric)] if metric else [])
        for r in records
    ]
    if not rows and args.format == "table":
        output.out("no runs yet: record one with `ledger run -- python train.py`")
        return 0
    output.out(output.table(rows, headers, args.format))
    return 0
