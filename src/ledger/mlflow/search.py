"""`search_runs` and `get_run` over ledger records, shaped as MLflow returns them.

`search_runs` gives MLflow's columns: run_id, experiment_id, status, artifact_uri,
start_time, end_time, then `metrics.*`, `params.*` and `tags.*`. With pandas installed
it is a DataFrame (as in MLflow); without pandas, a list of dicts with the same keys.
"""

from __future__ import annotations

import math
from typing import Any

from ledger.core import fields, record
from ledger.core.workspace import Workspace
from ledger.mlflow.entities import Run, from_record
from ledger.mlflow.exceptions import MlflowException
from ledger.mlflow.fluent import current_experiment
from ledger.read import api
from ledger.read.api import scan_items

BASE_COLUMNS = ("run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time")
_ATTRIBUTES = {"start_time", "end_time", "status", "run_id", "run_name", "experiment_id"}


def _runs(ws: Workspace, where: str = "") -> list[Run]:
    records = [item.record for item in scan_items(ws)]  # the library's one reader
    if where:
        from ledger.read.filter import compile_filter

        keep = compile_filter(where)
        records = [rec for rec in records if keep(_with_system_tags(rec))]
    return [from_record(rec, _artifact_uri(ws, rec["id"])) for rec in records]


def _with_system_tags(rec: dict[str, Any]) -> dict[str, Any]:
    """MLflow scripts filter on the system tag `mlflow.runName`: give it to the record."""
    return {**rec, "tags": {"mlflow.runName": rec.get("name"), **(rec.get("tags") or {})}}


def _artifact_uri(ws: Workspace, run_id: str) -> str:
    return (ws.root / record.sidecar_dir(run_id) / "artifacts").as_uri()


def get_run(run_id: str) -> Run:
    """One run by its ledger id (or a unique prefix)."""
    ws = Workspace.find()
    item = api.find(api.candidates(scan_items(ws), [run_id]), run_id)
    return from_record(item.record, _artifact_uri(ws, item.record["id"]))


def _value(run: Run, column: str) -> Any:
    parts = fields.split_name(column)  # metrics.`val/auc`, as everywhere else
    kind = fields.PREFIXES.get(parts[0].lower(), parts[0]) if parts else ""
    key = ".".join(parts[1:])
    if kind == "metrics":
        return run.data.metrics.get(key)
    if kind == "params":
        return run.data.params.get(key)
    if kind == "tags":
        return run.data.tags.get(key)
    key = key if kind in ("attribute", "attributes", "attr", "run") else column
    if key == "run_name":
        return run.info.run_name
    if key not in _ATTRIBUTES:
        raise MlflowException(f"search_runs: cannot order by {column!r}")
    return getattr(run.info, key)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def order(runs: list[Run], order_by: list[str] | None) -> list[Run]:
    """MLflow's order: each clause in turn (missing values last), then newest start, then id."""
    ranked = sorted(runs, key=lambda r: r.info.run_id)
    ranked.sort(key=lambda r: -(r.info.start_time or 0))
    for clause in reversed(order_by or []):
        words = clause.strip().rsplit(None, 1)
        descending = len(words) == 2 and words[1].upper() == "DESC"
        column = words[0] if len(words) == 2 and words[1].upper() in ("ASC", "DESC") else clause.strip()
        present = [r for r in ranked if not _missing(_value(r, column))]
        absent = [r for r in ranked if _missing(_value(r, column))]
        present.sort(key=lambda r: _value(r, column), reverse=descending)
        ranked = present + absent
    return ranked


def rows(runs: list[Run]) -> list[dict[str, Any]]:
    metrics = sorted({k for r in runs for k in r.data.metrics})
    params = sorted({k for r in runs for k in r.data.params})
    tags = sorted({k for r in runs for k in r.data.tags})
    table = []
    for run in runs:
        row: dict[str, Any] = {
            "run_id": run.info.run_id, "experiment_id": run.info.experiment_id,
            "status": run.info.status, "artifact_uri": run.info.artifact_uri,
            "start_time": run.info.start_time, "end_time": run.info.end_time,
        }  # fmt: skip
        row.update({f"metrics.{k}": run.data.metrics.get(k) for k in metrics})
        row.update({f"params.{k}": run.data.params.get(k) for k in params})
        row.update({f"tags.{k}": run.data.tags.get(k) for k in tags})
        table.append(row)
    return table


def search_runs(
    experiment_ids: list[str] | None = None,
    filter_string: str = "",
    run_view_type: int = 1,
    max_results: int = 100000,
    order_by: list[str] | None = None,
    output_format: str = "pandas",
    search_all_experiments: bool = False,
    experiment_names: list[str] | None = None,
) -> Any:
    """Runs of the given experiments (default: the current one), ordered as MLflow orders.

    `filter_string` is ledger's `--where` grammar (MLflow's, plus `or`, `not`, parentheses)
    applied to the records: statuses are ledger's (`status = 'finished'`).
    """
    wanted = set(experiment_ids or []) | set(experiment_names or [])
    if not wanted and not search_all_experiments:
        wanted = {current_experiment()}
    found = [r for r in _runs(Workspace.find(), filter_string)
             if search_all_experiments or r.info.experiment_id in wanted]  # fmt: skip
    found = order(found, order_by)[:max_results]
    if output_format == "list":
        return found
    if output_format != "pandas":
        raise MlflowException("search_runs: output_format must be 'pandas' or 'list'")
    table = rows(found)
    from ledger.read.frames import data_frame

    try:
        return data_frame(table, list(table[0]) if table else list(BASE_COLUMNS), epoch_ms=("start_time", "end_time"))
    except ImportError:
        return table  # documented: without pandas, a list of dicts with MLflow's columns
