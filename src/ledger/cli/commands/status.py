"""ledger status"""

from __future__ import annotations

import argparse

from ledger.cli import output
from ledger.cli.commands._common import add_format
from ledger.core.workspace import Workspace
from ledger.write.status import workspace_status

HELP = "show running, crashed, uncommitted and unpushed runs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_format(parser)


def run(args: argparse.Namespace) -> int:
    ws = Workspace.find()
    state = workspace_status(ws)
    if args.format == "json":
        output.out(output.to_json({
            "running": [r["id"] for r in state.running],
            "crashed": [r["id"] for r in state.crashed],
            "uncommitted": [r["id"] for r in state.uncommitted],
            "unpushed": state.unpushed,
            "upstream": state.upstream,
            "commit_blocked": state.pending_reason,
            "index_repaired": state.index_repaired,
            "cleaned": state.leftovers_removed,
            "queue_committed": [{"id": run_id, "commit": sha} for run_id, _, sha in state.queue_committed],
            "trials_failed": state.trials_failed,
        }))  # fmt: skip
        return 0
    rows = []
    rows += [("running", r["id"], r.get("name"), "") for r in state.running]
    rows += [("crashed (found now)", r["id"], r.get("name"), "recorded as crashed") for r in state.crashed]
    rows += [("committed now", run_id, name, f"its writer was killed while the commit was queued: {sha[:8]}")
             for run_id, name, sha in state.queue_committed]  # fmt: skip
    not_committed = dict(state.queue_failed)
    rows += [("uncommitted", r["id"], r.get("name"), r["status"] + _why(not_committed.get(r["id"])))
             for r in state.uncommitted]  # fmt: skip
    rows += [("unpushed", run_id, "", f"not on {state.upstream}") for run_id in state.unpushed]
    rows += [("index repaired", path, "", "committed, was missing from git's index") for path in state.index_repaired]
    rows += [("cleaned", path, "", "left by a killed ledger process") for path in state.leftovers_removed]
    rows += [("trial failed", trial, "", "its sweep was killed: marked FAIL in the Optuna study")
             for trial in state.trials_failed]  # fmt: skip
    if not rows:
        output.out("nothing to report: no running, crashed, uncommitted or unpushed runs")
        return 0
    output.out(output.table(rows, ["state", "id", "name", "detail"], args.format))
    if state.uncommitted:
        hint = f" ({state.pending_reason})" if state.pending_reason else ""
        output.out(f"\nrun `ledger commit` to commit the uncommitted runs{hint}")
    return 0


def _why(problem: str | None) -> str:
    return f" (its killed writer's queued commit: {problem})" if problem else ""
