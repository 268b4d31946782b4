"""MLflow's fluent tracking API, writing ledger records: change one line of a script.

    import ledger.mlflow as mlflow      # was: import mlflow

    mlflow.set_experiment("wine")
    with mlflow.start_run(run_name="elasticnet"):
        mlflow.log_param("alpha", 0.5)
        mlflow.log_metric("rmse", 0.71)

MLflow is not imported. What ledger.mlflow does not provide raises `Unsupported` (an
`MlflowException`, also an `AttributeError`) naming the call; it is never a silent no-op.
"""

from __future__ import annotations

import importlib
import importlib.abc
import sys
import warnings
from typing import Any

from ledger.errors import LedgerWarning
from ledger.mlflow.artifacts import log_artifact, log_artifacts, log_dict, log_figure, log_text
from ledger.mlflow.entities import ActiveRun, Experiment, Run, RunData, RunInfo
from ledger.mlflow.exceptions import MlflowException, Unsupported
from ledger.mlflow.fluent import (
    active_run,
    end_run,
    log_metric,
    log_metrics,
    log_param,
    log_params,
    set_experiment,
    set_tag,
    set_tags,
    start_run,
)
from ledger.mlflow.search import get_run, search_runs

__all__ = [
    "ActiveRun", "Experiment", "MlflowException", "Run", "RunData", "RunInfo", "Unsupported",
    "active_run", "autolog", "last_active_run", "log_input", "create_experiment", "end_run", "get_experiment_by_name",
    "get_run", "get_tracking_uri", "log_artifact", "log_artifacts", "log_dict", "log_figure",
    "log_metric", "log_metrics", "log_param", "log_params", "log_text", "search_runs",
    "set_experiment", "set_tag", "set_tags", "set_tracking_uri", "start_run",
]  # fmt: skip


def autolog(log_models: bool = True, disable: bool = False, log_datasets: bool = True,
            **options: Any) -> None:  # fmt: skip
    """Delegate to `ledger.autolog()` (scikit-learn, XGBoost, LightGBM, PyTorch).

    ledger names what it logs its own way: estimator params under `sklearn`, training
    metrics as `train/<metric>`; MLflow's other autolog options are accepted and unused.
    """
    try:
        from ledger.autolog import autolog as ledger_autolog
    except ImportError:
        raise Unsupported("autolog", "this ledger has no autolog: log params and metrics "
                          "explicitly") from None  # fmt: skip
    ledger_autolog(log_models=log_models, disable=disable, log_datasets=log_datasets)


def get_tracking_uri() -> str:
    """A `file:` URI of the workspace's records folder (runs live in the git repository)."""
    from ledger.core.record import RECORDS_DIR
    from ledger.core.workspace import Workspace

    return (Workspace.find().root / RECORDS_DIR).as_uri()


def set_tracking_uri(uri: str) -> None:
    """ledger records into the git repository; another tracking URI is not used (warns)."""
    warnings.warn(f"mlflow.set_tracking_uri({uri!r}) is ignored: ledger.mlflow records runs in "
                  "this git repository", LedgerWarning, stacklevel=2)  # fmt: skip


def create_experiment(name: str, artifact_location: str | None = None,
                      tags: dict[str, Any] | None = None) -> str:  # fmt: skip
    """Experiments are names in ledger: the id is the name."""
    return name


def get_experiment_by_name(name: str) -> Experiment | None:
    from ledger.core.workspace import Workspace
    from ledger.mlflow.search import _runs

    if any(r.info.experiment_id == name for r in _runs(Workspace.find())):
        return Experiment(experiment_id=name, name=name)
    return None


def __getattr__(name: str) -> Any:
    if name.startswith("_"):
        raise AttributeError(name)
    if name in SUBMODULES:  # like MLflow, `mlflow.sklearn` works without importing it
        return importlib.import_module(f"{__name__}.{name}")
    raise Unsupported(name)


def log_input(dataset: Any, context: str | None = None, tags: dict[str, str] | None = None,
              model: Any = None) -> None:  # fmt: skip
    """Record a dataset made by `mlflow.data.from_pandas`/`from_numpy` (its statistics)."""
    from ledger.mlflow.data import Dataset
    from ledger.mlflow.fluent import current

    if not isinstance(dataset, Dataset):
        raise Unsupported(f"log_input({type(dataset).__name__})", "make it with mlflow.data.from_pandas or from_numpy")
    current(None, "log_input").run.log_dataset(dataset.name, dataset.data, target=dataset.targets, context=context)


def last_active_run() -> Run | None:
    """The run that ended last in this process (or the active one), as MLflow gives it."""
    from ledger.mlflow.fluent import last_active_run_id

    active = active_run()
    if active is not None:
        return get_run(active.info.run_id)
    run_id = last_active_run_id()
    return get_run(run_id) if run_id else None


SUBMODULES = ("sklearn", "models", "tracking", "data")


class _RealMlflowGuard(importlib.abc.MetaPathFinder):
    """`import mlflow.sklearn` in a module where `mlflow` is this shim would rebind the name
    to real MLflow and silently record elsewhere: say so instead (ImportError)."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> None:
        if fullname != "mlflow" and not fullname.startswith("mlflow."):
            return None
        frame = sys._getframe(1)  # noqa: SLF001 - the documented way to see the importer's frame
        while frame is not None and frame.f_code.co_filename.startswith("<frozen"):
            frame = frame.f_back  # type: ignore[assignment]
        shim = sys.modules.get(__name__)
        if frame is not None and shim is not None and frame.f_globals.get("mlflow") is shim:
            raise ImportError(
                f"`import {fullname}...` here would switch this script from ledger.mlflow to real MLflow "
                "(it rebinds the name `mlflow`): mlflow.sklearn, mlflow.models, mlflow.tracking and "
                "mlflow.data already work with `import ledger.mlflow as mlflow`, so delete that import "
                "(or write `import ledger.mlflow.sklearn`, ...)"
            )
        return None


if not any(isinstance(f, _RealMlflowGuard) for f in sys.meta_path):
    sys.meta_path.insert(0, _RealMlflowGuard())
