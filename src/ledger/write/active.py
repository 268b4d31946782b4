"""The module-level API: `ledger.start_run`, the active run, `ledger.params()`, and the
safety net that ends runs started without `with` when the process exits."""

from __future__ import annotations

import atexit
import sys
from types import TracebackType
from typing import Any

from ledger.core.workspace import Workspace
from ledger.errors import LedgerError
from ledger.write.context import effective_params
from ledger.write.outcome import outcome_of
from ledger.write.tracking import Run, _active


def start_run(
    name: str | None = None,
    *,
    description: str | None = None,
    tags: dict[str, Any] | None = None,
    experiment: str | None = None,
    params: dict[str, Any] | None = None,
    baseline: bool = False,
) -> Run:
    """Start recording a run; use as a context manager so the outcome is recorded.

    Inside a process started by `ledger run`, this attaches to that run instead.
    """
    _install_excepthook()
    attached = Run.attach()
    if attached is not None:
        if attached not in _active:
            _active.append(attached)
        if tags:
            attached.set_tags(tags)
        if params:
            attached.log_params(params)
        if description:
            attached._event("fields", {"fields": {"description": description}})
        return attached
    run = Run.create(
        Workspace.find(), name=name, description=description, tags=tags,
        experiment=experiment, params=params, baseline=baseline,
    )  # fmt: skip
    _active.append(run)
    return run


def active_run() -> Run | None:
    """The innermost active run, attaching to a parent `ledger run` when there is one."""
    if _active:
        return _active[-1]
    attached = Run.attach()
    if attached is not None:
        _install_excepthook()
        _active.append(attached)
    return attached


def require_run() -> Run:
    run = active_run()
    if run is None:
        raise LedgerError(
            "no active run: wrap your code in `with ledger.start_run():` or run it with "
            "`ledger run -- python your_script.py`"
        )
    return run


def params() -> dict[str, Any]:
    """The effective params of the active run; outside one, the params file (+ overrides)."""
    run = active_run()
    if run is not None:
        return run.params()
    ws = Workspace.find()
    return effective_params(ws, [])


_uncaught: list[BaseException] = []


def _install_excepthook() -> None:
    """Remember an uncaught exception so a run started without `with` ends `failed`."""
    previous = sys.excepthook
    if getattr(previous, "_ledger", False):
        return

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        _uncaught.append(exc)
        previous(exc_type, exc, tb)

    hook._ledger = True  # type: ignore[attr-defined]
    sys.excepthook = hook


@atexit.register
def _end_dangling_runs() -> None:
    """Runs started without `with` end with the process (failed if an exception killed it)."""
    status, error = outcome_of(_uncaught[-1] if _uncaught else None)
    while _active:
        run = _active.pop()
        try:
            run.end(status, error)
        except Exception:  # noqa: BLE001 - nothing useful to do at interpreter exit
            pass
