"""`search_runs` over records, with MLflow's own filter grammar, order and page tokens.

MLflow's `SearchUtils` does the filtering and ordering (so the semantics are MLflow's:
missing and NaN values last, then newest start, then run id), over light views of the
records: metrics, status, name and start time come from the read path's cached record
heads; params, tags and end times load the full record only when a filter or order
needs them. Only the page returned becomes MLflow `Run` objects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from mlflow.entities import Run, ViewType
from mlflow.utils.search_utils import SearchUtils

from ledger.core.workspace import Workspace
from ledger.mlflow.entities import flat_params, millis
from ledger.mlflow_store import experiments
from ledger.mlflow_store.convert import STATUS_TO_MLFLOW, latest_metrics, system_tags
from ledger.read.api import Item, scan_items


class _Info:
    """RunInfo's attributes, from a record head (full record on first need)."""

    def __init__(self, view: View):
        self._view = view

    @property
    def run_id(self) -> str:
        return str(self._view.head["id"])

    @property
    def run_name(self) -> str:
        return str(self._view.head.get("name", ""))

    @property
    def experiment_id(self) -> str:
        return self._view.experiment_id

    @property
    def status(self) -> str:
        return STATUS_TO_MLFLOW.get(str(self._view.head.get("status")), "FAILED")

    @property
    def start_time(self) -> int:
        return millis(self._view.head.get("started_at")) or 0

    @property
    def end_time(self) -> int | None:
        return millis(self._view.record().get("ended_at"))

    @property
    def user_id(self) -> str:
        return str((self._view.record().get("author") or {}).get("user") or "")

    @property
    def lifecycle_stage(self) -> str:
        return "active"

    @property
    def artifact_uri(self) -> str:
        return self._view.artifact_uri(self.run_id)


class _Data:
    def __init__(self, view: View):
        self._view = view

    @property
    def metrics(self) -> dict[str, float]:
        return latest_metrics(self._view.head)

    @property
    def params(self) -> dict[str, str]:
        return flat_params(self._view.record().get("params"))

    @property
    def tags(self) -> dict[str, str]:
        return system_tags(self._view.record())


class _Inputs:
    dataset_inputs: list[Any] = []


class View:
    """One record as `SearchUtils` reads a run (`.info`, `.data`, `.inputs`)."""

    inputs = _Inputs()

    def __init__(
        self,
        head: dict[str, Any],
        load: Callable[[], dict[str, Any]],
        experiment_id: str,
        artifact_uri: Callable[[str], str],
        make: Callable[[], Run],
    ):
        self.head = head
        self.record = load
        self.experiment_id = experiment_id
        self.artifact_uri = artifact_uri
        self.make = make
        self.info = _Info(self)
        self.data = _Data(self)


def search(
    ws: Workspace,
    views: Iterable[View],
    filter_string: str | None,
    run_view_type: int,
    max_results: int,
    order_by: list[str] | None,
    page_token: str | None,
) -> tuple[list[Run], str | None]:
    if run_view_type == ViewType.DELETED_ONLY:
        return [], None  # a ledger keeps every run: none is deleted
    found = SearchUtils.filter(list(views), filter_string)
    ranked = SearchUtils.sort(found, order_by)
    start = SearchUtils.parse_start_offset_from_page_token(page_token)
    page = ranked[start : start + max_results]
    token = SearchUtils.create_page_token(start + max_results) if start + max_results < len(ranked) else None
    return [view.make() for view in page], token.decode("ascii") if isinstance(token, bytes) else token


def record_views(
    ws: Workspace,
    experiment_ids: Iterable[str],
    skip: set[str],
    to_run: Callable[[dict[str, Any], str], Run],
    artifact_uri: Callable[[str], str],
) -> list[View]:
    """Views of the records (HEAD and the working tree) in the given experiments."""
    wanted = {str(e) for e in experiment_ids}
    ids: dict[str, str] = {}
    views = []
    for item in scan_items(ws):
        head = item.head
        if head.get("id") in skip:
            continue
        name = str(head.get("experiment") or ws.config.experiment)
        experiment_id = ids.get(name)
        if experiment_id is None:
            experiment_id = ids[name] = experiments.id_for(ws, name)
        if experiment_id not in wanted:
            continue
        views.append(_view(item, experiment_id, to_run, artifact_uri))
    return views


def _view(
    item: Item,
    experiment_id: str,
    to_run: Callable[[dict[str, Any], str], Run],
    artifact_uri: Callable[[str], str],
) -> View:
    def load() -> dict[str, Any]:
        return item.record

    return View(item.head, load, experiment_id, artifact_uri, lambda: to_run(item.record, experiment_id))
