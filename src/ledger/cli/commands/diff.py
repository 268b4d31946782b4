"""ledger diff"""

from __future__ import annotations

import argparse

from ledger.cli import output
from ledger.cli.commands._common import add_format
from ledger.core.workspace import Workspace
from ledger.errors import UsageError
from ledger.views.review import build as review
from ledger.views.review import markdown as review_markdown

HELP = "pull-request review: the runs HEAD adds or changes since BASE, against BASE's best"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("base", metavar="BASE", help="the branch merged into, e.g. origin/main")
    parser.add_argument("head", metavar="HEAD", nargs="?", default="HEAD", help="default: HEAD")
    parser.add_argument("--metric", "-m", help="the metric to compare (default: primary_metric)")
    direction = parser.add_mutually_exclusive_group()
    direction.add_argument("--max", dest="direction", action="store_const", const="max",
                           help="higher is better")  # fmt: skip
    direction.add_argument("--min", dest="direction", action="store_const", const="min",
                           help="lower is better")  # fmt: skip
    parser.add_argument("--fail-on-regression", action="store_true",
                        help="exit 1 when the best new run is worse than BASE's best, or when the "
                             "branch adds or changes a record that cannot be read; exit 2 when there "
                             "is no metric to judge by (no primary_metric and not exactly one metric "
                             "shared by the runs)")  # fmt: skip
    parser.add_argument("--threshold", type=float, metavar="VALUE",
                        help="compare the best new run with VALUE instead of BASE's best")  # fmt: skip
    parser.add_argument("--tolerance", type=float, default=0.0, metavar="DELTA",
                        help="how much worse than the bar still passes (default 0)")  # fmt: skip
    add_format(parser)


def run(args: argparse.Namespace) -> int:
    if args.tolerance < 0:
        raise UsageError("--tolerance must be zero or positive")
    ws = Workspace.find()
    rv = review.review(
        ws, args.base, args.head, metric=args.metric, direction=args.direction,
        threshold=args.threshold, tolerance=args.tolerance,
    )  # fmt: skip
    if args.format == "json":
        output.out(output.to_json(rv.to_dict()))
    elif args.format == "markdown":
        output.out(review_markdown.render(rv).rstrip("\n"))
    else:
        _table(rv, args.format)
    if args.fail_on_regression and rv.blocked:
        output.err(f"ledger: {review.unreadable_reason(rv)}")
        return 1
    if args.fail_on_regression and rv.metric is None and rv.entries:
        shared = f"the runs share {len(rv.shared)} metrics ({', '.join(rv.shared[:5])})" if rv.shared else (
            "the runs share no metric")  # fmt: skip
        raise UsageError(f"cannot judge a regression: no primary metric, and {shared}: "
                         "pass --metric NAME or set primary_metric in ledger.yaml")  # fmt: skip
    if args.fail_on_regression and rv.regression:
        best = rv.best_new
        assert best is not None  # a regression has a best new run
        output.err(
            f"ledger: regression: the best new run {best.id} has {rv.metric} "
            f"{output.cell(best.value)}, worse than {output.cell(rv.bar)}"
        )
        return 1
    return 0


def _table(rv: review.Review, fmt: str) -> None:
    metric = rv.metric or "metric"
    headers = ["id", "name", "status", "change", metric, "vs best", "vs baseline", "verdict",
               "warnings"]  # fmt: skip
    rows = [
        [e.id, e.record.get("name"), e.record.get("status"), e.change, e.value, e.vs_best,
         e.vs_baseline, e.verdict, "; ".join(e.warnings)]
        for e in rv.entries
    ]  # fmt: skip
    if fmt == "csv":
        output.out(output.table(rows, headers, fmt))
        return
    output.out(f"{rv.summary} ({rv.base} at {rv.base_commit[:8]} -> {rv.head})")
    if rows:
        output.out(output.table(rows, headers, fmt))
    for problem in rv.invalid:
        output.out(f"unreadable record, skipped: {problem}")
    for run_id in rv.removed:
        output.out(f"record removed on this branch: {run_id}")
