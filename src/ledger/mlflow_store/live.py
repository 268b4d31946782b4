"""Runs open in this process: MLflow's state of each (params, tags, latest metrics) next
to the ledger `tracking.Run` that records it, and their ending.

MLflow's semantics are kept: a param cannot change value, a metric's latest value is the
one with the highest (step, timestamp, value), a run left open ends FINISHED when the
interpreter exits (every buffered point flushed, the record committed). When the
interpreter exits because of an uncaught exception, the open runs end FAILED with it:
a record must not call a crashed script finished.
"""

from __future__ import annotations

import atexit
import datetime as _dt
import sys
import threading
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_STATE, RESOURCE_DOES_NOT_EXIST

from ledger.core.workspace import Workspace
from ledger.write import tracking
from ledger.write.outcome import outcome_of

_lock = threading.RLock()
_open: dict[str, Live] = {}
_done: dict[str, Live] = {}  # ended in this process: answered without reading records
_uncaught: list[BaseException] = []
_hooks: list[object] = []  # the excepthooks installed here, so each is installed once


@dataclass
class Live:
    run: tracking.Run
    ws: Workspace
    experiment_id: str
    experiment: str
    name: str
    user: str
    start_ms: int
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    latest: dict[str, tuple[int, int, float]] = field(default_factory=dict)  # key -> (step, ms, value)
    artifacts: dict[str, dict[str, Any]] = field(default_factory=dict)  # MLflow path -> entry
    model_dirs: set[str] = field(default_factory=set)  # folders that hold a logged model
    points: set[tuple[str, int, int, Any]] = field(default_factory=set)  # (key, step, ms, value) logged
    status: str = "RUNNING"
    end_ms: int | None = None
    record: dict[str, Any] | None = None
    description: str | None = None

    @property
    def id(self) -> str:
        return self.run.id


def start(
    ws: Workspace,
    *,
    name: str,
    description: str | None,
    tags: dict[str, str],
    experiment: str,
    experiment_id: str,
    user: str,
    start_ms: int,
) -> Live:
    """A new ledger run (context captured, `running` record written), or, under
    `ledger run`, the run that command owns (its first top-level MLflow run)."""
    _install_excepthook()
    attached = None if "mlflow.parentRunId" in tags else tracking.Run.attach()
    with _lock:
        if attached is not None and (attached.id in _open or attached.id in _done):
            attached = None  # a later top-level run: a record of its own, as in MLflow
    if attached is not None:
        fields: dict[str, Any] = {"experiment": experiment, "name": name}
        if description:
            fields["description"] = description
        attached.set_fields(**fields)
        attached.set_tags(tags)
        run = attached
        start_ms = int(round(attached.started * 1000))
    else:
        started = _dt.datetime.fromtimestamp(start_ms / 1000, tz=_dt.timezone.utc)
        run = tracking.Run.create(
            ws, name=name, description=description, tags=tags, experiment=experiment, started=started
        )
    live = Live(run, ws, experiment_id, experiment, name, user, start_ms, tags=dict(tags), description=description)
    with _lock:
        _open[live.id] = live
    return live


def get(run_id: str) -> Live | None:
    """The run if this process opened it (ended or not)."""
    with _lock:
        return _open.get(run_id) or _done.get(run_id)


def writable(run_id: str) -> Live:
    """The open run a write goes to; a clear error for an ended or foreign run."""
    with _lock:
        live = _open.get(run_id)
        if live is not None:
            return live
        if run_id in _done:
            raise MlflowException(
                f"run {run_id} has ended and its ledger record is committed: records are not "
                "changed afterwards; log to a new run",
                INVALID_STATE,
            )
    raise MlflowException(
        f"run {run_id} is not open in this process: a ledger run is written by the process "
        "that started it (start a new run to log more)",
        RESOURCE_DOES_NOT_EXIST,
    )


def end(live: Live, mlflow_status: str, end_ms: int | None) -> None:
    """Record the outcome: the final record is written and committed the normal way."""
    from ledger.mlflow_store.convert import STATUS_FROM_MLFLOW

    status = STATUS_FROM_MLFLOW.get(mlflow_status)
    if status is None:
        raise MlflowException.invalid_parameter_value(
            f"a ledger run can end FINISHED, FAILED or KILLED, not {mlflow_status}"
        )
    error = None
    exc = sys.exc_info()[1]  # inside `with mlflow.start_run()`, the exception ending it
    if status == "finished" and _uncaught:
        status, error = outcome_of(_uncaught[-1])
    elif status != "finished":
        found_status, error = outcome_of(exc) if exc is not None else (status, None)
        if error is None or found_status == "finished":
            error = {"type": "MlflowStatus", "message": f"MLflow ended the run {mlflow_status}"}
    with _lock:
        if _open.pop(live.id, None) is None:
            return
        _done[live.id] = live
    live.status = {"finished": "FINISHED", "failed": "FAILED", "killed": "KILLED"}[status]
    live.end_ms = end_ms
    live.record = live.run.end(status, error)


def _install_excepthook() -> None:
    previous = sys.excepthook
    if previous in _hooks:
        return

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        _uncaught.append(exc)
        previous(exc_type, exc, tb)

    _hooks.append(hook)
    sys.excepthook = hook


@atexit.register
def _end_open_runs() -> None:
    """Runs left open end with the interpreter, innermost (latest) first, as MLflow's own
    exit handler would end them; registered after MLflow's, so it runs first."""
    with _lock:
        remaining = list(_open.values())
    for live in reversed(remaining):
        try:
            end(live, "FINISHED", None)
        except Exception:  # noqa: BLE001 - nothing useful to do at interpreter exit
            continue


def all_in_process() -> list[Live]:
    """Every run this process opened (open or ended), oldest first."""
    with _lock:
        return [*_done.values(), *_open.values()]
