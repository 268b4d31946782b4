"""A dead run, seen by a reader: a `running` record whose process is gone is *shown* as
`crashed`, with what its journal holds, without writing anything (recording it as crashed
is a write command's job: `ledger run`, `sweep`, `commit`, `status`).

A `running` record names its process (pid, host) and carries a heartbeat. On the same host
the pid tells: gone, or reused by a process younger than the run, means dead. For another
host (a shared checkout) only a heartbeat older than STALE_S does.
"""

from __future__ import annotations

from typing import Any

from ledger.core import processes, record
from ledger.core.fields import deep_merge
from ledger.core.journal import Fold
from ledger.core.redact import redact
from ledger.core.workspace import Workspace
from ledger.errors import LedgerError

STALE_S = 600.0


def is_dead(rec: dict[str, Any], now: float | None = None) -> bool:
    process = rec.get("process") or {}
    now = now if now is not None else record.utcnow().timestamp()
    heartbeat = record.parse_timestamp(process.get("heartbeat_at") or rec.get("started_at", ""))
    if process.get("host") == processes.host() and isinstance(process.get("pid"), int):
        return processes.gone(process["pid"], record.parse_timestamp(rec.get("started_at", "")))
    return heartbeat is None or now - heartbeat > STALE_S


def crash_message(rec: dict[str, Any]) -> str:
    process = rec.get("process") or {}
    return (
        f"process {process.get('pid')} on {process.get('host')} died without recording "
        "an outcome (killed with SIGKILL, out of memory, or the machine stopped)"
    )


def crashed_view(ws: Workspace, snapshot: dict[str, Any]) -> dict[str, Any]:
    """A dead run's record as a reader shows it: its last snapshot, plus what its journal
    (series and events in the sidecar) holds, with status `crashed`. Nothing is written."""
    fold = Fold()
    try:
        fold.update(ws.path(record.sidecar_dir(str(snapshot["id"]))))
    except (LedgerError, OSError, KeyError):
        pass
    view = dict(snapshot)
    process = view.pop("process", None) or {}
    last_seen = str(process.get("heartbeat_at") or snapshot.get("started_at") or "")
    started = record.parse_timestamp(str(snapshot.get("started_at") or ""))
    ended = record.parse_timestamp(last_seen)
    view["params"] = redact(deep_merge(view.get("params") or {}, fold.params))
    view["tags"] = redact({**(view.get("tags") or {}), **fold.tags})
    view["metrics"] = {**(view.get("metrics") or {}), **fold.metrics()}
    view["status"] = "crashed"
    view["ended_at"] = last_seen or None
    view["duration_s"] = round(ended - started, 3) if started and ended else None
    view["error"] = {"type": "Crashed", "message": crash_message(snapshot)}
    return record.canonical(view)
