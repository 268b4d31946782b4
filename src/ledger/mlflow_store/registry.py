"""The model registry under `ledger:`: refused clearly, at the first registry call."""

from __future__ import annotations

from typing import Any

from ledger.mlflow_store.unsupported import Unsupported


def refuse_registry(store_uri: str | None = None, **kwargs: Any) -> Any:
    """MLflow builds the registry store for `ledger:` URIs here; a ledger has no registry
    of MLflow's kind (`ledger select` records model decisions)."""
    raise Unsupported("the model registry (register_model, registered_model_name=)")
