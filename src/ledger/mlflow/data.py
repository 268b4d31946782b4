"""`mlflow.data` basics on ledger: `from_pandas` / `from_numpy` make a dataset that
`mlflow.log_input` records as the run's dataset statistics (rows, columns, missing values,
classes, content hash), as `ledger.log_dataset` does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledger.mlflow.exceptions import Unsupported


@dataclass(frozen=True)
class Dataset:
    data: Any
    targets: Any = None
    name: str = "dataset"
    source: str | None = None


def _target(data: Any, targets: Any) -> Any:
    if isinstance(targets, str) and hasattr(data, "columns"):
        return data[targets]  # a column name, as MLflow takes it
    return targets


def from_pandas(df: Any, source: Any = None, targets: str | None = None, name: str | None = None,
                **options: Any) -> Dataset:  # fmt: skip
    return Dataset(df, _target(df, targets), name or "dataset", None if source is None else str(source))


def from_numpy(features: Any, source: Any = None, targets: Any = None, name: str | None = None,
               **options: Any) -> Dataset:  # fmt: skip
    return Dataset(features, targets, name or "dataset", None if source is None else str(source))


def __getattr__(name: str) -> Any:
    if name.startswith("_"):
        raise AttributeError(name)
    raise Unsupported(f"data.{name}", "make datasets with mlflow.data.from_pandas or from_numpy")
