"""scikit-learn autologging: every estimator's `fit` (Pipelines and searches included), and
the metrics of later `sklearn.metrics` calls on that model's predictions.

What a fit records: `params.sklearn` (all of `get_params(deep=True)`), training metrics
(`train/accuracy` ... or `train/mse` ...), `train/fit_time`, the training data's statistics,
the model (`model.joblib`, hash in the record), and plot data (confusion matrix, ROC
curves, residuals, feature importances, a search's per-fold CV results).
"""

from __future__ import annotations

import collections
import types
import weakref
from collections.abc import Callable
from typing import Any

from ledger.autolog import _files, _sklearn_data
from ledger.autolog._patching import (
    caller_variable,
    depth,
    outermost,
    patch,
    safely,
    training_wrapper,
    unpatch,
    when_imported,
    wraps,
)

FRAMEWORK = "sklearn"
MODULE = "sklearn"
FIT_METHODS = ("fit", "fit_transform", "fit_predict")
PREDICT_METHODS = ("predict", "predict_proba", "predict_log_proba", "decision_function")
# sklearn.metrics functions whose value, on predictions of an autologged model, is logged
# as `<dataset>/<function>` (e.g. `X_test/accuracy_score`).
METRIC_FUNCTIONS = (
    "accuracy_score", "balanced_accuracy_score", "precision_score", "recall_score", "f1_score",
    "fbeta_score", "log_loss", "roc_auc_score", "average_precision_score", "matthews_corrcoef",
    "mean_squared_error", "root_mean_squared_error", "mean_absolute_error",
    "mean_absolute_percentage_error", "median_absolute_error", "r2_score",
    "explained_variance_score",
)  # fmt: skip
_SKIP_FRAMES = ("sklearn", "joblib", "numpy", "scipy")
# Fits inside scikit-learn itself (cross_val_score, metrics' label binarizing) only train.
_INTERNAL = ("sklearn.",)
# Preprocessing on its own is not a model: its fits are recorded only as part of a Pipeline.
_NOT_MODELS = ("sklearn.preprocessing", "sklearn.impute", "sklearn.feature_extraction",
               "sklearn.feature_selection")  # fmt: skip
_PREDICTIONS_KEPT = 32

_options: dict[str, Any] = {"log_models": True, "log_datasets": True, "log_plot_data": True}
# Estimators fitted by autolog, and the run they were fitted in (post-training metrics are
# logged into that run while it is still active).
_fitted: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
# Recent predictions of those estimators: id -> (prediction, run, dataset name).
_predictions: collections.OrderedDict[int, tuple[Any, Any, str]] = collections.OrderedDict()


def enable(**options: Any) -> None:
    _options.update(options)
    when_imported(FRAMEWORK, MODULE, _patch_all)


def disable() -> None:
    unpatch(FRAMEWORK)
    _predictions.clear()


def _patch_all(_module: types.ModuleType) -> None:
    import sklearn.metrics
    from sklearn.utils import all_estimators

    for _, cls in all_estimators():
        if not cls.__module__.startswith(_NOT_MODELS):
            for name in FIT_METHODS:
                _patch_defining(cls, name, _fit_wrapper)
        for name in (*PREDICT_METHODS, "score"):
            _patch_defining(cls, name, _predict_wrapper)
    for name in METRIC_FUNCTIONS:
        if hasattr(sklearn.metrics, name):
            patch(FRAMEWORK, sklearn.metrics, name, _metric_wrapper)


