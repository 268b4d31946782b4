"""LightGBM autologging: `lightgbm.train` and the scikit-learn wrappers (`LGBMClassifier`, ...).

A training call records `params.lightgbm` (the booster params, `num_boost_round` and the
early-stopping settings, or the wrapper's `get_params()`), every evaluation metric per
iteration as `<data>/<metric>` in the step series, `best_iteration` and `best/<data>/<metric>`
when early stopping ran, `iterations`, `train/fit_time`, feature importance (gain) and the
model in LightGBM's own text format (`model.txt`, safe to inspect).
"""

from __future__ import annotations

import types
from typing import Any

from ledger.autolog import _boosting, _files
from ledger.autolog._patching import caller_variable, patch, safely, training_wrapper, unpatch, when_imported

FRAMEWORK = "lightgbm"
_SKIP_FRAMES = ("lightgbm", "sklearn", "numpy")
_EARLY_STOPPING_KEYS = ("early_stopping_round", "early_stopping_rounds", "early_stopping", "n_iter_no_change")
# Fits made by scikit-learn's own helpers (cross-validation, searches in worker threads)
# only train: the search or the user's call is the run.
_INTERNAL = ("sklearn.",)
_options: dict[str, Any] = {"log_models": True, "log_datasets": True, "log_plot_data": True}


def enable(**options: Any) -> None:
    _options.update(options)
    when_imported(FRAMEWORK, "lightgbm", _patch_all)


def disable() -> None:
    unpatch(FRAMEWORK)


def _patch_all(module: types.ModuleType) -> None:
    import lightgbm.engine

    for owner in (module, lightgbm.engine):
        patch(FRAMEWORK, owner, "train", lambda fn: training_wrapper(
            FRAMEWORK, fn, name=lambda args: "lightgbm-train", before=_before_train, after=_after_train,
        ))  # fmt: skip
    try:
        from lightgbm.sklearn import LGBMModel
    except ImportError:
        return
    for cls in _boosting.fit_classes(LGBMModel):
        patch(FRAMEWORK, cls, "fit", lambda fn: training_wrapper(
            FRAMEWORK, fn, name=lambda args: f"lightgbm-{type(args[0]).__name__}",
            before=_before_fit, after=_after_fit, internal=_INTERNAL,
        ))  # fmt: skip


def _early_stopping(params: dict[str, Any], callbacks: list[Any]) -> dict[str, Any] | None:
    """The early-stopping settings, from params or from an `early_stopping()` callback."""
    for callback in callbacks:
        rounds = getattr(callback, "stopping_rounds", None)
        if rounds is not None:
            return {
                "rounds": int(rounds),
                "first_metric_only": bool(getattr(callback, "first_metric_only", False)),
                "min_delta": getattr(callback, "min_delta", 0.0),
            }
    for key in _EARLY_STOPPING_KEYS:
        if params.get(key) not in (None, 0):
            return {"rounds": params[key], "first_metric_only": bool(params.get("first_metric_only", False))}
    return None


# ---------------------------------------------------------------------- lightgbm.train


def _before_train(run: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    import lightgbm

    bound = _boosting.bind(lightgbm.engine.train, args, kwargs)
    arguments = bound.arguments
    params = _boosting.plain_params(arguments["params"])
    callbacks = list(arguments.get("callbacks") or [])
    logged = {**params, "num_boost_round": arguments["num_boost_round"]}
    logged["early_stopping"] = _early_stopping(params, callbacks)
    run.log_params({FRAMEWORK: logged})
    run.set_tags({"autolog": FRAMEWORK, "estimator": "Booster"})
    train_set = arguments["train_set"]
    data = getattr(train_set, "data", None)
    if _options["log_datasets"] and getattr(data, "shape", None) is not None:
        name = caller_variable(train_set, _SKIP_FRAMES) or "train"
        safely("the training data statistics", run.log_dataset, name, data,
               target=getattr(train_set, "label", None), context="train")  # fmt: skip
    history: dict[str, Any] = {}
    arguments["callbacks"] = [*callbacks, lightgbm.record_evaluation(history)]
    return bound.args, bound.kwargs, history


def _after_train(
    run: Any, args: tuple[Any, ...], kwargs: dict[str, Any], booster: Any, history: Any, elapsed: float
) -> None:
    run.log_metric("train/fit_time", round(elapsed, 6))
    iterations = _boosting.log_history(run, history) if history else 0
    _log_booster(run, booster, booster.best_iteration, booster.best_score, iterations)


# ---------------------------------------------------------------------- LGBMModel.fit


def _before_fit(run: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    model = args[0]
    params = model.get_params()
    callbacks = list(kwargs.get("callbacks") or [])
    run.log_params({FRAMEWORK: {**params, "early_stopping": _early_stopping(params, callbacks)}})
    run.set_tags({"autolog": FRAMEWORK, "estimator": type(model).__name__})
    return args, kwargs, None


def _after_fit(run: Any, args: tuple[Any, ...], kwargs: dict[str, Any], model: Any, state: Any, elapsed: float) -> None:
    run.log_metric("train/fit_time", round(elapsed, 6))
    X = args[1] if len(args) > 1 else kwargs.get("X")
    y = args[2] if len(args) > 2 else kwargs.get("y")
    if _options["log_datasets"] and X is not None:
        name = caller_variable(X, _SKIP_FRAMES) or "train"
        safely("the training data statistics", run.log_dataset, name, X, target=y, context="train")
    history = getattr(model, "evals_result_", None) or {}
    iterations = _boosting.log_history(run, history) if history else 0
    _log_booster(run, model.booster_, model.best_iteration_, model.best_score_, iterations)


def _log_booster(run: Any, booster: Any, best_iteration: Any, best_score: Any, evaluated: int) -> None:
    # After early stopping the booster keeps the best iterations; the evaluation history
    # (the step series) holds every iteration trained.
    run.log_metric("iterations", max(booster.current_iteration(), evaluated))
    if best_iteration:
        run.log_metric("best_iteration", int(best_iteration))
        for data, scores in sorted((best_score or {}).items()):
            for metric, value in sorted(scores.items()):
                run.log_metric(f"best/{data}/{metric}", float(value))
    if _options["log_plot_data"]:
        safely("the feature importance", _log_importance, run, booster)
    if _options["log_models"]:
        safely("the model", _files.log_file, run, "model.txt", "model", lambda path: booster.save_model(str(path)))


def _log_importance(run: Any, booster: Any) -> None:
    values = booster.feature_importance(importance_type="gain")
    _boosting.log_importance(run, "gain", list(booster.feature_name()), [float(v) for v in values])
