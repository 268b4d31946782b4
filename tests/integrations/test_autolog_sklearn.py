from __future__ import annotations

import math
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sklearn import metrics
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import ledger
from ledger.autolog import _sklearn_data, autolog
from ledger.errors import LedgerError, LedgerWarning
from support.autolog_helpers import all_records, artifact, only_record, plot_data
from support.repo import git, ledger_cli


@pytest.fixture
def sk_autolog() -> Iterator[None]:
    assert autolog(["sklearn"]) == ["sklearn"]
    yield
    autolog(["sklearn"], disable=True)


@pytest.fixture(scope="module")
def cancer() -> tuple[np.ndarray, ...]:
    X, y = load_breast_cancer(return_X_y=True)
    return tuple(train_test_split(X, y, random_state=0))


def test_classifier_fit_is_a_run_with_params_metrics_data_model_and_plots(
    repo: Path, sk_autolog: None, cancer: tuple[np.ndarray, ...]
) -> None:
    X_train, _, y_train, _ = cancer
    clf = LogisticRegression(C=0.5, max_iter=5000)
    assert clf.fit(X_train, y_train) is clf

    rec = only_record(repo)
    assert rec["status"] == "finished"
    assert rec["name"] == "sklearn-LogisticRegression"
    assert rec["tags"] == {"autolog": "sklearn", "estimator": "LogisticRegression"}
    assert rec["params"]["sklearn"] == clf.get_params(deep=True)
    assert rec["params"]["lr"] == 0.1  # params.yaml is still there
    y_pred, proba = clf.predict(X_train), clf.predict_proba(X_train)
    expected = {
        "train/accuracy": metrics.accuracy_score(y_train, y_pred),
        "train/precision": metrics.precision_score(y_train, y_pred, average="weighted"),
        "train/recall": metrics.recall_score(y_train, y_pred, average="weighted"),
        "train/f1": metrics.f1_score(y_train, y_pred, average="weighted"),
        "train/log_loss": metrics.log_loss(y_train, proba),
        "train/roc_auc": metrics.roc_auc_score(y_train, proba[:, 1]),
    }
    for name, value in expected.items():
        assert rec["metrics"][name] == pytest.approx(value, rel=1e-12), name
    assert 0 < rec["metrics"]["train/fit_time"] < rec["duration_s"]
    assert rec["datasets"]["X_train"] == {
        "rows": len(X_train), "columns": X_train.shape[1], "missing": 0,
        "hash": rec["datasets"]["X_train"]["hash"], "target": None, "context": "train",
        "classes": {str(k): v for k, v in sorted(Counter(y_train.tolist()).items())},
    }  # fmt: skip
    entry, model_path = artifact(repo, rec, "model.joblib")
    assert entry["kind"] == "model" and entry["store"] == "git"
    assert model_path.stat().st_size > 100

    cm = plot_data(repo, rec, "confusion_matrix.json")
    assert cm == {"dataset": "X_train", "labels": ["0", "1"],
                  "matrix": metrics.confusion_matrix(y_train, y_pred).tolist()}  # fmt: skip
    roc = plot_data(repo, rec, "roc_curve.json")
    [curve] = roc["curves"]
    fpr, tpr, _ = metrics.roc_curve(y_train, proba[:, 1])
    assert curve["label"] == "1" and curve["fpr"] == fpr.tolist() and curve["tpr"] == tpr.tolist()
    assert curve["auc"] == pytest.approx(expected["train/roc_auc"])
    assert curve["thresholds"][0] is None or math.isfinite(curve["thresholds"][0])
    importance = plot_data(repo, rec, "feature_importance.json")
    assert importance["source"] == "coef_"
    assert importance["importances"] == pytest.approx(clf.coef_[0].tolist())
    assert importance["features"] == [f"x{i}" for i in range(X_train.shape[1])]

    # The commit holds only ledger files, and the staging folder is gone.
    assert f"Ledger-Run: {rec['id']}" in git(repo, "log", "-1", "--format=%B")
    assert git(repo, "status", "--porcelain") == ""


