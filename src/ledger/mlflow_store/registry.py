"""The model registry under `ledger:`: a store whose every call is refused clearly.

MLflow builds the registry store from the tracking URI when it starts (`mlflow server`,
`mlflow ui`) or at the first registry call; building succeeds, so the UI and the tracking
API work, and each registry call names itself and says what to use instead.
"""

from __future__ import annotations

from typing import Any

from mlflow.store.model_registry.abstract_store import AbstractStore

from ledger.mlflow_store.unsupported import refuse_unsupported


class RefusingRegistry(AbstractStore):
    """A model registry for `ledger:` URIs that refuses every call (`ledger select`
    records model decisions)."""

    def __init__(self, store_uri: str | None = None, **kwargs: Any) -> None:
        super().__init__(store_uri)


refuse_unsupported(RefusingRegistry, AbstractStore)


def refuse_registry(store_uri: str | None = None, **kwargs: Any) -> AbstractStore:
    # refuse_unsupported filled in every abstract call at import, which mypy cannot see
    return RefusingRegistry(store_uri)  # type: ignore[abstract]
