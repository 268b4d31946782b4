"""ledger commit"""

from __future__ import annotations

import argparse

from ledger.cli import output
from ledger.core.workspace import Workspace
from ledger.errors import CommitError
from ledger.gitstore import head_state
from ledger.write import liveness
from ledger.write.status import commit_pending

HELP = "commit finished runs that are still waiting in the working tree"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    ws = Workspace.find()
    liveness.tidy(ws)  # what dead ledger processes left: a write command's job
    reason = head_state(ws.root).pending_reason
    if reason:
        raise CommitError(f"cannot commit now: {reason}: finish it (or check out a branch) first")
    if ws.config.commit == "off":
        raise CommitError("commit policy is off in ledger.yaml: commit experiments/ with git yourself")
    done = commit_pending(ws)
    if not done:
        output.out("nothing to commit: every finished run is committed")
        return 0
    failed = 0
    for rec, committed in done:
        if committed.sha:
            output.out(f"committed {rec['id']} as {committed.sha[:8]}")
        else:
            failed += 1
            output.err(f"ledger: could not commit {rec['id']}: {committed.pending}")
    return 1 if failed else 0
