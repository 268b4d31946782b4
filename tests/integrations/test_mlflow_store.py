"""The MLflow plugin end to end: unchanged MLflow scripts under MLFLOW_TRACKING_URI=ledger:
give what the same scripts give on MLflow's own SQLite store, as committed ledger records;
`mlflow server` answers over the ledger."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from ledger.core import yamlio
from support.mlflow_plugin import plugin_env, plugin_site
from support.mlflow_scripts import AUTOLOG, DUMP, LIFECYCLE, TRAIN, XGB_AUTOLOG
from support.repo import git, ledger_cli, records


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return plugin_site(tmp_path_factory.mktemp("plugin-site"))


def _project(root: Path) -> Path:
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    (root / "ledger.yaml").write_text("experiment: default\n", encoding="utf-8")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "initial")
    scripts = (
        ("train.py", TRAIN),
        ("autolog_train.py", AUTOLOG),
        ("xgb_train.py", XGB_AUTOLOG),
        ("lifecycle.py", LIFECYCLE),
    )
    for name, text in scripts:
        (root / name).write_text(text, encoding="utf-8")
    (root / "dump.py").write_text(DUMP, encoding="utf-8")
    return root


def _run(root: Path, site: Path, uri: str, *args: str) -> None:
    env = plugin_env(site, MLFLOW_TRACKING_URI=uri, HOME=os.environ["HOME"])
    proc = subprocess.run([sys.executable, *args], cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory, site: Path) -> dict[str, tuple[Path, dict[str, Any]]]:
    """The same scripts on MLflow's SQLite store and on the ledger: (folder, dump) each."""
    found = {}
    for label, uri in (("sqlite", "sqlite:///mlflow.db"), ("ledger", "ledger:")):
        root = _project(tmp_path_factory.mktemp(label) / "project")
        _run(root, site, uri, "lifecycle.py")  # its own process: the open run ends at exit
        _run(root, site, uri, "dump.py", "out.json", "train.py", "autolog_train.py", "xgb_train.py")
        found[label] = (root, json.loads((root / "out.json").read_text()))
    return found


def _by_name(dump: dict[str, Any], experiment: str) -> dict[str, dict[str, Any]]:
    runs = {r["name"]: r for r in dump.values() if r["experiment"] == experiment}
    names = {run_id: r["name"] for run_id, r in dump.items()}
    for run in runs.values():
        parent = run["tags"].get("mlflow.parentRunId")
        run["parent"] = names.get(parent) if parent else None
        run["user_tags"] = {k: v for k, v in run["tags"].items() if not k.startswith(("mlflow.", "ledger."))}
    return runs


@pytest.mark.parametrize("experiment", ["wine-quality", "wine-autolog", "xgb-autolog", "lifecycle"])
def test_scripts_give_what_sqlite_gives(both: dict[str, tuple[Path, dict[str, Any]]], experiment: str) -> None:
    ours, theirs = _by_name(both["ledger"][1], experiment), _by_name(both["sqlite"][1], experiment)
    assert set(ours) == set(theirs) and ours
    for name, run in theirs.items():
        mine = ours[name]
        assert mine["params"] == run["params"], name
        assert mine["metrics"] == run["metrics"], name
        assert mine["history"] == run["history"], name
        assert mine["status"] == run["status"], name
        assert mine["parent"] == run["parent"], name
        assert mine["user_tags"] == run["user_tags"], name
        assert mine["tags"].get("mlflow.note.content") == run["tags"].get("mlflow.note.content")
    if experiment == "wine-autolog":  # MLflow's autolog ran through the plugin
        assert "training_root_mean_squared_error" in ours["autolog"]["metrics"]
        assert ours["autolog"]["tags"]["estimator_class"] == "sklearn.linear_model._coordinate_descent.ElasticNet"
    if experiment == "xgb-autolog":  # XGBoost's per-round metrics through MLflow's autolog
        assert ours["xgb"]["history"]["validation-rmse"] == 6
        assert ours["xgb"]["params"]["max_depth"] == "3"


def test_runs_are_committed_ledger_records(both: dict[str, tuple[Path, dict[str, Any]]]) -> None:
    root = both["ledger"][0]
    recs = {rec["name"]: rec for rec in (yamlio.load_file(p) for p in records(root))}
    assert len(recs) == 8
    assert recs["xgb"]["series"]["metrics"]["validation-rmse"]["count"] == 6  # XGBoost autolog's rounds
    assert git(root, "status", "--porcelain", "--", "experiments") == ""
    assert all(rec["code"]["commit"] and rec["hardware"] and rec["env"] for rec in recs.values())
    parent = recs["elasticnet-search"]
    assert recs["alpha-0.5-l1-0.5"]["tags"]["mlflow.parentRunId"] == parent["id"]
    assert parent["description"] == "grid over alpha"
    broken = recs["broken"]
    assert broken["status"] == "failed" and broken["error"]["type"] == "ValueError"
    assert "diverged" in broken["error"]["message"]
    left_open = recs["left-open"]
    assert left_open["status"] == "finished"
    assert left_open["series"]["metrics"]["rmse"]["count"] == 3
    models = {a["name"]: a for a in left_open["artifacts"]}
    assert models["model__MLmodel"]["kind"] == "model" and "model__model.skops" in models
    top = ledger_cli(root, "top", "--metric", "rmse", "--format", "json", "--where", "attributes.status = 'FINISHED'")
    assert top.returncode == 0, top.stderr
    assert "left-open" in [row["name"] for row in json.loads(top.stdout)]


