"""The logging API every run has, whether it owns its record or is attached to a parent
`ledger run`: params, metric points, artifacts, datasets, costs, tags, notes and the few
fields a client may set. Each call is one event appended to the run's journal in its
sidecar (`events.jsonl`), or one point in the buffer that becomes `series.tsv`; the final
record is folded from them when the run ends (`ledger.write.finalize`). How a run starts
and ends is `ledger.write.tracking`.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ledger.core import journal, record
from ledger.core.workspace import Workspace
from ledger.errors import LedgerError
from ledger.write import trial as sweep_trial
from ledger.write.artifacts import store_artifact
from ledger.write.datasets import dataset_stats
from ledger.write.names import tag_mapping
from ledger.write.points import Points


class RunLogging:
    """What a run records while it runs (the base of `tracking.Run`, which sets these)."""

    ws: Workspace
    id: str
    _dir: Path
    _ended: bool
    _points: Points
    _reporter: sweep_trial.Reporter | None

    def log_params(self, params: dict[str, Any]) -> None:
        if not isinstance(params, dict):
            raise LedgerError("log_params takes a mapping of names to values")
        self._event("params", {"params": _jsonable(params)})

    def log_param(self, key: str, value: Any) -> None:
        self.log_params({key: value})

    def log_metric(self, name: str, value: Any, step: int | None = None, *, timestamp: float | None = None) -> None:
        """One metric point. Without `step`, each metric counts its own steps from 0;
        `timestamp` (seconds since the epoch) is when it was measured, default now."""
        number, step = self._points.add(name, value, step, timestamp)
        if self._reporter is not None and name == self._reporter.metric:
            self._reporter.report(self._dir, number, step)  # may raise TrialPruned

    def log_metrics(self, metrics: dict[str, Any], step: int | None = None) -> None:
        for name, value in metrics.items():
            self.log_metric(name, value, step)

    def log_artifact(
        self, path: str | os.PathLike[str], kind: str = "artifact", name: str | None = None
    ) -> dict[str, Any]:
        entry = store_artifact(self.ws, record.sidecar_dir(self.id), path, kind=kind, name=name)
        self._event("artifact", {"artifact": entry})
        return entry

    def log_dataset(self, name: str, data: Any, target: Any = None, context: str | None = None) -> dict[str, Any]:
        stats = dataset_stats(data, target, context)
        self._event("dataset", {"name": name, "stats": stats})
        return stats

    def log_dataset_stats(self, name: str, stats: dict[str, Any]) -> None:
        """Record a dataset known only by its description (rows, columns, hash, context),
        as a client such as MLflow reports it."""
        self._event("dataset", {"name": str(name), "stats": dict(stats)})

    def set_fields(self, **fields: Any) -> None:
        """Change record fields a client may set while the run is open (`name`,
        `description`, `experiment`)."""
        unknown = set(fields) - {"name", "description", "experiment"}
        if unknown:
            raise LedgerError(f"set_fields cannot set {', '.join(sorted(unknown))}")
        self._event("fields", {"fields": fields})

    def log_cost(self, amount: float, currency: str | None = None, description: str | None = None) -> None:
        if not isinstance(amount, (int, float)) or isinstance(amount, bool) or not math.isfinite(amount):
            raise LedgerError(f"cost amount must be a finite number, not {amount!r}")
        currency = currency or self.ws.config.currency
        self._event("cost", {"cost": {"amount": float(amount), "currency": currency, "description": description}})

    def set_distributed(self, field: dict[str, Any]) -> None:
        """The distributed job this run records for (rank 0 of `world_size`, the launcher),
        known when the rank attaches to a `ledger run`."""
        self._event("fields", {"fields": {"distributed": field}})

    def record_outputs(
        self, *, data: list[dict[str, Any]] | None = None, artifacts: Iterable[dict[str, Any]] = ()
    ) -> None:
        """What a pipeline produced, known after it ran: `data` (the entries from `dvc.lock`
        after the run) supersedes the data captured at start; each artifact entry (already
        stored, as `store_artifact` returns it) is added to the record."""
        if data is not None:
            self._event("fields", {"fields": {"data": data}})
        for entry in artifacts:
            self._event("artifact", {"artifact": entry})

    def set_tag(self, key: str, value: Any = "") -> None:
        self.set_tags({key: value})

    def set_tags(self, tags: dict[str, Any] | list[str] | tuple[str, ...]) -> None:
        """Tags as a mapping (`{"stage": "dev"}`) or a list of names without values
        (`["baseline", "v2"]`, as W&B takes them)."""
        self._event("tags", {"tags": tag_mapping(tags)})

    def note(self, text: str) -> None:
        self._event("note", {"text": str(text)})

    def flush(self) -> None:
        """Write buffered metric points now (they are also written every second)."""
        self._points.flush()

    def _event(self, kind: str, payload: dict[str, Any]) -> None:
        if self._ended:
            raise LedgerError(f"run {self.id} has ended: start a new run to log more")
        journal.write_event(self._dir, kind, payload)


def _jsonable(value: Any) -> Any:
    """Params as plain JSON-compatible values (numpy scalars, tuples, paths made plain)."""
    return json.loads(json.dumps(value, default=_plain, allow_nan=True))


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)
    if callable(item):
        return item()
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    return str(value)
