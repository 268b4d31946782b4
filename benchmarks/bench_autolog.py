"""Autolog overhead, and what ledger's scikit-learn autolog captures next to MLflow's.

    python benchmarks/bench_autolog.py            # overhead ratios (autologged / plain)
    python benchmarks/bench_autolog.py --mlflow   # side by side with mlflow.sklearn.autolog

Overhead: the same ~1 s training (scikit-learn RandomForest, XGBoost with an eval set),
plain and autologged, in a fresh git repository; plain and autologged runs alternate and
the median of each is compared. Two autologged figures are printed:
- `in a run`: the fit inside `with ledger.start_run()` (what autolog itself adds:
  training metrics, plot data, model file, dataset statistics);
- `own run`: the fit outside any run, so it also pays for starting, writing and committing
  a run record (the write path's fixed cost per run, see bench_write.py).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _workspace() -> Path:
    root = Path(tempfile.mkdtemp(prefix="ledger-bench-autolog-"))
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}  # fmt: skip
    os.environ.update(env)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    (root / "ledger.yaml").write_text("experiment: bench\n", encoding="utf-8")
    subprocess.run(["git", "add", "."], cwd=root, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "init"], cwd=root, check=True)
    os.chdir(root)
    return root


def _cpu() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _timed(fn: Callable[[], Any]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process and its children, e.g. git)."""
    wall, cpu = time.perf_counter(), _cpu()
    fn()
    return time.perf_counter() - wall, _cpu() - cpu


def overhead(repeats: int) -> None:
    warnings.simplefilter("ignore")  # large models without DVC warn that they stay in place
    import xgboost as xgb
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import train_test_split

    import ledger
    from ledger.autolog import autolog

    _workspace()
    X, y = make_classification(n_samples=8_000, n_features=20, random_state=0)
    X_train, X_val, y_train, y_val = train_test_split(X, y, random_state=0)
    trainings: dict[str, Callable[[], Any]] = {
        "sklearn RandomForest (60 trees)": lambda: RandomForestClassifier(
            n_estimators=60, n_jobs=1, random_state=0).fit(X_train, y_train),
        "XGBoost (250 rounds, eval set)": lambda: xgb.XGBClassifier(
            n_estimators=250, max_depth=6, n_jobs=1, eval_metric="logloss").fit(
            X_train, y_train, eval_set=[(X_val, y_val)], verbose=False),
    }  # fmt: skip
    header = ("training", "measure", "plain s", "in a run s", "ratio", "own run s", "ratio")
    print("{:32} {:7} {:>8} {:>11} {:>6} {:>10} {:>6}".format(*header))
    for label, train in trainings.items():
        train()  # warm up caches and lazy imports
        plain, in_run, own = [], [], []
        for _ in range(repeats):
            autolog(disable=True)
            plain.append(_timed(train))
            autolog(["sklearn", "xgboost"])
            with ledger.start_run(name="bench"):
                in_run.append(_timed(train))
            own.append(_timed(train))
        autolog(disable=True)
        for i, measure in enumerate(("wall", "cpu")):
            p, r, o = (statistics.median(t[i] for t in times) for times in (plain, in_run, own))
            print(f"{label:32} {measure:7} {p:8.3f} {r:11.3f} {r / p:6.3f} {o:10.3f} {o / p:6.3f}")


def _ledger_capture() -> dict[str, list[str]]:
    from ledger.autolog import autolog
    from ledger.core import yamlio

    root = _workspace()
    autolog(["sklearn"])  # before importing the metric functions, as documented
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score
    from sklearn.model_selection import GridSearchCV, train_test_split

    import ledger

    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    with ledger.start_run(name="compare"):
        search = GridSearchCV(LogisticRegression(max_iter=5000), {"C": [0.1, 1.0]}, cv=3).fit(X_train, y_train)
        accuracy_score(y_test, search.predict(X_test))
    autolog(disable=True)
    [path] = sorted(root.glob("experiments/[0-9]*/*.yaml"))
    rec = yamlio.load_file(path)
    return {
        "params": sorted(rec["params"]["sklearn"]),
        "metrics": sorted(rec["metrics"]),
        "tags": sorted(rec.get("tags") or {}),
        "artifacts": sorted(a["name"] for a in rec.get("artifacts") or []),
        "datasets": sorted(rec.get("datasets") or {}),
        "models": sorted(a["name"] for a in rec.get("artifacts") or [] if a["kind"] == "model"),
    }


def _mlflow_capture() -> dict[str, list[str]]:
    import mlflow
    from mlflow.tracking import MlflowClient

    store = Path(tempfile.mkdtemp(prefix="mlflow-bench-"))
    mlflow.set_tracking_uri(f"sqlite:///{store / 'mlflow.db'}")
    mlflow.sklearn.autolog(log_input_examples=False, silent=True)
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score
    from sklearn.model_selection import GridSearchCV, train_test_split

    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    with mlflow.start_run() as run:
        search = GridSearchCV(LogisticRegression(max_iter=5000), {"C": [0.1, 1.0]}, cv=3).fit(X_train, y_train)
        accuracy_score(y_test, search.predict(X_test))
    client = MlflowClient()
    data = client.get_run(run.info.run_id).data
    children = client.search_runs([run.info.experiment_id], f"tags.mlflow.parentRunId = '{run.info.run_id}'")

    def listing(path: str = "") -> list[str]:
        names = []
        for item in client.list_artifacts(run.info.run_id, path):
            names.extend(listing(item.path) if item.is_dir else [item.path])
        return names

    inputs = client.get_run(run.info.run_id).inputs
    models = mlflow.search_logged_models(experiment_ids=[run.info.experiment_id], output_format="list")
    return {
        "models": sorted(f"{m.name} (logged model: {', '.join(sorted(_model_files(client, m)))})" for m in models),
        "params": sorted(data.params),
        "metrics": sorted(data.metrics),
        "tags": sorted(k for k in data.tags if not k.startswith("mlflow.")),
        "artifacts": sorted(listing()),
        "datasets": sorted(d.dataset.name for d in (inputs.dataset_inputs if inputs else [])),
        "child runs": [f"{len(children)} (one per candidate)"],
    }


def _model_files(client: Any, model: Any) -> list[str]:
    try:
        return [f.path for f in client.list_logged_model_artifacts(model.model_id)]
    except Exception:  # noqa: BLE001 - older MLflow: no listing of logged-model files
        return []


def compare() -> None:
    warnings.simplefilter("ignore")
    ours = _ledger_capture()
    try:
        theirs = _mlflow_capture()
    except ImportError:
        print("mlflow is not installed: `pip install mlflow` for this comparison")
        theirs = {}
    for key in sorted(set(ours) | set(theirs)):
        print(f"## {key}")
        print(f"  ledger: {', '.join(ours.get(key, [])) or '-'}")
        print(f"  mlflow: {', '.join(theirs.get(key, [])) or '-'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mlflow", action="store_true", help="compare what MLflow's sklearn autolog captures")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    if args.mlflow:
        compare()
    else:
        overhead(args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
