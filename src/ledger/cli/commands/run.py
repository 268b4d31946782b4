"""ledger run"""

from __future__ import annotations

import argparse

from ledger.cli import output
from ledger.core.workspace import Workspace
from ledger.errors import UsageError
from ledger.read import api
from ledger.write import duplicates, liveness
from ledger.write.capture import params
from ledger.write.runner import run_command

HELP = "run a command and record it as a run (ledger run [options] -- COMMAND ...)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", help="a readable name (default: from ledger.yaml's template or the script)")
    parser.add_argument("--desc", "--description", dest="description", help="the purpose / hypothesis")
    parser.add_argument("--tag", action="append", default=[], metavar="KEY[=VALUE]", help="a tag (repeatable)")
    parser.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE",
                        help="change a parameter of the params file, nested with dots (repeatable); "
                             "+KEY=VALUE adds one, ~KEY removes one; values are YAML "
                             "(null is no value, None is the text 'None')")  # fmt: skip
    parser.add_argument("--baseline", action="store_true", help="mark this run as a baseline")
    parser.add_argument("--force", action="store_true", help="run even if the same run exists already")
    parser.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- COMMAND", help="the command to run")


def parse_tags(items: list[str]) -> dict[str, str]:
    tags = {}
    for item in items:
        key, _, value = item.partition("=")
        if not key or any(c.isspace() for c in key):
            raise UsageError(f"bad tag {item!r}: write --tag key=value or --tag key")
        tags[key] = value
    return tags


def run(args: argparse.Namespace) -> int:
    argv = list(args.argv)
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        raise UsageError("nothing to run: write `ledger run [options] -- COMMAND [ARGS...]`")
    ws = Workspace.find()
    liveness.tidy(ws)  # what dead ledger processes left: a write command's job
    params.check_against_file(ws.root, ws.config.params_file, args.param)  # no typo adds a parameter
    if not args.force:  # the same params, code and data done before: say so, do not redo
        duplicates.refuse_duplicate(ws, argv, args.param, api.load(ws))
    outcome = run_command(
        ws, argv, name=args.name, description=args.description, tags=parse_tags(args.tag),
        overrides=args.param, baseline=args.baseline,
    )  # fmt: skip
    rec = outcome.record
    where = ""
    if outcome.committed and outcome.committed.sha:
        where = f", committed {outcome.committed.sha[:8]}"
    elif outcome.committed and outcome.committed.pending:
        where = f", not committed: {outcome.committed.pending}"
    output.err(f"ledger: {rec.get('status')} run {rec.get('id')}{where}")
    return outcome.exit_code