def test_models_and_artifacts_come_back_through_mlflow(
    both: dict[str, tuple[Path, dict[str, Any]]], site: Path
) -> None:
    root = both["ledger"][0]
    check = """\
import mlflow, numpy as np
[run] = mlflow.search_runs(experiment_names=["lifecycle"], filter_string="attributes.run_name = 'left-open'",
                           output_format="list")
model = mlflow.sklearn.load_model(f"runs:/{run.info.run_id}/model")
names = sorted(f.path for f in mlflow.MlflowClient().list_artifacts(run.info.run_id, "model"))
[grid] = mlflow.search_runs(experiment_names=["wine-quality"], filter_string="params.alpha = '0.1'",
                            output_format="list")
path = mlflow.artifacts.download_artifacts(run_id=grid.info.run_id, artifact_path="config/grid.json")
print(type(model).__name__, names, open(path).read().replace(chr(10), ""))
"""
    env = plugin_env(site, MLFLOW_TRACKING_URI="ledger:", HOME=os.environ["HOME"])
    proc = subprocess.run([sys.executable, "-c", check], cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.startswith("ElasticNet ['model/MLmodel'")
    assert '"alpha": 0.1' in proc.stdout


def test_uncaught_exception_ends_an_open_run_failed(tmp_path: Path, site: Path) -> None:
    root = _project(tmp_path / "project")
    (root / "crash.py").write_text(
        "import mlflow\nmlflow.start_run(run_name='crash')\nmlflow.log_metric('loss', 0.5, step=1)\n"
        "raise RuntimeError('out of memory')\n"
    )
    env = plugin_env(site, MLFLOW_TRACKING_URI="ledger:", HOME=os.environ["HOME"])
    proc = subprocess.run([sys.executable, "crash.py"], cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1 and "out of memory" in proc.stderr
    [rec] = [yamlio.load_file(p) for p in records(root)]
    assert rec["status"] == "failed" and rec["error"]["type"] == "RuntimeError"
    assert rec["metrics"] == {"loss": 0.5}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_mlflow_server_searches_the_ledger(both: dict[str, tuple[Path, dict[str, Any]]], site: Path) -> None:
    root = both["ledger"][0]
    port = _free_port()
    env = plugin_env(site, HOME=os.environ["HOME"])
    command = [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", f"ledger://{root}",
               "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]  # fmt: skip
    server = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, server.stderr.read().decode()[-3000:] if server.stderr else ""
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2).read()
                break
            except OSError:
                assert time.monotonic() < deadline, "mlflow server did not answer within 120 s"
                time.sleep(0.5)
        body = json.dumps({"experiment_ids": ["wine-quality"], "order_by": ["metrics.rmse ASC"],
                           "filter": "attributes.status = 'FINISHED'"}).encode()  # fmt: skip
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/2.0/mlflow/runs/search", data=body,
                                         headers={"Content-Type": "application/json"})  # fmt: skip
        answer = json.loads(urllib.request.urlopen(request, timeout=60).read())
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    names = [run["info"]["run_name"] for run in answer["runs"]]
    dump = both["ledger"][1]
    expected = sorted(
        (r for r in dump.values() if r["experiment"] == "wine-quality" and "rmse" in r["metrics"]),
        key=lambda r: r["metrics"]["rmse"],
    )
    assert names[: len(expected)] == [r["name"] for r in expected]
    assert len(names) == 4  # the parent has no rmse: last


def test_ledger_top_never_imports_mlflow(both: dict[str, tuple[Path, dict[str, Any]]]) -> None:
    """Records written by the plugin are read without MLflow: it stays an optional import."""
    root = both["ledger"][0]
    code = (
        "import sys\nfrom ledger.cli import main\n"
        "assert main(['top', '--metric', 'rmse', '--where', \"tags.mlflow.runName = 'left-open'\"]) == 0\n"
        "print(sorted(m for m in sys.modules if m == 'mlflow' or m.startswith(('mlflow.', 'ledger.mlflow'))))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "left-open" in proc.stdout and proc.stdout.strip().endswith("[]")
