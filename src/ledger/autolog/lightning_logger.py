"""`LedgerLogger`: a PyTorch Lightning logger that writes into a ledger run.

    trainer = lightning.pytorch.Trainer(max_epochs=5, logger=LedgerLogger())

Logs the module's hyperparameters (`params.hparams`), every metric Lightning logs at the
step Lightning gives, the model's class, parameter count and size and the optimizer
(`params.torch`), the GPU model (tag `gpu`) and, when training ends, the weights
(`model.pt`, a state_dict). Inside an active run it logs there; otherwise it starts a run of
its own that ends with `trainer.fit` (failed, with the traceback, when fit raised).
"""

from __future__ import annotations

from argparse import Namespace
from typing import Any

from lightning.pytorch.loggers import Logger
from lightning.pytorch.utilities import rank_zero_only

from ledger.autolog import torch as _torch
from ledger.autolog._holder import RunHolder
from ledger.autolog._patching import safely

# Lightning logs the epoch number as a metric; it is a step counter, not a result.
_SKIPPED = frozenset({"epoch"})


class LedgerLogger(Logger):
    """A Lightning `Logger` backed by a ledger run (see the module docstring)."""

    def __init__(self, name: str | None = None, log_model: bool = True):
        super().__init__()
        self._holder = RunHolder("lightning", name or "lightning")
        self._log_model = log_model
        self._module: Any = None

    @property
    def name(self) -> str:
        return "ledger"

    @property
    def version(self) -> str:
        run = self._holder.run if self._holder.started else None
        return str(run.id) if run is not None else ""

    @property
    def experiment(self) -> Any:
        """The ledger `Run` being written (None when no run could be started)."""
        return self._holder.run

    @rank_zero_only
    def log_hyperparams(self, params: dict[str, Any] | Namespace, *args: Any, **kwargs: Any) -> None:
        values = vars(params) if isinstance(params, Namespace) else dict(params or {})
        run = self._holder.run
        if run is not None and values:
            safely("Lightning hyperparameters", run.log_params, {"hparams": values})

    @rank_zero_only
    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        run = self._holder.run
        if run is None:
            return
        values = {k: _torch.number(v) for k, v in metrics.items() if k not in _SKIPPED}
        safely("Lightning metrics", run.log_metrics, values, step)

    @rank_zero_only
    def log_graph(self, model: Any, input_array: Any = None) -> None:
        """Called by Lightning once fit starts, with optimizers configured."""
        self._module = model
        run = self._holder.run
        if run is None:
            return
        trainer = getattr(model, "_trainer", None)
        optimizers = list(getattr(trainer, "optimizers", None) or [])
        safely("the model and optimizer", _torch.describe, run, model, optimizers[0] if optimizers else None)
        safely("tags", run.set_tags, {"autolog": "lightning"})

    @rank_zero_only
    def finalize(self, status: str) -> None:
        if not self._holder.started:
            return
        failed = status != "success"
        run = self._holder.run
        if not failed and self._log_model and self._module is not None:
            safely("the model", _torch.save_state_dict, run, self._module)
        self._holder.finish(failed)
