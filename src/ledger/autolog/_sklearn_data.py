"""What scikit-learn autologging computes from a fitted estimator: training metrics, plot
data (confusion matrix, ROC curves, residuals, feature importances) and search results.

Pure functions of (estimator, X, y) returning plain values; the shapes of the JSON files
are documented in docs/autolog.md. Imported only once scikit-learn is.
"""

from __future__ import annotations

import math
from typing import Any

from ledger.autolog._files import finite, thin

MAX_ROC_CLASSES = 20


def target_kind(y: Any) -> str:
    from sklearn.utils.multiclass import type_of_target

    return str(type_of_target(y))


def classifier_metrics(est: Any, X: Any, y: Any, sample_weight: Any) -> tuple[dict[str, float], Any, Any]:
    """accuracy, weighted precision/recall/F1, and log loss / ROC AUC from predict_proba."""
    from sklearn import metrics as m

    y_pred = est.predict(X)
    weighted = {"average": "weighted", "zero_division": 0, "sample_weight": sample_weight}
    values = {
        "accuracy": m.accuracy_score(y, y_pred, sample_weight=sample_weight),
        "precision": m.precision_score(y, y_pred, **weighted),
        "recall": m.recall_score(y, y_pred, **weighted),
        "f1": m.f1_score(y, y_pred, **weighted),
    }
    proba = est.predict_proba(X) if hasattr(est, "predict_proba") else None
    if proba is not None:
        classes = est.classes_
        values["log_loss"] = m.log_loss(y, proba, labels=classes, sample_weight=sample_weight)
        if len(classes) == 2:
            values["roc_auc"] = m.roc_auc_score(y, proba[:, 1], sample_weight=sample_weight)
        elif len(set(_plain_list(y))) == len(classes):
            values["roc_auc"] = m.roc_auc_score(
                y, proba, multi_class="ovr", average="weighted", labels=classes, sample_weight=sample_weight
            )
    return {k: float(v) for k, v in values.items()}, y_pred, proba


def regressor_metrics(est: Any, X: Any, y: Any, sample_weight: Any) -> tuple[dict[str, float], Any]:
    """MSE, RMSE, MAE and R² on the data the model was fitted on."""
    from sklearn import metrics as m

    y_pred = est.predict(X)
    mse = float(m.mean_squared_error(y, y_pred, sample_weight=sample_weight))
    values = {
        "mse": mse,
        "rmse": math.sqrt(mse),
        "mae": float(m.mean_absolute_error(y, y_pred, sample_weight=sample_weight)),
        "r2": float(m.r2_score(y, y_pred, sample_weight=sample_weight)),
    }
    return values, y_pred


def confusion_matrix(est: Any, y: Any, y_pred: Any, dataset: str) -> dict[str, Any]:
    from sklearn.metrics import confusion_matrix as cm

    labels = list(est.classes_)
    matrix = cm(y, y_pred, labels=labels)
    return {"dataset": dataset, "labels": [str(v) for v in _plain_list(labels)], "matrix": finite(matrix)}


def roc_curves(est: Any, X: Any, y: Any, proba: Any, dataset: str) -> dict[str, Any] | None:
    """One curve for a binary problem (positive class), one per class (one-vs-rest) else."""
    from sklearn.metrics import auc, roc_curve

    classes = list(est.classes_)
    if proba is None:
        if len(classes) != 2 or not hasattr(est, "decision_function"):
            return None
        scores = [est.decision_function(X)]
        labels = [classes[1]]
    elif len(classes) == 2:
        scores, labels = [proba[:, 1]], [classes[1]]
    elif len(classes) <= MAX_ROC_CLASSES:
        scores = [proba[:, i] for i in range(len(classes))]
        labels = classes
    else:
        return None
    truth = _plain_list(y)
    curves = []
    for label, score in zip(labels, scores):
        positive = [1 if v == label else 0 for v in truth]
        if 0 < sum(positive) < len(positive):
            fpr, tpr, thresholds = roc_curve(positive, score)
            curves.append({
                "label": str(_plain(label)),
                "fpr": thin(finite(fpr)),
                "tpr": thin(finite(tpr)),
                "thresholds": thin(finite(thresholds)),
                "auc": float(auc(fpr, tpr)),
            })  # fmt: skip
    return {"dataset": dataset, "curves": curves} if curves else None


