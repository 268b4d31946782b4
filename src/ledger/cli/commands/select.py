"""ledger select"""

from __future__ import annotations

import argparse

from ledger import registry
from ledger.cli import output
from ledger.cli.commands._common import load_records
from ledger.core.workspace import Workspace

HELP = "record the chosen model: a reviewable decision file in git plus GTO-compatible tags"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", metavar="ID", help="the chosen run (id, unique prefix or name)")
    parser.add_argument("--rationale", "-r", required=True, metavar="TEXT", help="why this run was chosen")
    parser.add_argument("--model", metavar="NAME", help="model name (default: the experiment name, else 'model')")
    parser.add_argument("--stage", metavar="STAGE", help="assign a stage too, e.g. staging or prod")
    parser.add_argument(
        "--bump",
        choices=registry.BUMPS,
        default="minor",
        help="which part of the version to bump after the first (default: minor)",
    )
    parser.add_argument("--metric", "-m", help="the deciding metric (default: ledger.yaml's primary_metric)")


def run(args: argparse.Namespace) -> int:
    ws = Workspace.find()
    items = load_records(ws)
    done = registry.select(
        ws,
        items,
        args.run,
        rationale=args.rationale,
        model=args.model,
        stage=args.stage,
        bump=args.bump,
        metric=args.metric,
    )
    d = done.decision
    output.out(f"selected run {d['run']['id']} ({d['run']['name']}) as {d['model']} {d['version']}")
    metric = d.get("metric")
    if metric and metric.get("value") is not None:
        line = f"  {metric['name']} = {metric['value']:.6g}"
        if d.get("baseline") and d["baseline"].get("delta") is not None:
            line += f" ({d['baseline']['delta']:+.4g} vs baseline {d['baseline']['name']})"
        output.out(line)
    output.out(f"  beat {d['alternatives_total']} other finished run(s)")
    output.out(f"  decision: {done.path} (commit {done.commit[:10]})")
    output.out(f"  tags: {', '.join(done.tags)} (share them with `git push --tags`)")
    return 0
