"""ledger artifact"""

from __future__ import annotations

import argparse
from pathlib import Path

from ledger.cli import output
from ledger.core.workspace import Workspace
from ledger.errors import UsageError

HELP = "bring back a run's artifact: ledger artifact get ID NAME [-o PATH]"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", help="get: copy one artifact back")
    sub.required = True
    get = sub.add_parser("get", help="copy an artifact from git, DVC's cache or the DVC remote",
                         description="copy an artifact from git, DVC's cache or the DVC remote")  # fmt: skip
    get.add_argument("run", metavar="ID", help="run id, unique prefix of one, or run name")
    get.add_argument("name", metavar="NAME", help="the artifact's name (as `ledger show` lists it)")
    get.add_argument("-o", "--output", metavar="PATH",
                     help="where to write it, inside the repository (default: NAME here)")  # fmt: skip
    get.add_argument("--force", action="store_true", help="overwrite PATH if it exists")


def run(args: argparse.Namespace) -> int:
    if args.action != "get":
        raise UsageError("write `ledger artifact get ID NAME [-o PATH]`")
    from ledger.write.artifacts import fetch_artifact

    ws = Workspace.find()
    if "/" in args.name or args.name in ("", ".", ".."):
        raise UsageError(f"bad artifact name {args.name!r}: give the name `ledger show` lists")
    dest = Path(args.output) if args.output else Path(args.name)
    entry, origin = fetch_artifact(ws, args.run, args.name, dest, force=args.force)
    output.err(f"ledger: {entry['name']} ({entry.get('size')} bytes, md5 {entry['hash']}) "
               f"from {origin} -> {ws.relative(dest)}")  # fmt: skip
    return 0
