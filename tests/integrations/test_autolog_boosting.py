"""XGBoost and LightGBM autologging: native `train` and the scikit-learn wrappers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest
import xgboost as xgb
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.model_selection import train_test_split

import ledger
from ledger.autolog import autolog
from support.autolog_helpers import all_records, artifact, only_record, plot_data, series


@pytest.fixture
def boosting_autolog() -> Iterator[None]:
    assert autolog(["xgboost", "lightgbm"]) == ["xgboost", "lightgbm"]
    yield
    autolog(["xgboost", "lightgbm"], disable=True)


@pytest.fixture(scope="module")
def cancer() -> tuple[np.ndarray, ...]:
    X, y = load_breast_cancer(return_X_y=True)
    return tuple(train_test_split(X, y, random_state=0))


def test_xgboost_train_with_early_stopping(repo: Path, boosting_autolog: None, cancer: tuple[np.ndarray, ...]) -> None:
    X_train, X_val, y_train, y_val = cancer
    dtrain, dval = xgb.DMatrix(X_train, label=y_train), xgb.DMatrix(X_val, label=y_val)
    params = {"objective": "binary:logistic", "eval_metric": ["logloss", "auc"], "max_depth": 2, "eta": 0.5}
    history: dict = {}
    booster = xgb.train(params, dtrain, 200, evals=[(dtrain, "train"), (dval, "val")],
                        early_stopping_rounds=3, evals_result=history, verbose_eval=False)  # fmt: skip

    rec = only_record(repo)
    assert rec["status"] == "finished" and rec["name"] == "xgboost-train"
    assert rec["params"]["xgboost"] == {**params, "num_boost_round": 200, "early_stopping_rounds": 3}
    rounds = booster.num_boosted_rounds()
    assert rounds < 200  # it did stop early
    assert history["val"]["auc"]  # the caller's own evals_result is still filled
    points = series(repo, rec)
    for data in ("train", "val"):
        for metric in ("logloss", "auc"):
            name = f"{data}/{metric}"
            assert [step for step, _ in points[name]] == list(range(rounds))
            assert [value for _, value in points[name]] == pytest.approx(history[data][metric], rel=1e-12)
            assert rec["metrics"][name] == pytest.approx(history[data][metric][-1], rel=1e-12)
            assert rec["series"]["metrics"][name]["count"] == rounds
    assert rec["metrics"]["iterations"] == rounds
    assert rec["metrics"]["best_iteration"] == booster.best_iteration
    assert rec["metrics"]["best_score"] == pytest.approx(booster.best_score)
    _, model_path = artifact(repo, rec, "model.json")
    assert json.loads(model_path.read_text())["learner"]["attributes"]["best_iteration"] == str(booster.best_iteration)
    importance = plot_data(repo, rec, "feature_importance.json")
    gains = booster.get_score(importance_type="gain")
    assert importance["features"] == [f"f{i}" for i in range(X_train.shape[1])]
    assert importance["importances"] == pytest.approx([gains.get(f, 0.0) for f in importance["features"]])


def test_xgboost_regressor_in_a_run(repo: Path, boosting_autolog: None) -> None:
    X, y = load_diabetes(return_X_y=True)
    X_train, X_val, y_train, y_val = train_test_split(X, y, random_state=0)
    with ledger.start_run(name="xgb-reg"):
        model = xgb.XGBRegressor(n_estimators=12, max_depth=3, learning_rate=0.3)
        model.fit(X_train, y_train, eval_set=[(X_train, y_train), (X_val, y_val)], verbose=False)

    rec = only_record(repo)
    assert rec["name"] == "xgb-reg" and rec["tags"]["estimator"] == "XGBRegressor"
    logged, expected = dict(rec["params"]["xgboost"]), model.get_params()
    assert np.isnan(logged.pop("missing")) and np.isnan(expected.pop("missing"))
    assert logged == expected
    history = model.evals_result()
    points = series(repo, rec)
    assert len(points["validation_1/rmse"]) == 12
    assert [v for _, v in points["validation_1/rmse"]] == pytest.approx(history["validation_1"]["rmse"], rel=1e-12)
    assert rec["metrics"]["iterations"] == 12 and "best_iteration" not in rec["metrics"]
    assert rec["datasets"]["X_train"]["rows"] == len(X_train)
    artifact(repo, rec, "model.json")


def test_lightgbm_train_with_early_stopping_callback(
    repo: Path, boosting_autolog: None, cancer: tuple[np.ndarray, ...]
) -> None:
    X_train, X_val, y_train, y_val = cancer
    train_set = lgb.Dataset(X_train, label=y_train)
    val_set = lgb.Dataset(X_val, label=y_val, reference=train_set)
    params = {"objective": "binary", "metric": ["binary_logloss", "auc"], "learning_rate": 0.3,
              "num_leaves": 7, "verbose": -1, "seed": 1}  # fmt: skip
    booster = lgb.train(params, train_set, 300, valid_sets=[train_set, val_set], valid_names=["train", "val"],
                        callbacks=[lgb.early_stopping(4, verbose=False)])  # fmt: skip

    rec = only_record(repo)
    assert rec["name"] == "lightgbm-train" and rec["status"] == "finished"
    assert rec["params"]["lightgbm"] == {
        **params, "num_boost_round": 300,
        "early_stopping": {"rounds": 4, "first_metric_only": False, "min_delta": 0.0},
    }  # fmt: skip
    points = series(repo, rec)
    trained = booster.best_iteration + 4  # early stopping waits 4 more rounds
    assert len(points["val/auc"]) == len(points["train/binary_logloss"]) == trained
    assert rec["metrics"]["iterations"] == trained
    assert rec["metrics"]["best_iteration"] == booster.best_iteration
    assert rec["metrics"]["best/val/auc"] == pytest.approx(booster.best_score["val"]["auc"], rel=1e-12)
    assert points["val/auc"][booster.best_iteration - 1][1] == pytest.approx(booster.best_score["val"]["auc"])
    assert rec["datasets"]["train_set"]["rows"] == len(X_train)
    _, model_path = artifact(repo, rec, "model.txt")
    assert model_path.read_text().startswith("tree\n")
    importance = plot_data(repo, rec, "feature_importance.json")
    assert importance["importances"] == pytest.approx(booster.feature_importance("gain").tolist())


def test_lightgbm_classifier_and_a_failing_fit(
    repo: Path, boosting_autolog: None, cancer: tuple[np.ndarray, ...]
) -> None:
    X_train, X_val, y_train, y_val = cancer
    model = lgb.LGBMClassifier(n_estimators=9, num_leaves=5, verbose=-1)
    model.fit(X_train, y_train, eval_X=(X_val,), eval_y=(y_val,))
    with pytest.raises(ValueError):
        lgb.LGBMClassifier(n_estimators=3, verbose=-1).fit(X_train, y_train[:10])

    ok, failed = sorted(all_records(repo), key=lambda r: r["status"] == "failed")
    assert ok["status"] == "finished" and ok["params"]["lightgbm"]["n_estimators"] == 9
    assert ok["params"]["lightgbm"]["early_stopping"] is None
    assert len(series(repo, ok)["valid_0/binary_logloss"]) == 9
    final = model.evals_result_["valid_0"]["binary_logloss"][-1]
    assert ok["metrics"]["valid_0/binary_logloss"] == pytest.approx(final)
    assert failed["status"] == "failed" and failed["error"]["type"] == "ValueError"
    assert "Traceback" in failed["error"]["traceback"]