def test_regressor_in_a_run_logs_training_and_held_out_metrics(repo: Path, sk_autolog: None) -> None:
    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=1)
    with ledger.start_run(name="forest") as run:
        reg = RandomForestRegressor(n_estimators=15, max_depth=4, random_state=0).fit(X_train, y_train)
        mse = metrics.mean_squared_error(y_test, reg.predict(X_test))
        r2 = reg.score(X_test, y_test)
        run.log_metric("own", 1.0)

    rec = only_record(repo)
    assert rec["name"] == "forest" and rec["status"] == "finished"
    assert rec["params"]["sklearn"] == reg.get_params(deep=True)
    y_pred = reg.predict(X_train)
    train_mse = metrics.mean_squared_error(y_train, y_pred)
    assert rec["metrics"]["train/mse"] == pytest.approx(train_mse, rel=1e-12)
    assert rec["metrics"]["train/rmse"] == pytest.approx(math.sqrt(train_mse), rel=1e-12)
    assert rec["metrics"]["train/mae"] == pytest.approx(metrics.mean_absolute_error(y_train, y_pred), rel=1e-12)
    assert rec["metrics"]["train/r2"] == pytest.approx(metrics.r2_score(y_train, y_pred), rel=1e-12)
    # Later sklearn.metrics calls on the model's predictions, named by the data set.
    assert rec["metrics"]["X_test/mean_squared_error"] == pytest.approx(mse, rel=1e-12)
    assert rec["metrics"]["X_test/score"] == pytest.approx(r2, rel=1e-12)
    assert rec["metrics"]["own"] == 1.0
    residuals = plot_data(repo, rec, "residuals.json")
    assert residuals["y_true"] == y_train.tolist()
    assert residuals["y_pred"] == pytest.approx(y_pred.tolist())
    importance = plot_data(repo, rec, "feature_importance.json")
    assert importance["source"] == "feature_importances_"
    assert importance["importances"] == pytest.approx(reg.feature_importances_.tolist())
    assert "classes" not in rec["datasets"]["X_train"]  # a continuous target has no classes


def test_grid_search_over_a_pipeline_records_every_candidate_per_fold(repo: Path, sk_autolog: None) -> None:
    X, y = load_iris(return_X_y=True)
    pipe = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=2000))])
    grid = {"clf__C": [0.1, 1.0, 10.0]}
    search = GridSearchCV(pipe, grid, cv=4, return_train_score=True).fit(X, y)

    [rec] = all_records(repo)  # the candidates' and the pipeline steps' fits are not runs
    assert rec["tags"]["estimator"] == "GridSearchCV"
    logged = rec["params"]["sklearn"]
    assert logged["cv"] == 4 and logged["estimator__clf__max_iter"] == 2000
    assert logged["best_params"] == search.best_params_
    assert rec["metrics"]["cv/best_score"] == pytest.approx(search.best_score_, rel=1e-12)
    results = plot_data(repo, rec, "cv_results.json")
    assert results["search"] == "GridSearchCV" and results["n_splits"] == 4
    assert results["scorers"] == ["score"] and results["best_index"] == search.best_index_
    assert [c["params"] for c in results["candidates"]] == search.cv_results_["params"]
    for i, candidate in enumerate(results["candidates"]):
        score = candidate["scores"]["score"]
        assert score["folds"] == [search.cv_results_[f"split{k}_test_score"][i] for k in range(4)]
        assert len(score["train_folds"]) == 4
        assert score["mean"] == pytest.approx(search.cv_results_["mean_test_score"][i])
    # Multiclass: weighted metrics, a curve per class, mean |coef| of the final step.
    y_pred = search.predict(X)
    assert rec["metrics"]["train/f1"] == pytest.approx(metrics.f1_score(y, y_pred, average="weighted"))
    proba = search.predict_proba(X)
    assert rec["metrics"]["train/roc_auc"] == pytest.approx(
        metrics.roc_auc_score(y, proba, multi_class="ovr", average="weighted")
    )
    assert [c["label"] for c in plot_data(repo, rec, "roc_curve.json")["curves"]] == ["0", "1", "2"]
    importance = plot_data(repo, rec, "feature_importance.json")
    coef = search.best_estimator_[-1].coef_
    assert importance["importances"] == pytest.approx(np.abs(coef).mean(axis=0).tolist())
    assert importance["features"] == ["x0", "x1", "x2", "x3"]
    assert sorted(importance["per_class"]) == ["0", "1", "2"]


def test_failing_fit_is_a_failed_run_and_the_error_reaches_the_caller(repo: Path, sk_autolog: None) -> None:
    X = np.array([[0.0, 1.0], [np.nan, 2.0], [1.0, 0.0]])
    with pytest.raises(ValueError, match="NaN"):
        LogisticRegression().fit(X, [0, 1, 0])
    rec = only_record(repo)
    assert rec["status"] == "failed"
    assert rec["error"]["type"] == "ValueError"
    assert "ValueError" in rec["error"]["traceback"] and "NaN" in rec["error"]["message"]
    assert rec["params"]["sklearn"]["C"] == 1.0  # logged before training started
    assert "train/accuracy" not in rec["metrics"]


