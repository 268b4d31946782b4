"""ledger push"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ledger.cli import output
from ledger.core.workspace import Workspace
from ledger.gitstore import LogEntry
from ledger.gitstore.push import push

if TYPE_CHECKING:
    from ledger.dvc.share import Shared


def push_outputs(ws: Workspace, commits: list[LogEntry]) -> Shared:
    from ledger.dvc.share import push_outputs as share_outputs  # DVC loads only when needed

    return share_outputs(ws, commits)


def _report(shared: list[Shared]) -> None:
    uploaded = sum(s.uploaded for s in shared)
    objects = sum(s.objects for s in shared)
    if uploaded:
        output.out(f"pushed {uploaded} DVC object(s) of the runs' outputs to the DVC remote")
    elif objects:
        output.out("the DVC remote already has the runs' outputs")
    missing = [m for s in shared for m in s.missing]
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        output.err(f"ledger: warning: not in your DVC cache, so not pushed: {shown}")
    for note in {s.note for s in shared if s.note}:
        output.err(f"ledger: note: {note}")


HELP = "share this branch's records (and their DVC outputs): push, replaying ledger's commits if the remote moved"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("remote", nargs="?", help="the remote (default: the branch's upstream, else origin)")
    parser.add_argument("--no-dvc", action="store_true",
                        help="push the records only, not their DVC outputs to the DVC remote")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    ws = Workspace.find()
    shared: list[Shared] = []

    def share(commits: list[LogEntry]) -> None:
        shared.append(push_outputs(ws, commits))

    result = push(ws, args.remote, before=None if args.no_dvc else share)
    _report(shared)
    where = f"{result.remote}/{result.branch}"
    if result.pushed == 0:
        output.out(f"{where} is up to date: no records to push")
    else:
        how = " (replayed on the remote's new commits)" if result.replayed else ""
        output.out(f"pushed {result.pushed} ledger commit(s) to {where}{how}")
    if result.note:
        output.err(f"ledger: note: {result.note}")
    return 0