def residuals(y: Any, y_pred: Any, dataset: str) -> dict[str, Any] | None:
    truth, pred = _plain_list(y), _plain_list(y_pred)
    if not truth or isinstance(truth[0], list):
        return None  # multi-output: no single residual plot
    return {"dataset": dataset, "y_true": thin(finite(truth)), "y_pred": thin(finite(pred))}


def final_estimator(est: Any) -> Any:
    """The model that holds the coefficients: a search's best estimator, a pipeline's last step."""
    best = getattr(est, "best_estimator_", None)
    if best is not None:
        est = best
    steps = getattr(est, "steps", None)
    if isinstance(steps, list) and steps:
        return final_estimator(steps[-1][1])
    return est


def feature_importance(est: Any) -> dict[str, Any] | None:
    """`feature_importances_`, else `coef_` (signed for one row, mean |coef| for several)."""
    model = final_estimator(est)
    per_class = None
    if getattr(model, "feature_importances_", None) is not None:
        source, values = "feature_importances_", _plain_list(model.feature_importances_)
    elif getattr(model, "coef_", None) is not None:
        source, rows = "coef_", _plain_list(model.coef_)
        if rows and isinstance(rows[0], list):
            if len(rows) == 1:
                values = rows[0]
            else:
                values = [sum(abs(r[i]) for r in rows) / len(rows) for i in range(len(rows[0]))]
                labels = [str(c) for c in _plain_list(getattr(model, "classes_", range(len(rows))))]
                per_class = dict(zip(labels, rows))
        else:
            values = rows
    else:
        return None
    data: dict[str, Any] = {
        "source": source,
        "features": feature_names(est, model, len(values)),
        "importances": finite(values),
    }
    if per_class is not None and len(per_class) == len(rows):
        data["per_class"] = finite(per_class)
    return data


def feature_names(est: Any, model: Any, count: int) -> list[str]:
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        steps = getattr(final_search_or_self(est), "steps", None)
        if isinstance(steps, list) and len(steps) > 1:
            try:
                from sklearn.pipeline import Pipeline

                names = Pipeline(steps[:-1]).get_feature_names_out()
            except Exception:  # noqa: BLE001 - not every transformer names its outputs
                names = None
    listed = [str(n) for n in _plain_list(names)] if names is not None else []
    return listed if len(listed) == count else [f"x{i}" for i in range(count)]


def final_search_or_self(est: Any) -> Any:
    best = getattr(est, "best_estimator_", None)
    return best if best is not None else est


def cv_results(search: Any) -> dict[str, Any]:
    """Every candidate of a search: its params and its scores per fold, plus the best one."""
    results = search.cv_results_
    scorers = sorted(k[len("mean_test_") :] for k in results if k.startswith("mean_test_"))
    n_splits = int(getattr(search, "n_splits_", 0) or 0)
    candidates = []
    for index, params in enumerate(results["params"]):
        scores = {}
        for scorer in scorers:
            entry: dict[str, Any] = {
                "mean": results[f"mean_test_{scorer}"][index],
                "std": results[f"std_test_{scorer}"][index],
                "rank": results[f"rank_test_{scorer}"][index],
                "folds": [results[f"split{k}_test_{scorer}"][index] for k in range(n_splits)],
            }
            if f"split0_train_{scorer}" in results:
                entry["train_folds"] = [results[f"split{k}_train_{scorer}"][index] for k in range(n_splits)]
            scores[scorer] = entry
        candidates.append({
            "index": index,
            "params": params,
            "mean_fit_time_s": results["mean_fit_time"][index],
            "mean_score_time_s": results["mean_score_time"][index],
            "scores": scores,
        })  # fmt: skip
    best_index = getattr(search, "best_index_", None)
    return finite({
        "search": type(search).__name__,
        "n_splits": n_splits,
        "scorers": scorers,
        "best_index": best_index,
        "best_score": getattr(search, "best_score_", None),
        "best_params": getattr(search, "best_params_", None),
        "candidates": candidates,
    })  # fmt: skip


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def _plain_list(values: Any) -> list[Any]:
    if values is None:
        return []
    tolist = getattr(values, "tolist", None)
    return list(tolist()) if callable(tolist) else [_plain(v) for v in values]
