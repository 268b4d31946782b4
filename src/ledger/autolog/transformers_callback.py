"""`LedgerCallback`: a Hugging Face `transformers.Trainer` callback that writes into a run.

    trainer = Trainer(model=model, args=args, ..., callbacks=[LedgerCallback()])

Logs the training arguments (`params.training_args`, scalars only), the model config
(`params.model_config`), the model's parameter count and size and the optimizer
(`params.torch`), the GPU model (tag `gpu`), every value the Trainer logs (loss, learning
rate, eval metrics ...) at step = global step, and at the end the weights (`model.pt`, a
state_dict). Inside an active run it logs there; otherwise the run is its own and ends
with training.
"""

from __future__ import annotations

from typing import Any

from transformers import TrainerCallback

from ledger.autolog import torch as _torch
from ledger.autolog._holder import RunHolder
from ledger.autolog._patching import safely

_SCALARS = (bool, int, float, str)


def _scalars(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in sorted(values.items()) if isinstance(v, _SCALARS) and v is not None}


class LedgerCallback(TrainerCallback):
    """A `TrainerCallback` backed by a ledger run (see the module docstring)."""

    def __init__(self, name: str | None = None, log_model: bool = True):
        self._holder = RunHolder("transformers", name or "transformers")
        self._log_model = log_model
        self._model: Any = None
        self._ended_ok = False

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        if not state.is_world_process_zero:
            return
        run = self._holder.run
        if run is None:
            return
        self._model = model
        params: dict[str, Any] = {"training_args": _scalars(args.to_dict())}
        config = getattr(model, "config", None)
        if config is not None and hasattr(config, "to_dict"):
            params["model_config"] = _scalars(config.to_dict())
        safely("the training arguments", run.log_params, params)
        safely("the model and optimizer", _torch.describe, run, model, kwargs.get("optimizer"))
        safely("tags", run.set_tags, {"autolog": "transformers"})

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if not state.is_world_process_zero or not logs:
            return
        run = self._holder.run
        values = {k: float(v) for k, v in logs.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        if run is not None and values:
            safely("Trainer metrics", run.log_metrics, values, state.global_step)

    def on_train_end(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        if not state.is_world_process_zero or not self._holder.started:
            return
        run = self._holder.run
        model = model if model is not None else self._model
        if self._log_model and model is not None:
            safely("the model", _torch.save_state_dict, run, model)
        self._holder.finish(failed=False)
