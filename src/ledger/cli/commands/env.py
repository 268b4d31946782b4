"""ledger env"""

from __future__ import annotations

import argparse

from ledger.cli import output
from ledger.core.workspace import Workspace

HELP = "print a run's recorded environment as a pip requirements file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", metavar="ID", help="run id, unique prefix of one, or run name")


def run(args: argparse.Namespace) -> int:
    from ledger.read.locate import locate
    from ledger.reproduce import envfile

    ws = Workspace.find()
    found = locate(ws, args.run)
    env = envfile.recorded(ws, found.item)
    output.out(envfile.requirements(env, found.item.record["id"]).rstrip("\n"))
    return 0
