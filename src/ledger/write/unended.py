"""The safety net for runs that are never ended (no `with`, no `end_run()`), as in MLflow's
own quickstart: at interpreter exit each one ends `finished`, with every buffered metric
point written, or `failed` when an uncaught exception ended the program.

Installed by the first run a process starts or attaches to, whichever API started it
(`ledger.start_run`, `ledger.mlflow.start_run`, an implicit run of `ledger.log_metric`).
"""

from __future__ import annotations

import atexit
import sys
from types import TracebackType
from typing import Any

from ledger.write.outcome import outcome_of

_uncaught: list[BaseException] = []
_hooks: list[object] = []  # the excepthook installed here
_runs: list[list[Any]] = []  # the active-run list of the tracking module, once installed


def install(active: list[Any]) -> None:
    """Remember uncaught exceptions and end the runs left in `active` at exit (once)."""
    if _runs:
        return
    _runs.append(active)
    previous = sys.excepthook
    if previous not in _hooks:

        def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
            _uncaught.append(exc)
            previous(exc_type, exc, tb)

        _hooks.append(hook)
        sys.excepthook = hook
    atexit.register(end_all)


def end_all() -> None:
    """End every run still active, innermost first."""
    status, error = outcome_of(_uncaught[-1] if _uncaught else None)
    for active in _runs:
        while active:
            run = active.pop()
            try:
                run.end(status, error)
            except Exception:  # noqa: BLE001 - nothing useful to do at interpreter exit
                pass
