"""ledger: a Git-native, file-based experiment ledger.

import ledger

with ledger.start_run(name="xgb-deeper", description="deeper trees help?") as run:
    params = ledger.params()
    run.log_metric("val/auc", 0.93)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ledger.errors import LedgerError, TrialPruned

if TYPE_CHECKING:
    from ledger import autolog
    from ledger.read.api import Runs, runs, top
    from ledger.write.active import active_run, params, start_run
    from ledger.write.tracking import Run

__version__ = "0.1.0"

# The run lifecycle (and its capture providers) and the read path load on first use, so a
# reading command never pays for the write path, nor a training script for the read path.
_LAZY = {"Run": "ledger.write.tracking", "active_run": "ledger.write.active", "params": "ledger.write.active",
         "start_run": "ledger.write.active", "Runs": "ledger.read.api", "runs": "ledger.read.api",
         "top": "ledger.read.api"}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name == "autolog":
        # A callable subpackage; it imports no ML framework until that framework is used.
        return importlib.import_module("ledger.autolog")
    raise AttributeError(f"module 'ledger' has no attribute {name!r}")


def require_run() -> Run:
    from ledger.write.active import require_run as _require_run

    return _require_run()


__all__ = [
    "LedgerError",
    "Run",
    "TrialPruned",
    "Runs",
    "__version__",
    "active_run",
    "autolog",
    "end_run",
    "log_artifact",
    "log_cost",
    "log_dataset",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "note",
    "params",
    "runs",
    "set_tag",
    "set_tags",
    "start_run",
    "top",
]


# The shortcuts below act on the active run; with none, they start one (as MLflow does),
# which ends `finished` with the process unless `ledger.end_run()` ends it first.


def log_param(key: str, value: Any) -> None:
    """Log one parameter on the active run."""
    require_run().log_param(key, value)


def log_params(values: dict[str, Any]) -> None:
    """Log parameters (nested mappings allowed) on the active run."""
    require_run().log_params(values)


def log_metric(name: str, value: Any, step: int | None = None) -> None:
    """Log one metric point on the active run (`step` defaults to the metric's next step)."""
    require_run().log_metric(name, value, step)


def log_metrics(values: dict[str, Any], step: int | None = None) -> None:
    """Log several metrics at one step on the active run."""
    require_run().log_metrics(values, step)


def log_artifact(path: str, kind: str = "artifact", name: str | None = None) -> dict[str, Any]:
    """Record a file produced by the run (small files beside the record, large in DVC)."""
    return require_run().log_artifact(path, kind=kind, name=name)


def log_dataset(name: str, data: Any, target: Any = None, context: str | None = None) -> dict[str, Any]:
    """Record statistics of a dataset (rows, columns, missing values, classes, hash)."""
    return require_run().log_dataset(name, data, target=target, context=context)


def log_cost(amount: float, currency: str | None = None, description: str | None = None) -> None:
    """Record an explicit cost, such as LLM API spend."""
    require_run().log_cost(amount, currency, description)


def set_tag(key: str, value: Any = "") -> None:
    require_run().set_tag(key, value)


def set_tags(tags: dict[str, Any]) -> None:
    require_run().set_tags(tags)


def note(text: str) -> None:
    """Add a paragraph to the run's narrative notes."""
    require_run().note(text)


def end_run(status: str = "finished") -> None:
    """End the active run (for runs started without `with`); with none, do nothing."""
    from ledger.write.active import end_run as _end_run

    _end_run(status)
