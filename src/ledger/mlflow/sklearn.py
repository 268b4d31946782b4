"""`mlflow.sklearn` on ledger: `autolog` delegates to ledger's, `log_model` pickles the
fitted model into a run artifact (ledger writes pickles, it never loads them)."""

from __future__ import annotations

import pickle
import tempfile
from pathlib import Path
from typing import Any

from ledger.mlflow.artifacts import artifact_name
from ledger.mlflow.exceptions import Unsupported
from ledger.mlflow.fluent import current
from ledger.mlflow.models import ModelInfo


def autolog(log_models: bool = True, disable: bool = False, log_datasets: bool = True,
            **options: Any) -> None:  # fmt: skip
    try:
        from ledger.autolog import autolog as ledger_autolog
    except ImportError:
        raise Unsupported("sklearn.autolog", "this ledger has no autolog") from None
    ledger_autolog("sklearn", log_models=log_models, disable=disable, log_datasets=log_datasets)


def log_model(sk_model: Any, artifact_path: str | None = None, *, name: str | None = None,
              registered_model_name: str | None = None, signature: Any = None,
              **options: Any) -> ModelInfo:  # fmt: skip
    """Save the model as `<name>.pkl`, an artifact of kind `model` of the active run."""
    if registered_model_name is not None:
        raise Unsupported("sklearn.log_model(registered_model_name=...)",
                          "register models with `ledger select`")  # fmt: skip
    run = current(None, "sklearn.log_model").run
    label = artifact_name(name or artifact_path or "model")
    with tempfile.TemporaryDirectory(prefix="ledger-mlflow-") as tmp:
        path = Path(tmp) / f"{label}.pkl"
        with open(path, "wb") as fh:
            pickle.dump(sk_model, fh, protocol=pickle.HIGHEST_PROTOCOL)
        run.log_artifact(path, kind="model", name=path.name)
    return ModelInfo(run.id, label, f"runs:/{run.id}/{path.name}", signature)


def __getattr__(name: str) -> Any:
    if name.startswith("_"):
        raise AttributeError(name)
    raise Unsupported(f"sklearn.{name}")
