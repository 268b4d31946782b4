"""ledger registry"""

from __future__ import annotations

import argparse

from ledger import gitstore, registry
from ledger.cli import output
from ledger.cli.commands._common import add_format
from ledger.core.workspace import Workspace

HELP = "models, their versions and stages, and the decision history"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", nargs="?", help="only this model")
    add_format(parser)


def run(args: argparse.Namespace) -> int:
    ws = Workspace.find()
    decisions = [d for d in registry.load_decisions(ws) if not args.model or d["model"] == args.model]
    tags = {t.name for t in gitstore.list_tags(ws.root)}
    models = registry.models(decisions)
    if args.format == "json":
        output.out(output.to_json({"models": models, "decisions": decisions}))
        return 0
    if not decisions:
        if args.format == "table":
            output.out("no model selected yet: `ledger select ID --rationale TEXT` records one")
        return 0
    if args.format == "table":
        rows = [
            [
                m["model"],
                m["latest"]["version"],
                m["latest"]["name"],
                ", ".join(f"{s}={v}" for s, v in m["stages"].items()) or "-",
                len(m["versions"]),
            ]
            for m in models
        ]
        output.out(output.table(rows, ["model", "latest", "run", "stages", "versions"], "table"))
        output.out("")
    rows = [
        [
            d["model"],
            d["version"],
            d.get("stage") or "",
            d["run"]["id"],
            d["run"]["name"],
            (d.get("metric") or {}).get("value"),
            d["selected_at"][:16].replace("T", " "),
            d["selected_by"].get("name") or "",
            d["rationale"].strip().split("\n", 1)[0][:80],
            " ".join(x if x in tags else f"{x} (missing)" for x in d.get("tags") or []),
        ]
        for d in decisions
    ]
    headers = ["model", "version", "stage", "run", "name", "value", "selected", "by", "rationale", "tags"]
    output.out(output.table(rows, headers, args.format))
    return 0