def test_failing_capture_warns_and_training_goes_on(
    repo: Path, sk_autolog: None, cancer: tuple[np.ndarray, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("capture broke")

    monkeypatch.setattr(_sklearn_data, "classifier_metrics", broken)
    X_train, X_test, y_train, y_test = cancer
    with pytest.warns(LedgerWarning, match="capture broke"):
        clf = LogisticRegression(max_iter=5000).fit(X_train, y_train)
    assert clf.score(X_test, y_test) > 0.9
    rec = only_record(repo)
    assert rec["status"] == "finished" and "train/fit_time" in rec["metrics"]


def test_disable_restores_scikit_learn_and_records_nothing(repo: Path, cancer: tuple[np.ndarray, ...]) -> None:
    before = (LogisticRegression.fit, LogisticRegression.predict, metrics.accuracy_score)
    autolog(["sklearn"])
    assert LogisticRegression.fit is not before[0]
    assert autolog(["sklearn"], disable=True) == ["sklearn"]
    assert (LogisticRegression.fit, LogisticRegression.predict, metrics.accuracy_score) == before
    X_train, _, y_train, _ = cancer
    LogisticRegression(max_iter=5000).fit(X_train, y_train)
    assert all_records(repo) == []


def test_outside_a_repository_training_works_with_a_warning(
    tmp_path: Path, sk_autolog: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    X, y = load_iris(return_X_y=True)
    with pytest.warns(LedgerWarning, match="not a git repository"):
        clf = LogisticRegression(max_iter=2000).fit(X, y)
    assert clf.score(X, y) > 0.9


def test_unknown_framework_is_an_error() -> None:
    with pytest.raises(LedgerError, match="choose from sklearn, xgboost, lightgbm, torch"):
        autolog(["keras"])


def test_autolog_imports_no_framework_until_the_user_does(tmp_path: Path) -> None:
    code = (
        "import sys, ledger; ledger.autolog()\n"
        "print(sorted(m for m in ('sklearn', 'torch', 'xgboost', 'lightgbm') if m in sys.modules))\n"
        "import sklearn.linear_model, sklearn.metrics\n"
        "print(getattr(sklearn.linear_model.LogisticRegression.fit, '__ledger_autolog__', False),"
        " getattr(sklearn.metrics.accuracy_score, '__ledger_autolog__', False))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == ["[]", "True True"]


def test_under_ledger_run_the_fit_logs_into_the_parent_run(repo: Path) -> None:
    (repo / "fit.py").write_text(
        "import ledger\nledger.autolog(['sklearn'])\n"
        "from sklearn.datasets import load_iris\nfrom sklearn.tree import DecisionTreeClassifier\n"
        "X, y = load_iris(return_X_y=True)\nDecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y)\n",
        encoding="utf-8",
    )
    git(repo, "add", "fit.py")
    git(repo, "commit", "-q", "-m", "script")
    result = ledger_cli(repo, "run", "--name", "tree", "--", sys.executable, "fit.py")
    assert result.returncode == 0, result.stderr
    rec = only_record(repo)
    assert rec["name"] == "tree" and rec["status"] == "finished"
    assert rec["params"]["sklearn"]["max_depth"] == 2
    assert rec["metrics"]["train/accuracy"] == pytest.approx(0.96)
    artifact(repo, rec, "model.joblib")
    assert rec["tags"]["estimator"] == "DecisionTreeClassifier"


def test_options_turn_off_models_data_and_plots_and_enabling_twice_patches_once(
    repo: Path, cancer: tuple[np.ndarray, ...]
) -> None:
    autolog(["sklearn"])
    fit = LogisticRegression.fit
    autolog(["sklearn"], log_models=False, log_datasets=False, log_plot_data=False)
    try:
        assert LogisticRegression.fit is fit  # no wrapper around the wrapper
        X_train, _, y_train, _ = cancer
        LogisticRegression(max_iter=5000).fit(X_train, y_train)
    finally:
        autolog(["sklearn"], disable=True)
    rec = only_record(repo)
    assert not rec.get("artifacts") and not rec.get("datasets")
    assert "train/accuracy" in rec["metrics"] and rec["params"]["sklearn"]["max_iter"] == 5000


def test_fits_made_by_scikit_learn_helpers_are_not_runs(repo: Path, sk_autolog: None) -> None:
    from sklearn.model_selection import cross_val_score
    from sklearn.preprocessing import StandardScaler

    X, y = load_iris(return_X_y=True)
    scores = cross_val_score(LogisticRegression(max_iter=2000), X, y, cv=3)
    StandardScaler().fit_transform(X)  # preprocessing alone is not a model
    assert len(scores) == 3
    assert all_records(repo) == []
