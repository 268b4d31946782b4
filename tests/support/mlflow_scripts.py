"""MLflow's own example pattern (ElasticNet on a wine-quality-like data set, nested runs,
autolog), as a user's scripts: the tests run them with real MLflow and, with only the
import line changed, with ledger.mlflow."""

from __future__ import annotations

from pathlib import Path

IMPORT_LINE = "import mlflow\n"
LEDGER_IMPORT_LINE = "import ledger.mlflow as mlflow\n"

COMMON = """\
import numpy as np
from sklearn.linear_model import ElasticNet
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.model_selection import train_test_split

import mlflow


def eval_metrics(actual, pred):
    rmse = float(np.sqrt(mean_squared_error(actual, pred)))
    return rmse, float(mean_absolute_error(actual, pred)), float(r2_score(actual, pred))


# a wine-quality-like data set: 11 physico-chemical features, a quality score
rng = np.random.default_rng(40)
X = rng.normal(size=(400, 11))
y = 5.6 + X @ rng.uniform(-0.4, 0.4, 11) + rng.normal(0, 0.5, 400)
train_x, test_x, train_y, test_y = train_test_split(X, y, random_state=40)
"""

TRAIN = (
    COMMON
    + """
mlflow.set_experiment("wine-quality")
with mlflow.start_run(run_name="elasticnet-search", description="grid over alpha"):
    mlflow.set_tag("stage", "search")
    best = None
    for alpha, l1_ratio in [(0.5, 0.5), (0.1, 0.9), (0.05, 0.2)]:
        with mlflow.start_run(run_name=f"alpha-{alpha}-l1-{l1_ratio}", nested=True):
            lr = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, random_state=42)
            lr.fit(train_x, train_y)
            rmse, mae, r2 = eval_metrics(test_y, lr.predict(test_x))
            mlflow.log_param("alpha", alpha)
            mlflow.log_param("l1_ratio", l1_ratio)
            mlflow.log_metric("rmse", rmse)
            mlflow.log_metric("r2", r2)
            mlflow.log_metric("mae", mae)
            for step, frac in enumerate((0.25, 0.5, 1.0)):
                n = int(len(train_x) * frac)
                part = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, random_state=42)
                part.fit(train_x[:n], train_y[:n])
                mlflow.log_metric("curve_rmse", eval_metrics(test_y, part.predict(test_x))[0],
                                  step=step)
            mlflow.log_dict({"alpha": alpha, "l1_ratio": l1_ratio}, "config/grid.json")
            best = rmse if best is None else min(best, rmse)
    mlflow.log_metric("best_rmse", best)
    mlflow.log_params({"grid_size": 3, "model": "ElasticNet"})
"""
)

AUTOLOG = (
    COMMON
    + """
mlflow.set_experiment("wine-autolog")
mlflow.sklearn.autolog(log_models=False, log_datasets=False)
with mlflow.start_run(run_name="autolog"):
    ElasticNet(alpha=0.3, l1_ratio=0.4, random_state=42).fit(train_x, train_y)
"""
)

# XGBoost's own training API under MLflow's XGBoost autolog (the tracking-store plugin
# test only: ledger.mlflow does not patch XGBoost itself; ledger.autolog() does).
XGB_AUTOLOG = (
    COMMON
    + """
import xgboost as xgb

mlflow.set_experiment("xgb-autolog")
mlflow.xgboost.autolog(log_models=False, log_datasets=False)
with mlflow.start_run(run_name="xgb"):
    dtrain, dtest = xgb.DMatrix(train_x, label=train_y), xgb.DMatrix(test_x, label=test_y)
    params = {"max_depth": 3, "eta": 0.3, "objective": "reg:squarederror", "seed": 42, "nthread": 1}
    xgb.train(params, dtrain, num_boost_round=6, evals=[(dtrain, "train"), (dtest, "validation")])
"""
)

# MLflow's quickstart habits: a run ended by an exception, a run never ended (no `with`,
# no end_run()) with a logged model, as the docs write them.
LIFECYCLE = (
    COMMON
    + """
mlflow.set_experiment("lifecycle")
try:
    with mlflow.start_run(run_name="broken"):
        mlflow.log_param("alpha", 0.1)
        raise ValueError("diverged")
except ValueError:
    pass

mlflow.start_run(run_name="left-open")
lr = ElasticNet(alpha=0.5, l1_ratio=0.5, random_state=42).fit(train_x, train_y)
mlflow.log_params({"alpha": 0.5, "l1_ratio": 0.5})
for step in range(3):
    mlflow.log_metric("rmse", eval_metrics(test_y, lr.predict(test_x))[0] + step, step=step)
mlflow.sklearn.log_model(lr, name="model")
"""
)

# Run in a subprocess with real MLflow: run each script unchanged, then dump what MLflow
# recorded (params, latest metrics, metric histories, tags) as JSON.
DUMP = """\
import json, runpy, sys
import mlflow
from mlflow.tracking import MlflowClient
for script in sys.argv[2:]:
    runpy.run_path(script, run_name="__main__")
client = MlflowClient()
runs = {}
for exp in client.search_experiments():
    for run in client.search_runs([exp.experiment_id]):
        history = {k: len(client.get_metric_history(run.info.run_id, k)) for k in run.data.metrics}
        runs[run.info.run_id] = {"name": run.info.run_name, "experiment": exp.name,
                                 "status": run.info.status, "params": run.data.params,
                                 "metrics": run.data.metrics, "tags": run.data.tags,
                                 "history": history}
json.dump(runs, open(sys.argv[1], "w"))
"""


def write_scripts(directory: Path, ledger: bool) -> list[Path]:
    paths = []
    for name, text in (("train.py", TRAIN), ("autolog_train.py", AUTOLOG)):
        if ledger:
            text = text.replace(IMPORT_LINE, LEDGER_IMPORT_LINE, 1)
        (directory / name).write_text(text, encoding="utf-8")
        paths.append(directory / name)
    return paths
