"""MLflow's fluent tracking API (`mlflow.start_run`, `log_param`, ...) on ledger runs.

Each MLflow run is a ledger run: started with `tracking.Run.create` (or, under
`ledger run`, the outermost one attaches to the run that `ledger run` owns), so the
records are ordinary ledger records. MLflow's documented semantics are kept: one active
run unless `nested=True`, params cannot change once logged, metrics without a step are
logged at step 0, a run started implicitly by a `log_*` call, an exception ends the run
FAILED.
"""

from __future__ import annotations

import atexit
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

from ledger.core.workspace import Workspace
from ledger.mlflow.entities import STATUS_FROM_MLFLOW, ActiveRun, Experiment, RunData, RunInfo
from ledger.mlflow.exceptions import MlflowException, Unsupported
from ledger.write import tracking

PARENT_TAG = "mlflow.parentRunId"
_SCALARS = (str, int, float, bool, type(None))


@dataclass
class _Active:
    run: tracking.Run
    experiment: str
    params: dict[str, str] = field(default_factory=dict)


_lock = threading.RLock()
_stack: list[_Active] = []
_experiment: list[str] = []  # the experiment set by set_experiment (at most one entry)
_used: set[str] = set()  # the `ledger run` run, once an MLflow run has been it
_last: list[str] = []  # the id of the run that ended last (last_active_run)
_uncaught: list[BaseException] = []
_hooks: list[object] = []  # the excepthooks installed here, so each is installed once


def set_experiment(experiment_name: str | None = None, experiment_id: str | None = None) -> Experiment:
    """Runs started from now on belong to this experiment (ledger's `experiment` field)."""
    name = experiment_name or experiment_id
    if not name or not isinstance(name, str):
        raise MlflowException("set_experiment needs experiment_name (or experiment_id)")
    _experiment[:] = [name]
    return Experiment(experiment_id=name, name=name)


def current_experiment() -> str:
    if _experiment:
        return _experiment[0]
    return Workspace.find().config.experiment


def _entity(active: _Active) -> ActiveRun:
    run = active.run
    info = RunInfo(run_id=run.id, run_name=run.name, experiment_id=active.experiment,
                   status="RUNNING", start_time=int(run.started * 1000), end_time=None,
                   artifact_uri=_artifact_uri(run))  # fmt: skip
    tags = run.tags
    return ActiveRun(info, RunData(dict(active.params), {}, tags))


def _artifact_uri(run: tracking.Run) -> str:
    return (run.sidecar / "artifacts").as_uri()


def start_run(
    run_id: str | None = None,
    experiment_id: str | None = None,
    run_name: str | None = None,
    nested: bool = False,
    parent_run_id: str | None = None,
    tags: dict[str, Any] | None = None,
    description: str | None = None,
    log_system_metrics: bool | None = None,
) -> ActiveRun:
    """Start a run (a ledger run); use it as a context manager so its outcome is recorded."""
    if run_id is not None:
        raise Unsupported("start_run(run_id=...)", "resuming a run is not possible: start a new one")
    if log_system_metrics:
        raise Unsupported("start_run(log_system_metrics=True)", "ledger records resources itself")
    _install_excepthook()
    with _lock:
        if _stack and not nested and parent_run_id is None:
            raise MlflowException(
                f"Run with UUID {_stack[-1].run.id} is already active. To start a nested run, "
                "call start_run with nested=True"
            )
        parent = _parent(parent_run_id)
        experiment = experiment_id or current_experiment()
        all_tags = {str(k): str(v) for k, v in (tags or {}).items()}
        if parent is not None:
            all_tags[PARENT_TAG] = parent.run.id
        attached = tracking.Run.attach() if not _stack else None
        if attached is not None and attached.id in _used:
            attached = None  # a later top-level run: a record of its own, as in MLflow
        if attached is not None:  # under `ledger run`: the first outermost run is that run
            _used.add(attached.id)
            fields: dict[str, Any] = {"experiment": experiment}
            if run_name:
                fields["name"] = run_name
            if description:
                fields["description"] = description
            attached.set_fields(**fields)
            if all_tags:
                attached.set_tags(all_tags)
            run = attached
        else:
            run = tracking.Run.create(
                Workspace.find(), name=run_name, description=description, tags=all_tags,
                experiment=experiment,
            )  # fmt: skip
        active = _Active(run, experiment)
        _stack.append(active)
        tracking.activate(run)  # so ledger.log_* and autolog log into it too
        return _entity(active)


def _parent(parent_run_id: str | None) -> _Active | None:
    if parent_run_id is None:
        return _stack[-1] if _stack else None
    for active in _stack:
        if active.run.id == parent_run_id:
            return active
    raise Unsupported("start_run(parent_run_id=...)", "the parent must be an active run")


def active_run() -> ActiveRun | None:
    """The innermost active run, or None."""
    with _lock:
        return _entity(_stack[-1]) if _stack else None


def end_run(status: str = "FINISHED") -> None:
    """End the innermost active run with an MLflow status (FINISHED, FAILED, KILLED)."""
    if status not in STATUS_FROM_MLFLOW:
        raise MlflowException(f"end_run: status must be one of {', '.join(STATUS_FROM_MLFLOW)}")
    with _lock:
        if _stack:
            _end(_stack[-1], STATUS_FROM_MLFLOW[status], None)


