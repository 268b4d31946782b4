"""ledger import"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.cli import output

if TYPE_CHECKING:
    from ledger.importers.mlflow_records import Progress
from ledger.core.workspace import Workspace

HELP = "import runs from another tracker (ledger import mlflow mlruns/ | sqlite:///mlflow.db)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("tracker", choices=["mlflow"], help="the tracker to import from")
    parser.add_argument("location", metavar="PATH_OR_URI",
                        help="an MLflow file store folder (mlruns/) or sqlite:///path/mlflow.db")  # fmt: skip


def _progress() -> Progress | None:
    """Progress lines on a terminal (about every 10%), nothing when piped."""
    if not sys.stderr.isatty():
        return None
    shown = [-1]

    def report(done: int, total: int) -> None:
        tenth = done * 10 // max(total, 1)
        if tenth != shown[0] or done == total:
            shown[0] = tenth
            output.err(f"ledger: read {done}/{total} runs")

    return report


def run(args: argparse.Namespace) -> int:
    from ledger.importers.mlflow_records import import_mlflow  # only this command needs it

    ws = Workspace.find()
    summary = import_mlflow(ws, args.location, Path.cwd(), _progress())
    total = len(summary.imported) + sum(summary.skipped.values())
    output.out(f"imported {len(summary.imported)} of {total} runs from {summary.source}")
    for reason, count in sorted(summary.skipped.items()):
        output.out(f"skipped {count}: {reason}")
    if summary.changed:
        output.out(f"changed {len(summary.changed)} names or values a record cannot keep as they were:")
        for change in summary.changed:
            output.out(f"  {change}")
    if summary.commit:
        output.out(f"committed {summary.commit[:8]}")
    elif summary.pending and summary.imported:
        output.out(f"not committed: {summary.pending}")
    return 0
