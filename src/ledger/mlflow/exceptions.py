"""MLflow's exception type, for scripts that catch it (`from mlflow.exceptions import ...`)."""

from __future__ import annotations

from ledger.errors import LedgerError


class MlflowException(LedgerError):
    """What MLflow raises for a bad call (a changed param, a second active run, ...)."""


class Unsupported(MlflowException, AttributeError):
    """An MLflow call that ledger.mlflow does not provide. Also an AttributeError, so
    `hasattr(mlflow, name)` and `getattr(mlflow, name, default)` keep working."""

    def __init__(self, call: str, hint: str = ""):
        self.call = call
        message = f"mlflow.{call} is not supported by ledger.mlflow"
        super().__init__(f"{message}: {hint}" if hint else f"{message}: use ledger's own API")
