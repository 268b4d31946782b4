"""`mlflow.models` on ledger: the signature helpers MLflow's quickstart uses.

`infer_signature` describes inputs and outputs (column names and types) so scripts that
pass `signature=` to `log_model` run unchanged; ledger keeps the model file, not MLflow's
MLmodel format. Anything else raises `Unsupported` naming it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ledger.mlflow.exceptions import Unsupported


@dataclass(frozen=True)
class ModelSignature:
    inputs: list[dict[str, str]] = field(default_factory=list)
    outputs: list[dict[str, str]] = field(default_factory=list)
    params: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"inputs": self.inputs, "outputs": self.outputs, "params": self.params}


@dataclass(frozen=True)
class ModelInfo:
    """What `log_model` returns: where the model went (`model_uri`, `artifact_path`)."""

    run_id: str
    artifact_path: str
    model_uri: str
    signature: ModelSignature | None = None


def _describe(data: Any) -> list[dict[str, str]]:
    if data is None:
        return []
    columns = getattr(data, "columns", None)
    dtypes = getattr(data, "dtypes", None)
    if columns is not None and dtypes is not None and hasattr(dtypes, "__getitem__"):
        return [{"name": str(c), "type": str(dtypes[c])} for c in columns]
    dtype = getattr(data, "dtype", None)
    shape = getattr(data, "shape", None)
    if dtype is not None:
        return [{"type": str(dtype), "shape": str(tuple(-1 if i == 0 else n for i, n in enumerate(shape or ())))}]
    return [{"type": type(data).__name__}]


def infer_signature(
    model_input: Any = None, model_output: Any = None, params: dict[str, Any] | None = None
) -> ModelSignature:
    """The column names and types of a model's input and output (pandas or numpy)."""
    return ModelSignature(_describe(model_input), _describe(model_output), params)


def __getattr__(name: str) -> Any:
    if name.startswith("_"):
        raise AttributeError(name)
    raise Unsupported(f"models.{name}")
