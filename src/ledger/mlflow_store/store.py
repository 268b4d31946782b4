"""`LedgerStore`: MLflow's tracking store (AbstractStore) over a ledger repository.

Writes go through ledger's write path (`tracking.Run`: context captured at start, journal
while open, the final record validated and committed the normal way when the run ends);
reads come from the read path (records at HEAD plus the working tree, through the blob
cache), except for runs this process opened, which are answered from their live state.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import time
from typing import Any

from mlflow.entities import (
    Metric,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from mlflow.entities import Param as MlflowParam
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_STATE, RESOURCE_DOES_NOT_EXIST
from mlflow.store.entities.paged_list import PagedList
from mlflow.store.tracking.abstract_store import AbstractStore
from mlflow.utils.name_utils import _generate_random_name
from mlflow.utils.search_utils import SearchExperimentsUtils

from ledger.core import journal, record
from ledger.core.redact import scrub_paths
from ledger.mlflow_store import experiments, live, models
from ledger.mlflow_store.convert import STATUS_TO_MLFLOW, history, single_point, to_run
from ledger.mlflow_store.search import View, record_views, search
from ledger.mlflow_store.unsupported import Unsupported, refuse_unsupported
from ledger.mlflow_store.uri import artifact_uri, workspace_for
from ledger.read import api
from ledger.read.locate import companion_file

PARENT_TAG = "mlflow.parentRunId"
RUN_NAME_TAG = "mlflow.runName"
NOTE_TAG = "mlflow.note.content"
_SPACE = re.compile(r"\s")


def _names_check(kind: str, key: str, limit: int) -> None:
    """Names a record can keep: no whitespace (ledger's files and filters split on it)."""
    if not isinstance(key, str) or not key:
        raise MlflowException.invalid_parameter_value(f"a {kind} needs a non-empty name")
    if _SPACE.search(key):
        raise MlflowException.invalid_parameter_value(
            f"{kind} name {key!r} contains whitespace, which a ledger record cannot keep: log it "
            f"as {_SPACE.sub('_', key)!r} (or 'a/b' style) instead"
        )
    if len(key) > limit:
        raise MlflowException.invalid_parameter_value(
            f"{kind} name of {len(key)} characters: a ledger record keeps at most {limit}"
        )


def _check_tags(ws: Any, tags: list[RunTag]) -> dict[str, str]:
    values = {}
    for tag in tags:
        _names_check("tag", tag.key, 100)
        value = scrub_paths(str(tag.value), ws.root)
        if len(value) > 2000 and tag.key not in (NOTE_TAG,):
            raise MlflowException.invalid_parameter_value(
                f"tag {tag.key} has {len(value)} characters: a ledger record keeps at most 2000 "
                "per tag (put long text in an artifact, e.g. mlflow.log_text)"
            )
        values[tag.key] = value
    if RUN_NAME_TAG in values and len(values[RUN_NAME_TAG]) > 200:
        raise MlflowException.invalid_parameter_value("a run name of more than 200 characters")
    return values


class LedgerStore(AbstractStore):
    """MLflow tracking store for `ledger:` URIs (see the package docstring)."""

    def __init__(self, store_uri: str | None = None, artifact_uri: str | None = None) -> None:
        super().__init__()
        self.ws = workspace_for(store_uri)

    # ------------------------------------------------------------------ experiments

    def search_experiments(
        self,
        view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: list[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        found = (
            []
            if view_type == ViewType.DELETED_ONLY
            else [experiments.entity(self.ws, eid, name) for eid, name in experiments.all_experiments(self.ws).items()]
        )
        found = SearchExperimentsUtils.filter(found, filter_string)
        found = SearchExperimentsUtils.sort(found, order_by or ["name ASC"])
        start = SearchExperimentsUtils.parse_start_offset_from_page_token(page_token)
        page = found[start : start + max_results]
        more = start + max_results < len(found)
        token = SearchExperimentsUtils.create_page_token(start + max_results) if more else None
        return PagedList(page, token.decode("ascii") if isinstance(token, bytes) else token)

    def create_experiment(self, name: str, artifact_location: str | None = None, tags: Any = None) -> str:
        return experiments.create(self.ws, name)

    def get_experiment(self, experiment_id: str) -> Any:
        experiment_id = str(experiment_id)
        return experiments.entity(self.ws, experiment_id, experiments.name_for(self.ws, experiment_id))

    def get_experiment_by_name(self, experiment_name: str) -> Any:
        experiment_id = experiments.id_for(self.ws, experiment_name)
        try:
            name = experiments.name_for(self.ws, experiment_id)
        except MlflowException:
            return None
        return experiments.entity(self.ws, experiment_id, name) if name == experiment_name else None

    # ------------------------------------------------------------------ runs: writes

    def create_run(
        self, experiment_id: str, user_id: str, start_time: int, tags: list[RunTag], run_name: str | None
    ) -> Run:
        experiment_id = str(experiment_id)
        experiment = experiments.name_for(self.ws, experiment_id)
        values = _check_tags(self.ws, list(tags or []))
        name = values.pop(RUN_NAME_TAG, None) or run_name
        if not name and not self.ws.config.naming:
            name = _generate_random_name()
        description = values.pop(NOTE_TAG, None)
        if name and len(name) > 200:
            raise MlflowException.invalid_parameter_value("a run name of more than 200 characters")
        started = start_time if start_time is not None else int(time.time() * 1000)
        opened = live.start(
            self.ws,
            name=name or "",
            description=description,
            tags=values,
            experiment=experiment,
            experiment_id=experiment_id,
            user=user_id or "",
            start_ms=started,
        )
        if not name:
            opened.name = opened.run.name
        return self._live_run(opened)

    def update_run_info(self, run_id: str, run_status: Any, end_time: int | None, run_name: str | None) -> RunInfo:
        status = RunStatus.to_string(run_status) if isinstance(run_status, int) else str(run_status)
        opened = live.get(run_id)
        if opened is None:
            run = self.get_run(run_id)
            if status != run.info.status:
                raise MlflowException(
                    f"run {run_id} has ended {run.info.status}: a ledger record is not changed afterwards",
                    INVALID_STATE,
                )
            return run.info
        if opened.status == "RUNNING":
            if run_name and run_name != opened.name:
                self._rename(opened, run_name)
            if status != "RUNNING":
                live.end(opened, status, end_time)
        return self._live_run(opened).info

    def _rename(self, opened: live.Live, name: str) -> None:
        if len(name) > 200:
            raise MlflowException.invalid_parameter_value("a run name of more than 200 characters")
        opened.run.set_fields(name=name)
        opened.name = name

    def log_batch(self, run_id: str, metrics: list[Metric], params: list[MlflowParam], tags: list[RunTag]) -> None:
        opened = live.writable(run_id)
        values = _check_tags(self.ws, list(tags or []))
        new_params: dict[str, str] = {}
        for param in params or []:
            if not isinstance(param.key, str) or not param.key:
                raise MlflowException.invalid_parameter_value("a param needs a non-empty name")
            value = str(param.value)
            old = opened.params.get(param.key, new_params.get(param.key))
            if old is not None and old != value:
                raise MlflowException.invalid_parameter_value(
                    f"Changing param values is not allowed. Param with key='{param.key}' was already logged "
                    f"with value='{old}' for run ID='{run_id}'. Attempted logging new value '{value}'."
                )
            new_params[param.key] = value
        for metric in metrics or []:
            _names_check("metric", metric.key, 200)
        if new_params:
            opened.run.log_params(new_params)
            opened.params.update(new_params)
        for metric in metrics or []:
            self._log_point(opened, metric)
        if values:
            self._set_tags(opened, values)

    def _log_point(self, opened: live.Live, metric: Metric) -> None:
        value, step = float(metric.value), int(metric.step or 0)
        stamp = int(metric.timestamp) if metric.timestamp is not None else int(time.time() * 1000)
        point = (metric.key, step, stamp, value if value == value else "nan")
        if point in opened.points:
            return  # the same point again (MLflow logs a model's metrics once more): one point, as in MLflow
        opened.points.add(point)
        opened.run.log_metric(metric.key, value, step, timestamp=stamp / 1000)
        old = opened.latest.get(metric.key)
        if old is None or (step, stamp) > old[:2] or ((step, stamp) == old[:2] and value > old[2]):
            opened.latest[metric.key] = (step, stamp, value)

    def _set_tags(self, opened: live.Live, values: dict[str, str]) -> None:
        if RUN_NAME_TAG in values:
            self._rename(opened, values.pop(RUN_NAME_TAG))
        if NOTE_TAG in values:
            opened.description = values.pop(NOTE_TAG)
            opened.run.set_fields(description=opened.description)
        if values:
            opened.run.set_tags(values)
            opened.tags.update(values)

    def set_tag(self, run_id: str, tag: RunTag) -> None:
        self.log_batch(run_id, [], [], [tag])

    def log_inputs(self, run_id: str, datasets: Any = None, models: Any = None) -> None:
        """MLflow datasets (name, digest, profile, context) become the record's datasets."""
        opened = live.writable(run_id)
        for item in datasets or []:
            dataset = item.dataset
            context = next((t.value for t in item.tags or [] if t.key == "mlflow.data.context"), None)
            rows = _profile_rows(getattr(dataset, "profile", None))
            opened.run.log_dataset_stats(dataset.name, {"rows": rows, "hash": dataset.digest, "context": context})

    def log_outputs(self, run_id: str, models: Any) -> None:
        live.writable(run_id)  # the models' files are the run's artifacts already

    def record_logged_model(self, run_id: str, mlflow_model: Any) -> None:
        live.writable(run_id)  # MLflow's model history; the model files are the run's artifacts

    # ------------------------------------------------------------------ runs: reads

    def _live_run(self, opened: live.Live) -> Run:
        info = RunInfo(
            run_id=opened.id,
            experiment_id=opened.experiment_id,
            user_id=opened.user,
            status=opened.status,
            start_time=opened.start_ms,
            end_time=opened.end_ms,
            lifecycle_stage="active",
            artifact_uri=artifact_uri(self.ws, opened.id),
            run_name=opened.name,
        )
        tags = dict(opened.tags)
        tags[RUN_NAME_TAG] = opened.name
        if opened.description:
            tags[NOTE_TAG] = opened.description
        if opened.user:
            tags.setdefault("mlflow.user", opened.user)
        metrics = [Metric(k, v, ts, step) for k, (step, ts, v) in opened.latest.items()]
        params = [MlflowParam(k, v) for k, v in opened.params.items()]
        return Run(info, RunData(metrics=metrics, params=params, tags=[RunTag(k, v) for k, v in tags.items()]))

    @staticmethod
    def find_item(ws: Any, run_id: str) -> api.Item:
        """A run's record from the read path (HEAD and the working tree)."""
        if not isinstance(run_id, str) or not record.is_run_id(run_id):
            raise MlflowException(f"Run '{run_id}' not found", RESOURCE_DOES_NOT_EXIST)
        item = api.run_by_id(ws, run_id)
        if item is None:
            raise MlflowException(f"Run '{run_id}' not found", RESOURCE_DOES_NOT_EXIST)
        return item

    def _record_run(self, rec: dict[str, Any], experiment_id: str | None = None) -> Run:
        if experiment_id is None:
            experiment_id = experiments.id_for(self.ws, str(rec.get("experiment") or self.ws.config.experiment))
        return to_run(rec, experiment_id, artifact_uri(self.ws, str(rec["id"])))

    def get_run(self, run_id: str) -> Run:
        opened = live.get(run_id)
        if opened is not None:
            return self._live_run(opened)
        return self._record_run(self.find_item(self.ws, run_id).record)

    def get_metric_history(
        self, run_id: str, metric_key: str, max_results: int | None = None, page_token: str | None = None
    ) -> PagedList:
        opened = live.get(run_id)
        if opened is not None:
            opened.run.flush()
            series = self.ws.path(record.sidecar_dir(run_id)) / journal.SERIES_FILE
            text = series.read_text(encoding="utf-8") if series.is_file() else ""
            if not text and opened.record is not None:
                return PagedList(single_point(opened.record, metric_key), None)
            return PagedList(history(text, metric_key, int(round(opened.run.started * 1000))), None)
        item = self.find_item(self.ws, run_id)
        rec = item.record
        path = (rec.get("series") or {}).get("path")
        data = companion_file(self.ws, item.loaded(), path) if path else None
        start = int(round((record.parse_timestamp(str(rec.get("started_at"))) or 0) * 1000))
        points = history(data.decode("utf-8", "replace"), metric_key, start) if data else []
        return PagedList(points or single_point(rec, metric_key), None)

    def _search_runs(
        self,
        experiment_ids: list[str],
        filter_string: str | None,
        run_view_type: int,
        max_results: int,
        order_by: list[str] | None,
        page_token: str | None,
    ) -> tuple[list[Run], str | None]:
        wanted = {str(e) for e in experiment_ids or []}
        opened = [o for o in live.all_in_process() if o.experiment_id in wanted and o.ws.root == self.ws.root]
        views = record_views(
            self.ws, wanted, {o.id for o in opened}, self._record_run_in, lambda run_id: artifact_uri(self.ws, run_id)
        )
        views += [self._live_view(o) for o in opened]
        return search(self.ws, views, filter_string, run_view_type, max_results, order_by, page_token)

    def _record_run_in(self, rec: dict[str, Any], experiment_id: str) -> Run:
        return self._record_run(rec, experiment_id)

    def _live_view(self, opened: live.Live) -> View:
        run = self._live_run(opened)
        head = {
            "id": opened.id,
            "name": opened.name,
            "status": _ledger_status(opened.status),
            "started_at": record.timestamp(_dt.datetime.fromtimestamp(opened.start_ms / 1000, _dt.timezone.utc)),
            "metrics": dict(run.data.metrics),
        }
        full = {
            **head,
            "params": dict(opened.params),
            "tags": run.data.tags,
            "author": {"user": opened.user},
            "ended_at": None
            if opened.end_ms is None
            else record.timestamp(_dt.datetime.fromtimestamp(opened.end_ms / 1000, _dt.timezone.utc)),
        }
        return View(head, lambda: full, opened.experiment_id, lambda run_id: run.info.artifact_uri, lambda: run)

    # ------------------------------------------------------------------ logged models

    def create_logged_model(
        self,
        experiment_id: str = "0",
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Any = None,
        params: Any = None,
        model_type: str | None = None,
    ) -> Any:
        return models.create(self.ws, str(experiment_id), name, source_run_id, tags, params, model_type)

    def search_logged_models(
        self,
        experiment_ids: list[str],
        filter_string: str | None = None,
        datasets: Any = None,
        max_results: int | None = None,
        order_by: Any = None,
        page_token: str | None = None,
    ) -> PagedList:
        if datasets or order_by or page_token:
            raise Unsupported("search_logged_models(datasets=, order_by=, page_token=)")
        found = models.search(self.ws, experiment_ids, filter_string)
        return PagedList(found[:max_results] if max_results else found, None)

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> Any:
        return models.get(self.ws, model_id)

    def finalize_logged_model(self, model_id: str, status: Any) -> Any:
        return models.finalize(self.ws, model_id, status)

    def set_logged_model_tags(self, model_id: str, tags: Any) -> None:
        models.set_tags(self.ws, model_id, tags)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        models.delete_tag(self.ws, model_id, key)


def _ledger_status(mlflow_status: str) -> str:
    return {v: k for k, v in STATUS_TO_MLFLOW.items() if k != "crashed"}.get(mlflow_status, "running")


def _profile_rows(profile: Any) -> int | None:
    import json

    try:
        rows = json.loads(profile).get("num_rows") if isinstance(profile, str) else None
    except (ValueError, AttributeError):
        return None
    return int(rows) if isinstance(rows, (int, float)) and not isinstance(rows, bool) and math.isfinite(rows) else None


refuse_unsupported(LedgerStore)
