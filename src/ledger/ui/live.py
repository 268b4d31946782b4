"""How long a run has been going. (A dead `running` run is shown as crashed by the read
path itself: `ledger.read.liveness`.)"""

from __future__ import annotations

from typing import Any

from ledger.core import record


def elapsed(rec: dict[str, Any], now: float | None = None) -> float | None:
    """Seconds since the run started (for a running run), else its recorded duration."""
    if rec.get("status") != "running":
        value = rec.get("duration_s")
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    start = record.parse_timestamp(str(rec.get("started_at") or ""))
    now = now if now is not None else record.utcnow().timestamp()
    return max(0.0, now - start) if start is not None else None
