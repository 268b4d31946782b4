"""XGBoost autologging: `xgboost.train` and the scikit-learn wrappers (`XGBClassifier`, ...).

A training call records `params.xgboost` (the booster params, `num_boost_round` and the
early-stopping settings, or the wrapper's `get_params()`), every evaluation metric per
iteration as `<data>/<metric>` in the step series, `best_iteration` / `best_score` when
early stopping ran, `iterations`, `train/fit_time`, feature importance (gain) and the model
in XGBoost's own JSON format (`model.json`, safe to inspect).
"""

from __future__ import annotations

import types
from typing import Any

from ledger.autolog import _boosting, _files
from ledger.autolog._patching import caller_variable, patch, safely, training_wrapper, unpatch, when_imported

FRAMEWORK = "xgboost"
_SKIP_FRAMES = ("xgboost", "sklearn", "numpy")
# Fits made by scikit-learn's own helpers (cross-validation, searches in worker threads)
# only train: the search or the user's call is the run.
_INTERNAL = ("sklearn.",)
_options: dict[str, Any] = {"log_models": True, "log_datasets": True, "log_plot_data": True}


def enable(**options: Any) -> None:
    _options.update(options)
    when_imported(FRAMEWORK, "xgboost", _patch_all)


def disable() -> None:
    unpatch(FRAMEWORK)


def _patch_all(module: types.ModuleType) -> None:
    import xgboost.training

    for owner in (module, xgboost.training):
        patch(FRAMEWORK, owner, "train", lambda fn: training_wrapper(
            FRAMEWORK, fn, name=lambda args: "xgboost-train", before=_before_train, after=_after_train,
        ))  # fmt: skip
    try:
        from xgboost.sklearn import XGBModel
    except ImportError:  # xgboost without its scikit-learn wrappers
        return
    for cls in _boosting.fit_classes(XGBModel):
        patch(FRAMEWORK, cls, "fit", lambda fn: training_wrapper(
            FRAMEWORK, fn, name=lambda args: f"xgboost-{type(args[0]).__name__}",
            before=_before_fit, after=_after_fit, internal=_INTERNAL,
        ))  # fmt: skip


# ---------------------------------------------------------------------- xgboost.train


def _before_train(run: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    import xgboost

    bound = _boosting.bind(xgboost.training.train, args, kwargs)
    arguments = bound.arguments
    params = _boosting.plain_params(arguments["params"])
    params["num_boost_round"] = arguments["num_boost_round"]
    params["early_stopping_rounds"] = arguments["early_stopping_rounds"]
    if arguments.get("maximize") is not None:
        params["maximize"] = arguments["maximize"]
    run.log_params({FRAMEWORK: params})
    run.set_tags({"autolog": FRAMEWORK, "estimator": "Booster"})
    history = arguments.get("evals_result")
    if history is None:
        history = arguments["evals_result"] = {}
    return bound.args, bound.kwargs, history


def _after_train(
    run: Any, args: tuple[Any, ...], kwargs: dict[str, Any], booster: Any, history: Any, elapsed: float
) -> None:
    run.log_metric("train/fit_time", round(elapsed, 6))
    if history:
        _boosting.log_history(run, history)
    _log_booster(run, booster, lambda path: booster.save_model(str(path)))


# ---------------------------------------------------------------------- XGBModel.fit


def _before_fit(run: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    model = args[0]
    run.log_params({FRAMEWORK: model.get_params()})
    run.set_tags({"autolog": FRAMEWORK, "estimator": type(model).__name__})
    return args, kwargs, None


def _after_fit(run: Any, args: tuple[Any, ...], kwargs: dict[str, Any], model: Any, state: Any, elapsed: float) -> None:
    run.log_metric("train/fit_time", round(elapsed, 6))
    X = args[1] if len(args) > 1 else kwargs.get("X")
    y = args[2] if len(args) > 2 else kwargs.get("y")
    if _options["log_datasets"] and X is not None:
        name = caller_variable(X, _SKIP_FRAMES) or "train"
        safely("the training data statistics", run.log_dataset, name, X, target=y, context="train")
    try:
        history = model.evals_result()
    except Exception:  # noqa: BLE001 - no eval_set given: nothing per iteration to log
        history = {}
    if history:
        _boosting.log_history(run, history)
    _log_booster(run, model.get_booster(), lambda path: model.save_model(str(path)))


def _log_booster(run: Any, booster: Any, save: Any) -> None:
    run.log_metric("iterations", booster.num_boosted_rounds())
    best_iteration = _attribute(booster, "best_iteration")
    if best_iteration is not None:
        run.log_metrics({"best_iteration": int(best_iteration), "best_score": float(_attribute(booster, "best_score"))})
    if _options["log_plot_data"]:
        safely("the feature importance", _log_importance, run, booster)
    if _options["log_models"]:
        safely("the model", _files.log_file, run, "model.json", "model", save)


def _attribute(booster: Any, name: str) -> Any:
    """`best_iteration` / `best_score` exist only after early stopping."""
    try:
        value = getattr(booster, name)
    except AttributeError:
        value = booster.attr(name)
    return value


def _log_importance(run: Any, booster: Any) -> None:
    scores = booster.get_score(importance_type="gain")
    names = booster.feature_names or [f"f{i}" for i in range(booster.num_features())]
    _boosting.log_importance(run, "gain", list(names), [float(scores.get(n, 0.0)) for n in names])
