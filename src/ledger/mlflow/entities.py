"""MLflow's run and experiment entities, as plain values built from ledger records."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

STATUS_TO_MLFLOW = {"running": "RUNNING", "finished": "FINISHED", "failed": "FAILED",
                    "killed": "KILLED", "crashed": "FAILED", "pruned": "KILLED"}  # fmt: skip
STATUS_FROM_MLFLOW = {"FINISHED": "finished", "FAILED": "failed", "KILLED": "killed"}


@dataclass(frozen=True)
class Experiment:
    experiment_id: str
    name: str
    artifact_location: str = ""
    lifecycle_stage: str = "active"
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    run_name: str
    experiment_id: str
    status: str
    start_time: int | None
    end_time: int | None
    artifact_uri: str
    user_id: str = ""
    lifecycle_stage: str = "active"

    @property
    def run_uuid(self) -> str:
        return self.run_id


@dataclass(frozen=True)
class RunData:
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Run:
    info: RunInfo
    data: RunData


class ActiveRun(Run):
    """What `start_run` returns: a `Run` that ends the run when its `with` block ends."""

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        from ledger.mlflow.fluent import end_run_for

        end_run_for(self.info.run_id, exc)  # the exception, if any, goes on


def flat_params(params: Any, prefix: str = "") -> dict[str, str]:
    """Nested ledger params as MLflow's flat string params (`model.depth: "3"`)."""
    flat: dict[str, str] = {}
    for key, value in (params or {}).items() if isinstance(params, dict) else []:
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flat_params(value, name + "."))
        else:
            flat[name] = str(value)
    return flat


def millis(ts: Any) -> int | None:
    """A record timestamp as MLflow's milliseconds since the epoch."""
    if not isinstance(ts, str):
        return None
    moment = _dt.datetime.strptime(ts.rstrip("Z"), "%Y-%m-%dT%H:%M:%S.%f")
    return int(moment.replace(tzinfo=_dt.timezone.utc).timestamp() * 1000)


def from_record(rec: dict[str, Any], artifact_uri: str) -> Run:
    tags = {str(k): str(v) for k, v in (rec.get("tags") or {}).items()}
    tags.setdefault("mlflow.runName", str(rec.get("name", "")))
    user = ((rec.get("author") or {}).get("user")) or ""
    if user:
        tags.setdefault("mlflow.user", str(user))
    if rec.get("description"):
        tags.setdefault("mlflow.note.content", str(rec["description"]))
    metrics = {str(k): float(v) for k, v in (rec.get("metrics") or {}).items() if v is not None}
    info = RunInfo(
        run_id=str(rec["id"]), run_name=str(rec.get("name", "")),
        experiment_id=str(rec.get("experiment", "")),
        status=STATUS_TO_MLFLOW.get(str(rec.get("status")), "FAILED"),
        start_time=millis(rec.get("started_at")), end_time=millis(rec.get("ended_at")),
        artifact_uri=artifact_uri, user_id=str(user),
    )  # fmt: skip
    return Run(info, RunData(flat_params(rec.get("params")), metrics, tags))
