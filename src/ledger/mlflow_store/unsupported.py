"""The store calls a ledger does not serve, refused with MLflow's exception type and a
message that names the call and what to use instead (never a silent no-op)."""

from __future__ import annotations

import abc
import inspect
from typing import Any

from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import NOT_IMPLEMENTED
from mlflow.store.tracking.abstract_store import AbstractStore

_HINTS = (
    (
        ("trace", "span", "assessment", "session"),
        "traces are not kept in a ledger: send MLflow tracing to an MLflow store of its own (e.g. sqlite:///mlflow.db)",
    ),
    (
        ("delete_run", "restore_run"),
        "a ledger keeps every run (the git history is the record): tag the run "
        "instead, e.g. mlflow.set_tag('discarded', 'true')",
    ),
    (
        ("experiment",),
        "experiments are the names on ledger records: start runs under another name with mlflow.set_experiment",
    ),
    (("delete_tag",), "a record keeps its tags: set the tag to another value"),
    (
        ("registry", "registered_model", "model_version", "alias"),
        "record model decisions with `ledger select RUN "
        "--rationale TEXT` (GTO-compatible tags); the model files are artifacts of their run",
    ),
    (
        ("logged_model",),
        "models are artifacts of their run: use `ledger artifact get RUN NAME` or mlflow.artifacts.download_artifacts",
    ),
    (
        ("dataset",),
        "data versions come from DVC: `dvc add` the data, and each run records its version "
        "(mlflow.log_input is recorded too)",
    ),
    (("prompt",), "prompts are not kept in a ledger: use an MLflow store of its own"),
)
_DEFAULT = "this is not part of a ledger: use an MLflow store of its own (e.g. sqlite:///mlflow.db) for it"


class Unsupported(MlflowException, NotImplementedError):
    """A store call the ledger does not serve. Also a NotImplementedError, so MLflow's own
    fallbacks for stores without a feature keep working."""

    def __init__(self, call: str):
        hint = next((text for words, text in _HINTS if any(w in call for w in words)), _DEFAULT)
        super().__init__(f"{call} is not supported by ledger's MLflow store: {hint}", NOT_IMPLEMENTED)


def _refusal(name: str) -> Any:
    def refuse(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise Unsupported(name)

    refuse.__name__ = name
    refuse.__doc__ = f"Not supported: raises `Unsupported` naming `{name}`."
    return refuse


def _not_implemented(func: Any) -> bool:
    code = getattr(func, "__code__", None)
    return code is not None and "NotImplementedError" in code.co_names


def refuse_unsupported(cls: type, store: type = AbstractStore) -> None:
    """Give `cls` a clear refusal for every `store` call it does not implement: the
    abstract ones and those whose base version only raises NotImplementedError."""
    for base in store.__mro__:
        if base is object:
            continue
        for name, func in vars(base).items():
            if name.startswith("__") or not inspect.isfunction(func) or name in vars(cls):
                continue
            if getattr(func, "__isabstractmethod__", False) or _not_implemented(func):
                setattr(cls, name, _refusal(name))
    abc.update_abstractmethods(cls)
