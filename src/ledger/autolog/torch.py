"""PyTorch: a small tracker for plain training loops, what the Lightning logger and the
Hugging Face callback share (model size, optimizer, GPU), and `autolog` for both: every
`lightning.pytorch.Trainer.fit` gets a `LedgerLogger`, every `transformers.Trainer` a
`LedgerCallback`, unless it already has one.

    with ledger.autolog.torch.track(model, optimizer, name="mlp", hparams={"epochs": 5}) as tracker:
        for epoch in range(epochs):
            for x, y in loader:
                ...
                tracker.log_step(loss=loss)
            tracker.log_epoch(val_loss=val_loss, val_acc=val_acc)
"""

from __future__ import annotations

import contextlib
import types
from types import TracebackType
from typing import Any

from ledger.autolog import _files
from ledger.autolog._patching import patch, run_for, safely, unpatch, when_imported, wraps

FRAMEWORK = "torch"
_options: dict[str, Any] = {"log_models": True, "log_datasets": True, "log_plot_data": True}


def enable(**options: Any) -> None:
    _options.update(options)
    when_imported(FRAMEWORK, "lightning.pytorch", _patch_lightning)
    when_imported(FRAMEWORK, "transformers.trainer", _patch_transformers)


def disable() -> None:
    unpatch(FRAMEWORK)


# ---------------------------------------------------------------------- what is captured


def model_info(model: Any) -> dict[str, Any]:
    """Class, parameter counts and in-memory size (parameters + buffers) of a torch module."""
    params = list(model.parameters())
    buffers = list(model.buffers())
    return {
        "class": type(model).__name__,
        "parameters": sum(p.numel() for p in params),
        "trainable_parameters": sum(p.numel() for p in params if p.requires_grad),
        "size_bytes": sum(t.numel() * t.element_size() for t in [*params, *buffers]),
    }


def optimizer_info(optimizer: Any) -> dict[str, Any]:
    """The optimizer's class and its scalar hyperparameters (lr, momentum, betas, ...)."""
    info: dict[str, Any] = {"class": type(optimizer).__name__}
    for key, value in sorted(getattr(optimizer, "defaults", {}).items()):
        if isinstance(value, (bool, int, float, str)) or (
            isinstance(value, tuple) and all(isinstance(v, (int, float)) for v in value)
        ):
            info[key] = list(value) if isinstance(value, tuple) else value
    return info


def gpu_name() -> str | None:
    import torch

    if torch.cuda.is_available():
        return str(torch.cuda.get_device_name(torch.cuda.current_device()))
    return None


def describe(run: Any, model: Any = None, optimizer: Any = None, key: str = FRAMEWORK) -> None:
    """Log `params.<key>.model` / `.optimizer` and a `gpu` tag on `run`."""
    found: dict[str, Any] = {}
    if model is not None:
        found["model"] = model_info(model)
    if optimizer is not None:
        found["optimizer"] = optimizer_info(optimizer)
    if found:
        run.log_params({key: found})
    gpu = gpu_name()
    if gpu:
        run.set_tags({"gpu": gpu.replace(" ", "_")})


def save_state_dict(run: Any, model: Any, name: str = "model.pt") -> None:
    """The weights as a state_dict (`torch.save`, pickle-based: written, never loaded by ledger)."""
    import torch

    _files.log_file(run, name, "model", lambda path: torch.save(model.state_dict(), path))


def number(value: Any) -> float:
    item = getattr(value, "item", None)
    return float(item() if callable(item) else value)


# ---------------------------------------------------------------------- plain loops


class Tracker:
    """Logs a plain PyTorch loop: per-step and per-epoch metrics, model and optimizer.

    Inside an active run it logs there; otherwise it is a run of its own, `failed` (with the
    traceback) if the block raises. Metric values may be tensors or numbers.
    """

    def __init__(
        self,
        model: Any,
        optimizer: Any = None,
        *,
        name: str | None = None,
        hparams: dict[str, Any] | None = None,
        log_model: bool | None = None,
    ):
        self.model = model
        self.optimizer = optimizer
        self.hparams = dict(hparams or {})
        self.name = name or f"torch-{type(model).__name__}"
        self.log_model = _options["log_models"] if log_model is None else log_model
        self.step = 0
        self.epoch = 0
        self.run: Any = None
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> Tracker:
        self.run = self._stack.enter_context(run_for(FRAMEWORK, self.name))
        if self.run is not None:
            if self.hparams:
                safely("hyperparameters", self.run.log_params, {"hparams": self.hparams})
            safely("the model and optimizer", describe, self.run, self.model, self.optimizer)
            safely("tags", self.run.set_tags, {"autolog": FRAMEWORK})
        return self

    def log_step(self, metrics: dict[str, Any] | None = None, /, **named: Any) -> None:
        """Metrics of one optimisation step, at step = the number of steps logged before."""
        self._log({**(metrics or {}), **named}, self.step)
        self.step += 1

    def log_epoch(self, metrics: dict[str, Any] | None = None, /, **named: Any) -> None:
        """Metrics of one epoch, at step = the epoch's index."""
        self._log({**(metrics or {}), **named}, self.epoch)
        self.epoch += 1

    def _log(self, metrics: dict[str, Any], step: int) -> None:
        if self.run is not None and metrics:
            safely("metrics", self.run.log_metrics, {k: number(v) for k, v in metrics.items()}, step)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        if exc is None and self.run is not None and self.log_model:
            safely("the model", save_state_dict, self.run, self.model)
        return self._stack.__exit__(exc_type, exc, tb)


def track(
    model: Any,
    optimizer: Any = None,
    *,
    name: str | None = None,
    hparams: dict[str, Any] | None = None,
    log_model: bool | None = None,
) -> Tracker:
    """A `Tracker` for a plain PyTorch training loop; use it as a context manager.
    `hparams` (epochs, batch size, ...) are logged as `params.hparams`."""
    return Tracker(model, optimizer, name=name, hparams=hparams, log_model=log_model)


# ---------------------------------------------------------------------- autolog hooks


def _patch_lightning(module: types.ModuleType) -> None:
    from ledger.autolog.lightning_logger import LedgerLogger

    def make(original: Any) -> Any:
        @wraps(original)
        def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
            if not any(isinstance(logger, LedgerLogger) for logger in self.loggers):
                safely("a Lightning logger", setattr, self, "loggers",
                       [*self.loggers, LedgerLogger(log_model=_options["log_models"])])  # fmt: skip
            return original(self, *args, **kwargs)

        return fit

    patch(FRAMEWORK, module.Trainer, "fit", make)


def _patch_transformers(module: types.ModuleType) -> None:
    from ledger.autolog.transformers_callback import LedgerCallback

    def make(original: Any) -> Any:
        @wraps(original)
        def init(self: Any, *args: Any, **kwargs: Any) -> None:
            original(self, *args, **kwargs)
            callbacks = self.callback_handler.callbacks
            if not any(isinstance(c, LedgerCallback) for c in callbacks):
                safely("a Trainer callback", self.add_callback, LedgerCallback(log_model=_options["log_models"]))

        return init

    patch(FRAMEWORK, module.Trainer, "__init__", make)
