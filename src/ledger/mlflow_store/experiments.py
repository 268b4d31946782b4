"""Experiments: in a ledger an experiment is a name on each record. MLflow wants ids.

- `0`, MLflow's default experiment, is the project's experiment (ledger.yaml);
- a name MLflow accepts as an id (letters, digits, `_`, `-`) is its own id, so URLs and
  filters stay readable;
- any other name gets `x-` and 16 hex of its sha256.

An experiment exists once a record names it; one created in this process and not used
yet lives in this process only (a ledger has nowhere else to keep an empty experiment).
"""

from __future__ import annotations

import hashlib
import re
import threading
import time

from mlflow.entities import Experiment, LifecycleStage
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import RESOURCE_ALREADY_EXISTS, RESOURCE_DOES_NOT_EXIST

from ledger.core.workspace import Workspace
from ledger.mlflow_store.uri import store_uri
from ledger.read.api import scan_items

DEFAULT_ID = "0"
_PLAIN = re.compile(r"^[a-zA-Z0-9][\w\-]{0,63}$")

_lock = threading.Lock()
_created: dict[tuple[str, str], tuple[str, int]] = {}  # (root, id) -> (name, creation ms)


def id_for(ws: Workspace, name: str) -> str:
    if name == ws.config.experiment:
        return DEFAULT_ID
    if _PLAIN.match(name) and name != DEFAULT_ID and not name.startswith("x-"):
        return name
    return "x-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:16]


def recorded_names(ws: Workspace) -> set[str]:
    """Every experiment name a record has (from the cheap record heads)."""
    return {str(item.head.get("experiment")) for item in scan_items(ws) if item.head.get("experiment")}


def all_experiments(ws: Workspace) -> dict[str, str]:
    """id -> name of every experiment: the default, the recorded ones, those created here."""
    names = {ws.config.experiment} | recorded_names(ws)
    with _lock:
        names |= {name for (root, _), (name, _) in _created.items() if root == str(ws.root)}
    return {id_for(ws, name): name for name in sorted(names)}


def name_for(ws: Workspace, experiment_id: str, known: dict[str, str] | None = None) -> str:
    """The experiment name of an id; RESOURCE_DOES_NOT_EXIST when no experiment has it."""
    experiment_id = str(experiment_id)
    if experiment_id == DEFAULT_ID:
        return ws.config.experiment
    with _lock:
        created = _created.get((str(ws.root), experiment_id))
    if created is not None:
        return created[0]
    found = (known if known is not None else all_experiments(ws)).get(experiment_id)
    if found is None:
        raise MlflowException(f"No Experiment with id={experiment_id} exists", RESOURCE_DOES_NOT_EXIST)
    return found


def create(ws: Workspace, name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise MlflowException.invalid_parameter_value("Invalid experiment name: an experiment needs a name")
    if len(name) > 200:
        raise MlflowException.invalid_parameter_value(
            f"experiment name of {len(name)} characters: a ledger record keeps at most 200"
        )
    experiment_id = id_for(ws, name)
    if experiment_id == DEFAULT_ID or name in recorded_names(ws):
        raise MlflowException(f"Experiment '{name}' already exists.", RESOURCE_ALREADY_EXISTS)
    with _lock:
        _created.setdefault((str(ws.root), experiment_id), (name, int(time.time() * 1000)))
    return experiment_id


def entity(ws: Workspace, experiment_id: str, name: str) -> Experiment:
    with _lock:
        created = _created.get((str(ws.root), experiment_id))
    when = created[1] if created else None
    return Experiment(
        experiment_id=experiment_id,
        name=name,
        artifact_location=f"{store_uri(ws)}/experiments",
        lifecycle_stage=LifecycleStage.ACTIVE,
        tags=[],
        creation_time=when,
        last_update_time=when,
    )
