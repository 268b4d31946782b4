"""`ledger.autolog()`: record training calls of scikit-learn, XGBoost, LightGBM and PyTorch
(Lightning, Hugging Face Trainer) without logging code.

    import ledger
    ledger.autolog()
    model = LogisticRegression().fit(X, y)   # one run, recorded and committed

Inside `with ledger.start_run():` or a script under `ledger run`, training calls log into that
run; outside one, each training call is a run of its own. Only installed frameworks are
patched, each when it is first imported, so this module imports no ML framework itself.
Capture that fails is a `LedgerWarning`; training itself is never changed or broken.
"""

from __future__ import annotations

import importlib
import sys
import types
import warnings
from collections.abc import Iterable
from typing import Any

from ledger.autolog._patching import installed
from ledger.errors import LedgerError, LedgerWarning

# framework name -> the package that must be installed for it
FRAMEWORKS: dict[str, str] = {
    "sklearn": "sklearn",
    "xgboost": "xgboost",
    "lightgbm": "lightgbm",
    "torch": "torch",
}

__all__ = ["FRAMEWORKS", "autolog"]


def autolog(
    frameworks: str | Iterable[str] | None = None,
    log_models: bool = True,
    disable: bool = False,
    *,
    log_datasets: bool = True,
    log_plot_data: bool = True,
) -> list[str]:
    """Turn autologging on (or off with `disable=True`) for `frameworks` (default: every
    supported one that is installed). Returns the frameworks it was turned on or off for.

    `log_models` saves the fitted model as an artifact, `log_datasets` records statistics
    of the training data, `log_plot_data` writes the data of the standard plots.
    """
    names = _names(frameworks)
    if disable:
        done = []
        for name in names:
            module = sys.modules.get(f"{__name__}.{name}")
            if module is not None:
                module.disable()
                done.append(name)
        return done
    options: dict[str, Any] = {
        "log_models": bool(log_models),
        "log_datasets": bool(log_datasets),
        "log_plot_data": bool(log_plot_data),
    }
    enabled = []
    for name in names:
        if not installed(FRAMEWORKS[name]):
            if frameworks is not None:
                warnings.warn(f"{name} is not installed: nothing to autolog for it", LedgerWarning, stacklevel=2)
            continue
        importlib.import_module(f"{__name__}.{name}").enable(**options)
        enabled.append(name)
    return enabled


def _names(frameworks: str | Iterable[str] | None) -> list[str]:
    if frameworks is None:
        return list(FRAMEWORKS)
    names = [frameworks] if isinstance(frameworks, str) else list(frameworks)
    unknown = sorted(set(names) - set(FRAMEWORKS))
    if unknown:
        raise LedgerError(f"autolog does not know {', '.join(map(str, unknown))}: choose from {', '.join(FRAMEWORKS)}")
    return list(dict.fromkeys(names))


class _CallableModule(types.ModuleType):
    """`ledger.autolog(...)` calls `autolog`, while `ledger.autolog.torch` stays a module."""

    def __call__(
        self,
        frameworks: str | Iterable[str] | None = None,
        log_models: bool = True,
        disable: bool = False,
        **options: bool,
    ) -> list[str]:
        return autolog(frameworks, log_models, disable, **options)


sys.modules[__name__].__class__ = _CallableModule
