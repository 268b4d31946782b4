"""What `ledger status` reports: running, crashed, uncommitted and unpushed runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ledger import gitstore
from ledger.core import yamlio
from ledger.core.record import FINAL_STATUSES, RECORDS_DIR, run_id_from_path
from ledger.core.workspace import Workspace
from ledger.errors import LedgerError
from ledger.read import api
from ledger.write import liveness
from ledger.write.finalize import Committed, commit_record


@dataclass
class Status:
    running: list[dict[str, Any]] = field(default_factory=list)
    crashed: list[dict[str, Any]] = field(default_factory=list)
    uncommitted: list[dict[str, Any]] = field(default_factory=list)
    unpushed: list[str] = field(default_factory=list)
    upstream: str | None = None
    pending_reason: str | None = None
    index_repaired: list[str] = field(default_factory=list)
    leftovers_removed: list[str] = field(default_factory=list)
    # (run id, name, commit id) of each record a killed writer left in the commit queue, committed now
    queue_committed: list[tuple[str, str, str]] = field(default_factory=list)
    # (run id, why not) of each such record that could not be committed (it stays uncommitted)
    queue_failed: list[tuple[str, str]] = field(default_factory=list)
    trials_failed: list[str] = field(default_factory=list)  # `<study> #<n>`: a killed sweep's Optuna trials


def unpushed_runs(ws: Workspace) -> tuple[str | None, list[str]]:
    upstream = gitstore.upstream(ws.root)
    if upstream is None:
        return None, []
    ids = gitstore.trailer_values(ws.root, f"{upstream}..HEAD", "Ledger-Run", RECORDS_DIR)
    return upstream, sorted(set(ids))


def uncommitted(ws: Workspace) -> list[dict[str, Any]]:
    """The ended runs whose record waits in the working tree, as stored, sorted by id."""
    return [item.record for item in api.uncommitted(ws) if item.record["status"] in FINAL_STATUSES]


def workspace_status(ws: Workspace) -> Status:
    """What `ledger status` shows, after writing down what dead processes left (a write
    command by design: it records crashed runs, repairs the index, cleans leftovers)."""
    tidied = liveness.tidy(ws)
    result = Status(crashed=[rec for rec, _ in tidied.crashed])
    result.index_repaired = tidied.index_repaired
    result.leftovers_removed = [
        *tidied.leftovers_removed,
        *(str(p) for p in [*tidied.worktrees_removed, *tidied.sweep_logs_removed, *tidied.rank_notes_removed]),
    ]
    result.trials_failed = tidied.trials_failed
    for served in tidied.queue_served:
        for path in served.paths:
            run_id = run_id_from_path(path)
            if run_id is None:
                continue
            if served.commit:
                result.queue_committed.append((run_id, _name(ws, path), served.commit))
            else:
                result.queue_failed.append((run_id, served.problem or "the commit failed"))
    result.running = [rec for _, rec in liveness.running_records(ws)]
    result.uncommitted = uncommitted(ws)
    result.upstream, result.unpushed = unpushed_runs(ws)
    result.pending_reason = gitstore.head_state(ws.root).pending_reason
    return result


def _name(ws: Workspace, relpath: str) -> str:
    try:
        rec = yamlio.load_file(ws.path(relpath), source=relpath)
    except (LedgerError, OSError):
        return ""
    return str(rec.get("name") or "") if isinstance(rec, dict) else ""


def commit_pending(ws: Workspace) -> list[tuple[dict[str, Any], Committed]]:
    """Commit every finished record still waiting in the working tree, one commit each."""
    return [(rec, commit_record(ws, rec)) for rec in uncommitted(ws)]