def _patch_defining(cls: type, name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    """Patch the class that defines `cls.name` (often a base class or a mixin)."""
    for owner in cls.__mro__:
        if name in vars(owner):
            if owner.__module__.startswith("sklearn."):
                patch(FRAMEWORK, owner, name, make)
            return


# ---------------------------------------------------------------------- fit


def _fit_wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
    return training_wrapper(
        FRAMEWORK, original, name=lambda args: f"sklearn-{type(args[0]).__name__}",
        before=_before_fit, after=_after_fit, internal=_INTERNAL,
        wanted=lambda args: not type(args[0]).__module__.startswith(_NOT_MODELS),
    )  # fmt: skip


def _before_fit(run: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    est = args[0]
    run.log_params({FRAMEWORK: est.get_params(deep=True)})  # made JSON-plain by the run
    run.set_tags({"autolog": FRAMEWORK, "estimator": type(est).__name__})
    return args, kwargs, None


def _fit_data(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, Any, Any]:
    X = args[0] if args else kwargs.get("X")
    y = args[1] if len(args) > 1 else kwargs.get("y", kwargs.get("Y"))
    return X, y, kwargs.get("sample_weight")


def _after_fit(
    run: Any, args: tuple[Any, ...], kwargs: dict[str, Any], result: Any, state: Any, elapsed: float
) -> None:
    import sklearn

    # Our own metric calls need no argument checking: scikit-learn's validation of every
    # call costs more than the metrics themselves on small data.
    with sklearn.config_context(skip_parameter_validation=True):
        _log_fitted(run, args, kwargs, elapsed)


def _log_fitted(run: Any, args: tuple[Any, ...], kwargs: dict[str, Any], elapsed: float) -> None:
    from sklearn.base import is_classifier, is_regressor

    est, args = args[0], args[1:]
    X, y, weight = _fit_data(args, kwargs)
    run.log_metric("train/fit_time", round(elapsed, 6))
    dataset = caller_variable(X, _SKIP_FRAMES) or "train"
    if _options["log_datasets"] and X is not None:
        safely("the training data statistics", run.log_dataset, dataset, X, target=y, context="train")
    if hasattr(est, "cv_results_"):
        safely("the search results", _log_search, run, est)
    plots = _options["log_plot_data"]
    if X is not None and y is not None:
        kind = _sklearn_data.target_kind(y)
        if is_classifier(est) and kind in ("binary", "multiclass"):
            values, y_pred, proba = _sklearn_data.classifier_metrics(est, X, y, weight)
            run.log_metrics({f"train/{k}": v for k, v in values.items()})
            if plots:
                _files.log_json(run, "confusion_matrix.json", _sklearn_data.confusion_matrix(est, y, y_pred, dataset))
                curves = _sklearn_data.roc_curves(est, X, y, proba, dataset)
                if curves:
                    _files.log_json(run, "roc_curve.json", curves)
        elif is_regressor(est) and kind in ("continuous", "binary", "multiclass"):
            values, y_pred = _sklearn_data.regressor_metrics(est, X, y, weight)
            run.log_metrics({f"train/{k}": v for k, v in values.items()})
            residuals = _sklearn_data.residuals(y, y_pred, dataset) if plots else None
            if residuals:
                _files.log_json(run, "residuals.json", residuals)
    if plots:
        importance = _sklearn_data.feature_importance(est)
        if importance:
            _files.log_json(run, "feature_importance.json", importance)
    if _options["log_models"]:
        safely("the model", _log_model, run, est)
    _fitted[est] = run


def _log_search(run: Any, search: Any) -> None:
    results = _sklearn_data.cv_results(search)
    if results["best_score"] is not None:
        run.log_metric("cv/best_score", results["best_score"])
    if results["best_params"] is not None:
        run.log_params({FRAMEWORK: {"best_params": results["best_params"]}})
    if _options["log_plot_data"]:
        _files.log_json(run, "cv_results.json", results)


def _log_model(run: Any, est: Any) -> None:
    """joblib (pickle) is the only complete format for an arbitrary estimator: ledger writes
    it and records its hash, and never loads it."""
    import joblib

    _files.log_file(run, "model.joblib", "model", lambda path: joblib.dump(est, path))


# ---------------------------------------------------------------------- post-training metrics


def _predict_wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(original)
    def predict(self: Any, *args: Any, **kwargs: Any) -> Any:
        if depth() or self not in _fitted:
            return original(self, *args, **kwargs)
        with outermost():
            result = original(self, *args, **kwargs)
            safely("a post-training metric", _after_predict, self, original.__name__, args, kwargs, result)
            return result

    return predict


def _live_run(est: Any) -> Any:
    from ledger.write.active import active_run

    run: Any = _fitted.get(est)
    if run is None or run.status != "running" or run is not active_run():
        return None
    return run


def _after_predict(est: Any, method: str, args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
    run = _live_run(est)
    if run is None:
        return
    X = args[0] if args else kwargs.get("X")
    dataset = caller_variable(X, _SKIP_FRAMES) or "eval"
    if method == "score":
        run.log_metric(f"{dataset}/score", float(result))
        return
    _predictions[id(result)] = (result, run, dataset)
    while len(_predictions) > _PREDICTIONS_KEPT:
        _predictions.popitem(last=False)


def _metric_wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(original)
    def metric(*args: Any, **kwargs: Any) -> Any:
        with outermost() as top:  # estimators a metric fits internally are not runs
            result = original(*args, **kwargs)
            if top and _predictions:
                safely("a post-training metric", _after_metric, original.__name__, args, kwargs, result)
            return result

    return metric


def _after_metric(name: str, args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
    candidates = list(args[1:2]) + [kwargs[k] for k in ("y_pred", "y_score", "y_proba", "probas_pred") if k in kwargs]
    for value in candidates:
        found = _predictions.get(id(value))
        if found is not None and found[0] is value:
            _, run, dataset = found
            if run.status == "running" and getattr(result, "ndim", 0) == 0 and not isinstance(result, (str, bytes)):
                run.log_metric(f"{dataset}/{name}", float(result))
            return
