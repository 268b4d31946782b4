"""`mlflow.tracking` on ledger: present so `import mlflow.tracking` keeps the shim, and
every name in it says what to use (MLflow's own client runs over the ledger through the
plugin: MLFLOW_TRACKING_URI=ledger: with MLflow installed)."""

from __future__ import annotations

from typing import Any

from ledger.mlflow.exceptions import Unsupported

PLUGIN_HINT = "for MLflow's own client use real MLflow with the ledger plugin (MLFLOW_TRACKING_URI=ledger:)"


def __getattr__(name: str) -> Any:
    if name.startswith("_"):
        raise AttributeError(name)
    raise Unsupported(f"tracking.{name}", PLUGIN_HINT)
