"""MLflow 3's logged models, as the run's artifacts: `log_model` writes the model's folder
into the run (`<name>/MLmodel`, `<name>/model.pkl`, ...; kind `model`), and its id is kept
on the run as the tag `ledger.model.<id>` = name, so `models:/<id>` resolves in a later
process too."""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

from mlflow.entities import LoggedModel, LoggedModelStatus
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import RESOURCE_DOES_NOT_EXIST

from ledger.core.workspace import Workspace
from ledger.mlflow_store import live
from ledger.mlflow_store.unsupported import Unsupported
from ledger.mlflow_store.uri import artifact_uri
from ledger.read.api import scan_items

TAG_PREFIX = "ledger.model."
_lock = threading.Lock()
_models: dict[str, LoggedModel] = {}


def create(
    ws: Workspace,
    experiment_id: str,
    name: str | None,
    source_run_id: str | None,
    tags: Any,
    params: Any,
    model_type: str | None,
) -> LoggedModel:
    if source_run_id is None:
        raise MlflowException.invalid_parameter_value(
            "log_model outside a run: a ledger keeps models as artifacts of a run; start a run first"
        )
    opened = live.writable(source_run_id)
    name = name or "model"
    model_id = f"m-{uuid.uuid4().hex}"
    opened.run.set_tags({f"{TAG_PREFIX}{model_id}": name})
    opened.model_dirs.add(name)
    now = int(time.time() * 1000)
    model = LoggedModel(
        experiment_id=experiment_id,
        model_id=model_id,
        name=name,
        artifact_location=artifact_uri(ws, source_run_id, name),
        creation_timestamp=now,
        last_updated_timestamp=now,
        model_type=model_type,
        source_run_id=source_run_id,
        status=LoggedModelStatus.PENDING,
        tags=_pairs(tags),
        params=_pairs(params),
    )
    with _lock:
        _models[model_id] = model
    return model


def _pairs(items: Any) -> dict[str, str]:
    if isinstance(items, dict):
        return {str(k): str(v) for k, v in items.items()}
    return {str(i.key): str(i.value) for i in items or []}


def model_dirs(rec: dict[str, Any]) -> set[str]:
    """The folders of a record's artifacts that hold logged models."""
    return {str(v) for k, v in (rec.get("tags") or {}).items() if str(k).startswith(TAG_PREFIX)}


def _recorded(ws: Workspace, experiment_ids: set[str] | None = None) -> Iterator[LoggedModel]:
    """Logged models of committed and working-tree records (from their `ledger.model.*` tags)."""
    from ledger.mlflow.entities import millis
    from ledger.mlflow_store.experiments import id_for

    for item in scan_items(ws):
        experiment_id = id_for(ws, str(item.head.get("experiment") or ws.config.experiment))
        if experiment_ids is not None and experiment_id not in experiment_ids:
            continue
        rec = item.record
        when = millis(rec.get("started_at")) or 0
        for key, name in (rec.get("tags") or {}).items():
            if str(key).startswith(TAG_PREFIX):
                yield LoggedModel(
                    experiment_id=experiment_id,
                    model_id=str(key)[len(TAG_PREFIX) :],
                    name=str(name),
                    artifact_location=artifact_uri(ws, str(rec["id"]), str(name)),
                    creation_timestamp=when,
                    last_updated_timestamp=when,
                    source_run_id=str(rec["id"]),
                    status=LoggedModelStatus.READY,
                )


def get(ws: Workspace, model_id: str) -> LoggedModel:
    with _lock:
        found = _models.get(model_id)
    if found is not None:
        return found
    for model in _recorded(ws):
        if model.model_id == model_id:
            return model
    raise MlflowException(f"Logged model with ID '{model_id}' not found", RESOURCE_DOES_NOT_EXIST)


_CLAUSE = re.compile(r"^\s*(name|source_run_id)\s*=\s*'([^']*)'\s*$")


def search(ws: Workspace, experiment_ids: list[str], filter_string: str | None) -> list[LoggedModel]:
    """Logged models by `name = '...'` and/or `source_run_id = '...'` (joined by AND)."""
    wanted: dict[str, str] = {}
    for clause in re.split(r"(?i)\s+and\s+", filter_string or "") if filter_string else []:
        match = _CLAUSE.match(clause)
        if match is None:
            raise Unsupported(f"search_logged_models(filter_string={filter_string!r})")
        wanted[match[1]] = match[2]
    ids = {str(e) for e in experiment_ids or []}
    with _lock:
        found = {m.model_id: m for m in _models.values() if m.experiment_id in ids}
    for model in _recorded(ws, ids):
        found.setdefault(model.model_id, model)
    return [m for m in found.values() if all(str(getattr(m, k)) == v for k, v in wanted.items())]


def finalize(ws: Workspace, model_id: str, status: Any) -> LoggedModel:
    model = get(ws, model_id)
    model.status = status
    return model


def set_tags(ws: Workspace, model_id: str, tags: Any) -> None:
    get(ws, model_id).tags.update(_pairs(tags))


def delete_tag(ws: Workspace, model_id: str, key: str) -> None:
    get(ws, model_id).tags.pop(key, None)
