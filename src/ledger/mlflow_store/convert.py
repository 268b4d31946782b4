"""Records as MLflow entities: `Run` (info + data), metric points from series files.

MLflow's view of a record: params as strings (nested params flattened with dots), the
final value of each metric, the record's tags plus the system tags MLflow shows
(`mlflow.runName`, `mlflow.user`, `mlflow.note.content`), statuses in capitals (a run
found dead, `crashed`, is FAILED).
"""

from __future__ import annotations

from typing import Any

from mlflow.entities import LifecycleStage, Metric, Param, Run, RunData, RunInfo, RunTag

from ledger.core import journal
from ledger.mlflow.entities import flat_params, millis

STATUS_TO_MLFLOW = {
    "running": "RUNNING",
    "finished": "FINISHED",
    "failed": "FAILED",
    "killed": "KILLED",
    "crashed": "FAILED",
}
STATUS_FROM_MLFLOW = {"FINISHED": "finished", "FAILED": "failed", "KILLED": "killed"}


def number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def system_tags(rec: dict[str, Any]) -> dict[str, str]:
    tags = {str(k): str(v) for k, v in (rec.get("tags") or {}).items()}
    tags.setdefault("mlflow.runName", str(rec.get("name", "")))
    user = (rec.get("author") or {}).get("user")
    if user:
        tags.setdefault("mlflow.user", str(user))
    if rec.get("description"):
        tags.setdefault("mlflow.note.content", str(rec["description"]))
    return tags


def latest_metrics(rec: dict[str, Any]) -> dict[str, float]:
    return {str(k): v for k, raw in (rec.get("metrics") or {}).items() if (v := number(raw)) is not None}


def run_info(rec: dict[str, Any], experiment_id: str, artifact_uri: str) -> RunInfo:
    start = millis(rec.get("started_at"))
    return RunInfo(
        run_id=str(rec["id"]),
        experiment_id=experiment_id,
        user_id=str((rec.get("author") or {}).get("user") or ""),
        status=STATUS_TO_MLFLOW.get(str(rec.get("status")), "FAILED"),
        start_time=start if start is not None else 0,
        end_time=millis(rec.get("ended_at")),
        lifecycle_stage=LifecycleStage.ACTIVE,
        artifact_uri=artifact_uri,
        run_name=str(rec.get("name", "")),
    )


def to_run(rec: dict[str, Any], experiment_id: str, artifact_uri: str) -> Run:
    """A finished (or running) record as MLflow's Run."""
    info = run_info(rec, experiment_id, artifact_uri)
    series = (rec.get("series") or {}).get("metrics") or {}
    when = info.end_time or info.start_time
    metrics = [
        Metric(key, value, when, int((series.get(key) or {}).get("last_step") or 0))
        for key, value in latest_metrics(rec).items()
    ]
    params = [Param(k, v) for k, v in flat_params(rec.get("params")).items()]
    tags = [RunTag(k, v) for k, v in system_tags(rec).items()]
    return Run(info, RunData(metrics=metrics, params=params, tags=tags))


def history(text: str, key: str, start_ms: int) -> list[Metric]:
    """Every point of one metric in a series file, in the order logged."""
    points = []
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) != 4 or parts[1] != key or parts[0] == "step":
            continue
        try:
            step, value, elapsed = int(parts[0]), float(parts[2]), float(parts[3])
        except ValueError:
            continue
        points.append(Metric(key, value, start_ms + int(round(elapsed * 1000)), step))
    return points


def single_point(rec: dict[str, Any], key: str) -> list[Metric]:
    """A metric with no series file (logged once): its value, at its recorded step."""
    value = number((rec.get("metrics") or {}).get(key))
    if value is None:
        return []
    step = ((rec.get("series") or {}).get("metrics") or {}).get(key, {}).get("last_step") or 0
    return [Metric(key, value, millis(rec.get("ended_at")) or millis(rec.get("started_at")) or 0, int(step))]


SERIES_FILE = journal.SERIES_FILE
