"""ledger report"""

from __future__ import annotations

import argparse
from pathlib import Path

from ledger.cli import output
from ledger.cli.commands._common import load_records
from ledger.core.workspace import Workspace
from ledger.read.filter import compile_filter
from ledger.views.report import build as report

HELP = "write the client report: one self-contained HTML file, or Markdown with its images"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o",
        "--output",
        default="report.html",
        metavar="FILE",
        help="report.html (self-contained) or report.md (images in report_files/); default report.html",
    )
    parser.add_argument(
        "--where",
        metavar="EXPR",
        help="only the runs matching a filter, e.g. \"status = 'finished' and params.model = 'xgb'\"",
    )
    parser.add_argument("--metric", "-m", help="the metric to rank by (default: ledger.yaml's primary_metric)")
    parser.add_argument("--title", help="the report's title (default: '<experiment> — experiment report')")


def run(args: argparse.Namespace) -> int:
    ws = Workspace.find()
    report.check_output(Path(args.output))  # fail before the work
    everything = load_records(ws)
    items = everything
    if args.where:
        where = compile_filter(args.where)
        items = [item for item in everything if where(item.record)]
    built = report.build(ws, items, context=everything, metric=args.metric, title=args.title)
    written = report.write(built, Path(args.output))
    output.out(f"wrote {written[0]} ({len(built.runs)} runs, {len(built.images)} charts)")
    for extra in written[1:]:
        output.out(f"wrote {extra}")
    return 0