def end_run_for(run_id: str, exc: BaseException | None) -> None:
    """End a run (and any still-open runs nested in it) as a `with` block ends."""
    with _lock:
        while any(a.run.id == run_id for a in _stack):
            active = _stack[-1]
            status, error = tracking.outcome_of(exc)
            _end(active, status, error)


def _end(active: _Active, status: str, error: dict[str, Any] | None) -> None:
    _stack.remove(active)
    tracking.deactivate(active.run)
    _last[:] = [active.run.id]
    active.run.end(status, error)


def last_active_run_id() -> str | None:
    """The id of the run that ended last in this process."""
    return _last[0] if _last else None


def _install_excepthook() -> None:
    """Remember an uncaught exception, so runs left open end FAILED with it."""
    previous = sys.excepthook
    if previous in _hooks:
        return

    def hook(exc_type: type[BaseException], exc: BaseException, tb: Any) -> None:
        _uncaught.append(exc)
        previous(exc_type, exc, tb)

    _hooks.append(hook)
    sys.excepthook = hook


@atexit.register
def _end_open_runs() -> None:
    """MLflow's quickstart never ends its run; MLflow ends it FINISHED at exit. So do we:
    innermost first, every buffered metric point flushed into the committed record (FAILED
    with the exception when an uncaught exception ended the interpreter)."""
    status, error = tracking.outcome_of(_uncaught[-1] if _uncaught else None)
    with _lock:
        while _stack:
            active = _stack[-1]
            try:
                _end(active, status, error)
            except Exception:  # noqa: BLE001 - nothing useful to do at interpreter exit
                if active in _stack:
                    _stack.remove(active)


def current(run_id: str | None = None, call: str = "log") -> _Active:
    """The run a call logs into: the given active run, else the innermost one, else a new
    run started implicitly (as MLflow does)."""
    with _lock:
        if run_id is not None:
            for active in _stack:
                if active.run.id == run_id:
                    return active
            raise Unsupported(f"{call}(run_id=...)", "only active runs can be logged to")
        if not _stack:
            start_run()
        return _stack[-1]


# ---------------------------------------------------------------------------- logging


def _param_value(value: Any) -> Any:
    """Scalars stay typed in the record (so filters compare numbers); anything else is
    stored as MLflow stores it, as its string."""
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, _SCALARS):
        try:
            value = item()
        except (TypeError, ValueError):
            pass
    return value if isinstance(value, _SCALARS) else str(value)


def log_params(params: dict[str, Any], synchronous: bool | None = None, run_id: str | None = None) -> None:
    """Log params; logging a param again with a different value raises, as in MLflow."""
    active = current(run_id, "log_params")
    with _lock:
        for key, value in params.items():
            text = str(value)
            old = active.params.get(str(key))
            if old is not None and old != text:
                raise MlflowException(
                    f"Changing param values is not allowed. Param with key='{key}' was already "
                    f"logged with value='{old}' for run ID='{active.run.id}'. Attempted logging "
                    f"new value '{text}'."
                )
        active.run.log_params({str(k): _param_value(v) for k, v in params.items()})
        active.params.update({str(k): str(v) for k, v in params.items()})


def log_param(key: str, value: Any, synchronous: bool | None = None) -> Any:
    log_params({key: value})
    return value


def log_metric(
    key: str,
    value: float,
    step: int | None = None,
    synchronous: bool | None = None,
    timestamp: int | None = None,
    run_id: str | None = None,
    model_id: str | None = None,
    dataset: Any = None,
) -> None:
    """One metric point; without `step` it is logged at step 0, as MLflow does."""
    _no_models("log_metric", model_id, dataset)
    current(run_id, "log_metric").run.log_metric(key, value, 0 if step is None else step)


def log_metrics(
    metrics: dict[str, float],
    step: int | None = None,
    synchronous: bool | None = None,
    run_id: str | None = None,
    timestamp: int | None = None,
    model_id: str | None = None,
    dataset: Any = None,
) -> None:
    _no_models("log_metrics", model_id, dataset)
    run = current(run_id, "log_metrics").run
    for key, value in metrics.items():
        run.log_metric(key, value, 0 if step is None else step)


def _no_models(call: str, model_id: str | None, dataset: Any) -> None:
    if model_id is not None or dataset is not None:
        raise Unsupported(f"{call}(model_id=..., dataset=...)", "log the metric without them")


def set_tags(tags: dict[str, Any], synchronous: bool | None = None) -> None:
    active = current(None, "set_tags")
    values = {str(k): str(v) for k, v in tags.items()}
    fields: dict[str, Any] = {}
    if "mlflow.runName" in values:
        fields["name"] = values["mlflow.runName"]
    if "mlflow.note.content" in values:
        fields["description"] = values["mlflow.note.content"]
    if fields:
        active.run.set_fields(**fields)
    active.run.set_tags(values)


def set_tag(key: str, value: Any, synchronous: bool | None = None) -> None:
    set_tags({key: value})
