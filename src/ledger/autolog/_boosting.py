"""What XGBoost and LightGBM autologging share: evaluation histories into the step series,
feature importances as plot data, and finding every class that defines `fit`."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterator
from typing import Any

from ledger.autolog import _files


def log_history(run: Any, history: dict[str, dict[str, list[Any]]]) -> int:
    """`{data: {metric: [value per iteration]}}` as points `data/metric` at step = iteration.
    Returns the number of iterations seen."""
    iterations = 0
    for data in sorted(history):
        for metric in sorted(history[data]):
            values = list(history[data][metric])
            iterations = max(iterations, len(values))
            for step, value in enumerate(values):
                if isinstance(value, (tuple, list)):  # (mean, std) from cross-validation
                    value = value[0]
                run.log_metric(f"{data}/{metric}", float(value), step)
    return iterations


def log_importance(run: Any, kind: str, names: list[str], values: list[float]) -> None:
    data = {
        "source": kind,
        "features": [str(n) for n in names],
        "importances": [float(v) if math.isfinite(float(v)) else None for v in values],
    }
    _files.log_json(run, "feature_importance.json", data)


def bind(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> inspect.BoundArguments:
    bound = inspect.signature(fn).bind(*args, **kwargs)
    bound.apply_defaults()
    return bound


def fit_classes(base: type) -> Iterator[type]:
    """`base` and its subclasses, each once, that define their own `fit`."""
    seen: set[type] = set()
    todo = [base]
    while todo:
        cls = todo.pop()
        if cls in seen:
            continue
        seen.add(cls)
        todo.extend(cls.__subclasses__())
        if "fit" in vars(cls):
            yield cls


def plain_params(params: Any) -> dict[str, Any]:
    """A params mapping (or XGBoost's list of pairs) as a dict."""
    if isinstance(params, dict):
        return dict(params)
    if isinstance(params, (list, tuple)):
        merged: dict[str, Any] = {}
        for key, value in params:
            merged[key] = value if key not in merged else [*_as_list(merged[key]), value]
        return merged
    return {}


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]
