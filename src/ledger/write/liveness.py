"""Finding runs whose process died without recording an outcome (SIGKILL, OOM, power loss),
and undoing what dead ledger processes left behind (params overrides, temporary worktrees).

A `running` record names its process (pid, host) and carries a heartbeat. On the same host
the pid tells: gone, or reused by a process younger than the run, means dead. For another
host (a shared checkout) only a heartbeat older than STALE_S does.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger import gitstore
from ledger.core import record, yamlio
from ledger.core.workspace import Workspace
from ledger.dvc import overrides as dvcoverrides
from ledger.errors import RecordError
from ledger.write import processes

if TYPE_CHECKING:
    from ledger.write.finalize import Committed

STALE_S = 600.0


def is_dead(rec: dict[str, Any], now: float | None = None) -> bool:
    process = rec.get("process") or {}
    now = now if now is not None else record.utcnow().timestamp()
    heartbeat = record.parse_timestamp(process.get("heartbeat_at") or rec.get("started_at", ""))
    if process.get("host") == processes.host() and isinstance(process.get("pid"), int):
        return processes.gone(process["pid"], record.parse_timestamp(rec.get("started_at", "")))
    return heartbeat is None or now - heartbeat > STALE_S


def running_records(ws: Workspace) -> Iterator[tuple[str, dict[str, Any]]]:
    """(path, record) of every `running` record in the working tree, not yet committed."""
    # A running record is written by ledger and never committed by it: only new files count.
    for relpath in gitstore.untracked_and_modified(ws.root, record.RECORDS_DIR, modified=False):
        if record.run_id_from_path(relpath) is None:
            continue
        try:
            rec = yamlio.load_file(ws.path(relpath), source=relpath)
        except (RecordError, OSError):
            continue
        if isinstance(rec, dict) and rec.get("status") == "running":
            yield relpath, rec


def remove_orphaned_worktrees(root: Path) -> list[Path]:
    """Remove the temporary worktrees whose ledger process has died (SIGKILL, OOM); the
    paths removed. Worktrees locked by anyone else, or by a live process, are left be."""
    removed = []
    for path, reason in gitstore.owned_worktrees(root):
        if not processes.owner_gone(reason):
            continue
        gitstore.worktree_remove(root, path)
        if path.parent.name.startswith(("ledger-reproduce-", "ledger-sweep-")):
            shutil.rmtree(path.parent, ignore_errors=True)  # the temporary directory around it
        removed.append(path)
    return removed


def reap(ws: Workspace) -> list[tuple[dict[str, Any], Committed]]:
    """Record every dead run as `crashed`, keeping whatever it logged; committed by policy.
    First, what dead ledger processes left behind is undone: params files a `ledger run -p`
    overrode, and the temporary worktrees of reproductions and sweeps."""
    notes = dvcoverrides.notes_dir(ws.root)
    if notes is not None and notes.is_dir():
        dvcoverrides.recover(notes)
    remove_orphaned_worktrees(ws.root)
    reaped = []
    for _relpath, snapshot in running_records(ws):
        if not is_dead(snapshot):
            continue
        # Only a dead run pays for the write path (read commands call this every time).
        from ledger.write import journal
        from ledger.write.finalize import build, commit_record, write_final

        sidecar: Path = ws.path(record.sidecar_dir(snapshot["id"]))
        context = journal.read_context(sidecar) or {
            k: v for k, v in snapshot.items() if k not in ("metrics", "process")
        }
        fold = journal.Fold()
        fold.update(sidecar)
        process = snapshot.get("process") or {}
        last_seen = str(process.get("heartbeat_at") or snapshot.get("started_at"))
        started, ended = record.parse_timestamp(snapshot.get("started_at", "")), record.parse_timestamp(last_seen or "")
        message = (
            f"process {process.get('pid')} on {process.get('host')} died without recording "
            "an outcome (killed with SIGKILL, out of memory, or the machine stopped)"
        )
        rec = build(
            ws, context, fold, status="crashed", ended_at=last_seen,
            duration_s=(ended - started) if started and ended else None,
            error={"type": "Crashed", "message": message}, resources=None,
        )  # fmt: skip
        write_final(ws, rec, keep_series=fold.has_steps)
        reaped.append((rec, commit_record(ws, rec)))
    return reaped
