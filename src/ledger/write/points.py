"""A run's per-step metric points: counted, buffered in memory and appended to the
sidecar's `series.tsv` in batches (by the heartbeat every second, when the buffer fills,
and when the run ends), so logging 100,000 points costs a few appends, not 100,000."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from ledger.core import journal
from ledger.errors import LedgerError
from ledger.write.names import check_metric_name

FLUSH_POINTS = 20_000


class Points:
    """The points one process logs into one run's sidecar `directory`; times count from
    `t0` (the run's start, seconds since the epoch)."""

    def __init__(self, directory: Path, t0: float):
        self.directory = directory
        self.t0 = t0
        self._lock = threading.Lock()
        self._buffer: list[str] = []
        self._steps: dict[str, int] = {}
        self._names: set[str] = set()

    def add(self, name: str, value: Any, step: int | None, timestamp: float | None) -> tuple[float, int]:
        """Buffer one point; (the value as a number, its step). Without `step`, each metric
        counts its own steps from 0; `timestamp` is when it was measured, default now."""
        if name not in self._names:
            check_metric_name(name)
            self._names.add(name)
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise LedgerError(f"metric {name} must be a number, not {value!r}") from None
        with self._lock:
            step = self._steps.get(name, -1) + 1 if step is None else int(step)
            self._steps[name] = step
            moment = time.time() if timestamp is None else timestamp
            self._buffer.append(f"{step}\t{name}\t{number!r}\t{moment - self.t0:.3f}\n")
            if len(self._buffer) >= FLUSH_POINTS:
                self._flush_locked()
        return number, step

    def flush(self) -> None:
        """Append the buffered points to `series.tsv` now."""
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        if not self._buffer:
            return
        series = self.directory / journal.SERIES_FILE
        text = "".join(self._buffer)
        if not series.exists():
            text = journal.SERIES_HEADER + text
        journal.append(series, text)
        self._buffer = []
