"""Writing down what dead ledger processes left behind: runs killed with SIGKILL, OOM or a
power cut (recorded as `crashed`, keeping whatever they logged), finished records whose
writer was killed while its commit waited in the group-commit queue (committed now),
params files a `ledger run -p` overrode, temporary worktrees of reproductions and sweeps,
a killed sweep's point logs and the Optuna trials it left running (failed), a killed
distributed job's rendezvous note, sidecar folders of runs killed before their record
existed, half-written temporary files, and an index sync cut short. Only write commands
call this (`ledger run`, `sweep`, `commit`, `status`): reading shows a dead run as crashed
without writing (`ledger.read.liveness`).
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger import gitstore
from ledger.core import processes, record, yamlio
from ledger.core.journal import OWNER_FILE
from ledger.core.workspace import Workspace
from ledger.errors import LedgerError, RecordError
from ledger.read.liveness import STALE_S, crash_message, is_dead
from ledger.write import overrides as params_overrides
from ledger.write import sweep_logs, system, trial_notes

if TYPE_CHECKING:
    from ledger.write.finalize import Committed

__all__ = ["STALE_S", "Tidied", "is_dead", "reap", "running_records", "tidy"]

# Temporary files ledger writes next to their target: `.<name>.<pid>.<random>.tmp`
# (yamlio.write_atomic) and `.<name>.<pid>.ledger-tmp` (files brought from git).
_TEMP = re.compile(r"^\..+\.(?P<pid>[0-9]+)\.(?:[A-Za-z0-9_]+\.tmp|ledger-tmp)$")
_TEMP_STALE_S = 3600.0


def _untracked(ws: Workspace) -> list[str]:
    # ledger never commits a running record, a sidecar of a run without one, or a temporary
    # file: only files git does not track count (one cheap listing, ignored files left out).
    return gitstore.untracked_and_modified(ws.root, record.RECORDS_DIR, modified=False)


def running_records(ws: Workspace, untracked: list[str] | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
    """(path, record) of every `running` record in the working tree, not yet committed."""
    for relpath in _untracked(ws) if untracked is None else untracked:
        if record.run_id_from_path(relpath) is None:
            continue
        try:
            rec = yamlio.load_file(ws.path(relpath), source=relpath)
        except (RecordError, OSError, LedgerError):
            continue
        if isinstance(rec, dict) and rec.get("status") == "running":
            yield relpath, rec


def reap(ws: Workspace, untracked: list[str] | None = None) -> list[tuple[dict[str, Any], Committed]]:
    """Record every dead run as `crashed`, keeping whatever it logged; committed by policy."""
    reaped = []
    for _relpath, snapshot in running_records(ws, untracked):
        if not is_dead(snapshot):
            continue
        # Only a dead run pays for the write path.
        from ledger.core import journal
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
        rec = build(
            ws, context, fold, status="crashed", ended_at=last_seen,
            duration_s=(ended - started) if started and ended else None,
            error={"type": "Crashed", "message": crash_message(snapshot)}, resources=None,
        )  # fmt: skip
        write_final(ws, rec, keep_series=fold.has_steps)
        reaped.append((rec, commit_record(ws, rec)))
    return reaped


def _owner_gone(path: Path) -> bool | None:
    """Whether the process named in a sidecar's owner file has ended (None: no such file)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    return processes.owner_gone(text)


def _newest_mtime(directory: Path) -> float:
    newest = 0.0
    for path in [directory, *directory.rglob("*")]:
        try:
            newest = max(newest, path.lstat().st_mtime)
        except OSError:
            continue
    return newest


def clean_leftovers(ws: Workspace, untracked: list[str] | None = None) -> list[str]:
    """Remove what killed ledger processes left in `experiments/` that `git add -A` would
    commit: temporary files of an interrupted atomic write, and sidecar folders of runs
    killed before they wrote their record. Only untracked files; only when their writer is
    gone (named in the file or the folder), or, for folders written before owners were
    noted, when nothing in them changed for STALE_S. The paths removed."""
    files = _untracked(ws) if untracked is None else untracked
    # The params file is written atomically too, while `ledger run -p` overrides it.
    params = ws.path(ws.config.params_file)
    files = [*files, *(p.relative_to(ws.root).as_posix() for p in params.parent.glob(f".{params.name}.*.tmp"))]
    now = time.time()
    removed: list[str] = []
    sidecars: set[str] = set()
    for relpath in files:
        name = relpath.rsplit("/", 1)[-1]
        found = _TEMP.match(name)
        if found:
            path = ws.root / relpath
            try:
                stale = now - path.lstat().st_mtime > _TEMP_STALE_S
            except OSError:
                continue
            if stale or processes.gone(int(found["pid"]), None):
                path.unlink(missing_ok=True)
                removed.append(relpath)
            continue
        parts = relpath.split("/")
        if len(parts) >= 4 and record.run_id_from_path("/".join(parts[:3]) + ".yaml"):
            sidecars.add("/".join(parts[:3]))
    for relpath in sorted(sidecars):
        directory = ws.root / relpath
        if os.path.lexists(ws.root / f"{relpath}.yaml") or directory.is_symlink() or not directory.is_dir():
            continue  # a live or finished run's sidecar (its record is there)
        if gitstore.ls_files(ws.root, [relpath]):
            continue  # git tracks some of it: the user's, not a leftover
        gone = _owner_gone(directory / OWNER_FILE)
        if gone is False or (gone is None and now - _newest_mtime(directory) <= STALE_S):
            continue
        shutil.rmtree(directory, ignore_errors=True)
        removed.append(relpath)
    return removed


@dataclass
class Tidied:
    """What `tidy` did."""

    crashed: list[tuple[dict[str, Any], Committed]] = field(default_factory=list)
    params_restored: list[Path] = field(default_factory=list)
    worktrees_removed: list[Path] = field(default_factory=list)
    sweep_logs_removed: list[Path] = field(default_factory=list)
    leftovers_removed: list[str] = field(default_factory=list)
    index_repaired: list[str] = field(default_factory=list)
    queue_served: list[gitstore.Served] = field(default_factory=list)  # killed writers' queued commits
    trials_failed: list[str] = field(default_factory=list)  # `<study> #<n>` of killed sweeps' trials
    rank_notes_removed: list[Path] = field(default_factory=list)  # killed rank 0s' rendezvous notes


def tidy(ws: Workspace) -> Tidied:
    """Undo and write down everything dead ledger processes left (write commands only):
    an index sync cut short, commits queued by writers killed while they waited, params
    files a `ledger run -p` overrode, temporary worktrees, killed sweeps' point logs and
    Optuna trials (failed), killed distributed jobs' rendezvous notes, leftover files in
    `experiments/`, then every dead run recorded as `crashed`."""
    done = Tidied()
    done.index_repaired = gitstore.repair_index(ws.root)
    done.queue_served = gitstore.serve_orphaned(ws.root)
    notes = params_overrides.notes_dir(ws.root)
    if notes is not None and notes.is_dir():
        done.params_restored = params_overrides.recover(notes)
    done.worktrees_removed = gitstore.remove_orphaned_temporary(ws.root, processes.owner_gone)
    done.sweep_logs_removed = sweep_logs.remove_orphaned(ws.root)
    common = gitstore.common_dir(ws.root)
    done.trials_failed = trial_notes.fail_dead(common)
    done.rank_notes_removed = system.remove_dead_rendezvous(common)
    untracked = _untracked(ws)
    done.leftovers_removed = clean_leftovers(ws, untracked)
    done.crashed = reap(ws, untracked)
    return done
