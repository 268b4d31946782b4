"""A run's heartbeat: a daemon thread that writes the buffered metric points every second
and, for the process that owns the record, rewrites the `running` record every
HEARTBEAT_S with what is known so far and the time it was last seen alive (how a later
reader tells a dead run from a live one, `ledger.read.liveness`)."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ledger.core import record, yamlio

HEARTBEAT_S = 10.0
FLUSH_S = 1.0


def write_snapshot(path: Path, context: dict[str, Any], params: dict[str, Any],
                   metrics: dict[str, Any]) -> None:  # fmt: skip
    """The `running` record at `path`: the context at start, the params and metrics logged
    so far (params already redacted), and this process with the time it was seen alive."""
    snapshot = {**context, "params": params, "metrics": metrics}
    snapshot["process"] = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "heartbeat_at": record.timestamp(record.utcnow()),
    }
    yamlio.dump_file(path, record.canonical(snapshot))


class Heartbeat:
    """Calls `flush` every FLUSH_S and `snapshot` (when given) every HEARTBEAT_S, from
    `start()` until `stop()`. Neither ever stops training: a failure waits for the next beat."""

    def __init__(self, flush: Callable[[], None], snapshot: Callable[[], None] | None, name: str):
        self._flush = flush
        self._snapshot = snapshot
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=name, daemon=True)

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def stop(self) -> None:
        """No more beats; waits for one under way (unless called from the beat itself)."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def _beat(self) -> None:
        last_snapshot = time.monotonic()
        while not self._stop.wait(FLUSH_S):
            try:
                self._flush()
                if self._snapshot is not None and time.monotonic() - last_snapshot >= HEARTBEAT_S:
                    self._snapshot()
                    last_snapshot = time.monotonic()
            except Exception:  # noqa: BLE001 - the heartbeat must never kill training
                continue
