"""Termination signals during a run's `with` block: SIGTERM and SIGHUP (a scheduler's
time limit, a closed terminal) become `RunInterrupted` inside the user's code, so the run
is recorded `killed` with what it logged; then the process dies of the very signal, as it
would have without ledger. SIGINT needs nothing: Python already raises KeyboardInterrupt.

Only the main thread can install handlers, and only where the program left the default:
a handler the user (or a framework) installed is never replaced.
"""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

from ledger.write.outcome import RunInterrupted, raise_interrupted

SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class Interrupts:
    """The handlers one run installed, to put back when it ends."""

    def __init__(self) -> None:
        self._previous: dict[int, Any] = {}

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in SIGNALS:
            if signal.getsignal(signum) in (signal.SIG_DFL, None):
                self._previous[signum] = signal.signal(signum, raise_interrupted)

    def restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()


def die_of(exc: BaseException | None) -> None:
    """After the run recorded it: a process interrupted by a signal dies of that signal."""
    if isinstance(exc, RunInterrupted):
        os.kill(os.getpid(), exc.signum)
