"""Live runs seen without writing: whether a `running` record's process is gone (then it is
shown as crashed, as `ledger status` would record it), and what a running run has logged.

The same rules as the write path's crash reaping (a pid on this host that is gone or reused,
else a heartbeat older than STALE_S), but read-only: the UI never records the crash.
"""

from __future__ import annotations

import os
import socket
from typing import Any

from ledger.core import record

STALE_S = 600.0


def _started(pid: int) -> float | None:
    """When a local process started (Linux /proc, epoch seconds), or None when unknown."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/stat", encoding="ascii") as fh:
            boot = next(int(line.split()[1]) for line in fh if line.startswith("btime"))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _gone(pid: int, since: float | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):
        pass
    born = _started(pid)
    return bool(since and born and born > since + 5)


def is_dead(rec: dict[str, Any], now: float | None = None) -> bool:
    """Whether a `running` record's process has ended without recording an outcome."""
    process = rec.get("process") or {}
    if not isinstance(process, dict):
        process = {}
    now = now if now is not None else record.utcnow().timestamp()
    pid = process.get("pid")
    if process.get("host") == socket.gethostname() and isinstance(pid, int) and pid > 0:
        return _gone(pid, record.parse_timestamp(str(rec.get("started_at") or "")))
    heartbeat = record.parse_timestamp(str(process.get("heartbeat_at") or rec.get("started_at") or ""))
    return heartbeat is None or now - heartbeat > STALE_S


def shown_status(rec: dict[str, Any]) -> str:
    status = str(rec.get("status") or "")
    return "crashed" if status == "running" and is_dead(rec) else status


def elapsed(rec: dict[str, Any], now: float | None = None) -> float | None:
    """Seconds since the run started (for a running run), else its recorded duration."""
    if rec.get("status") != "running":
        value = rec.get("duration_s")
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    start = record.parse_timestamp(str(rec.get("started_at") or ""))
    now = now if now is not None else record.utcnow().timestamp()
    return max(0.0, now - start) if start is not None else None
