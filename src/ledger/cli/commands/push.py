"""ledger push"""

from __future__ import annotations

import argparse

from ledger.cli import output
from ledger.core.workspace import Workspace
from ledger.gitstore.push import push

HELP = "share this branch's records: push, replaying ledger's commits if the remote moved"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("remote", nargs="?", help="the remote (default: the branch's upstream, else origin)")


def run(args: argparse.Namespace) -> int:
    result = push(Workspace.find(), args.remote)
    where = f"{result.remote}/{result.branch}"
    if result.pushed == 0:
        output.out(f"{where} is up to date: no records to push")
    else:
        how = " (replayed on the remote's new commits)" if result.replayed else ""
        output.out(f"pushed {result.pushed} ledger commit(s) to {where}{how}")
    if result.note:
        output.err(f"ledger: note: {result.note}")
    return 0
