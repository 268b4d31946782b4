"""`import ledger.mlflow as mlflow`: MLflow scripts, unchanged but for the import line,
give records equal to what real MLflow records for the same scripts (MLflow must be
installed for these tests: CI installs it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ledger.cli import main
from ledger.core import yamlio
from ledger.mlflow.entities import flat_params
from support.mlflow_scripts import DUMP, write_scripts
from support.repo import git, ledger_cli, records

# MLflow's autolog metric names and ledger.autolog's names for the same numbers.
AUTOLOG_METRICS = {
    "training_mean_squared_error": "train/mse",
    "training_root_mean_squared_error": "train/rmse",
    "training_mean_absolute_error": "train/mae",
    "training_r2_score": "train/r2",
}


@pytest.fixture(scope="session")
def real_mlflow(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The example scripts run once with real MLflow (file store): (folder, what it logged)."""
    base = tmp_path_factory.mktemp("real-mlflow")
    (base / "home").mkdir()
    scripts = write_scripts(base, ledger=False)
    (base / "dump.py").write_text(DUMP, encoding="utf-8")
    env = {**os.environ, "HOME": str(base / "home"), "MLFLOW_TRACKING_URI": "file:./mlruns",
           "MLFLOW_ALLOW_FILE_STORE": "true", "GIT_CONFIG_NOSYSTEM": "1"}  # fmt: skip
    subprocess.run(
        [sys.executable, "dump.py", "out.json", *(s.name for s in scripts)],
        cwd=base, env=env, check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return base, json.loads((base / "out.json").read_text())


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository with no params.yaml, so records hold only what the script logs."""
    root = tmp_path / "project"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "ledger.yaml").write_text("experiment: default\n", encoding="utf-8")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "initial")
    monkeypatch.chdir(root)
    return root


def by_name(root: Path) -> dict[str, dict[str, Any]]:
    found = {}
    for path in records(root):
        rec = yamlio.load_file(path)
        found[rec["name"]] = rec
    return found


def real_runs(logged: dict[str, Any], experiment: str) -> dict[str, dict[str, Any]]:
    return {r["name"]: {**r, "id": i} for i, r in logged.items() if r["experiment"] == experiment}


def run_script(root: Path, *command: str) -> None:
    proc = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr


def check_same_as_mlflow(rec: dict[str, Any], real: dict[str, Any]) -> None:
    assert flat_params(rec["params"]) == real["params"]
    assert rec["metrics"] == real["metrics"]
    for name, count in real["history"].items():
        if count > 1:
            assert rec["series"]["metrics"][name]["count"] == count
    assert rec["status"] == real["status"].lower()


def test_example_script_gives_the_records_mlflow_gives(project: Path, real_mlflow: tuple[Path, dict[str, Any]]) -> None:
    write_scripts(project, ledger=True)
    run_script(project, sys.executable, "train.py")
    ours = by_name(project)
    real = real_runs(real_mlflow[1], "wine-quality")
    assert set(ours) == set(real) and len(ours) == 4
    for name, rec in ours.items():
        check_same_as_mlflow(rec, real[name])
        assert rec["experiment"] == "wine-quality"
    parent = ours["elasticnet-search"]
    assert parent["description"] == real["elasticnet-search"]["tags"]["mlflow.note.content"]
    assert parent["tags"]["stage"] == "search"
    for name, rec in ours.items():
        if name != "elasticnet-search":
            assert rec["tags"]["mlflow.parentRunId"] == parent["id"]
            assert real[name]["tags"]["mlflow.parentRunId"] == real["elasticnet-search"]["id"]
            [artifact] = rec["artifacts"]
            assert artifact["name"] == "config__grid.json"
            saved = json.loads((project / artifact["path"]).read_text())
            assert saved == {"alpha": rec["params"]["alpha"], "l1_ratio": rec["params"]["l1_ratio"]}
    assert git(project, "status", "--porcelain", "--", "experiments") == ""


def test_example_script_under_ledger_run(project: Path, real_mlflow: tuple[Path, dict[str, Any]]) -> None:
    write_scripts(project, ledger=True)
    proc = ledger_cli(project, "run", "--", sys.executable, "train.py")
    assert proc.returncode == 0, proc.stderr
    ours = by_name(project)
    real = real_runs(real_mlflow[1], "wine-quality")
    assert set(ours) == set(real)
    parent = ours["elasticnet-search"]  # the run `ledger run` owns, named by the script
    assert parent["command"]["argv"][1:] == ["train.py"]
    for name, rec in ours.items():
        check_same_as_mlflow(rec, real[name])


def test_autolog_delegates_to_ledger_autolog(project: Path, real_mlflow: tuple[Path, dict[str, Any]]) -> None:
    write_scripts(project, ledger=True)
    run_script(project, sys.executable, "autolog_train.py")
    rec = by_name(project)["autolog"]
    real = real_runs(real_mlflow[1], "wine-autolog")["autolog"]
    # the same estimator params and training metrics; ledger's own names for them
    assert flat_params(rec["params"]["sklearn"]) == real["params"]
    for mlflow_name, ledger_name in AUTOLOG_METRICS.items():
        assert rec["metrics"][ledger_name] == pytest.approx(real["metrics"][mlflow_name], rel=1e-9)


def test_import_of_the_file_store_matches_mlflow(project: Path, real_mlflow: tuple[Path, dict[str, Any]]) -> None:
    base, logged = real_mlflow
    assert main(["import", "mlflow", str(base / "mlruns")]) == 0
    ours = {r["tags"]["mlflow.run_id"]: r for r in by_name(project).values()}
    assert set(ours) == set(logged)
    for run_id, real in logged.items():
        rec = ours[run_id]
        check_same_as_mlflow(rec, real)
        assert rec["name"] == real["name"] and rec["experiment"] == real["experiment"]
        assert rec["tags"]["mlflow.source.name"] == real["tags"]["mlflow.source.name"]
        parent = real["tags"].get("mlflow.parentRunId")
        if parent:
            assert rec["tags"]["ledger.parent"] == ours[parent]["id"]
    assert git(project, "status", "--porcelain", "--", "experiments") == ""
    head = git(project, "rev-parse", "HEAD")
    assert main(["import", "mlflow", f"file://{base / 'mlruns'}"]) == 0
    assert git(project, "rev-parse", "HEAD") == head
    assert len(records(project)) == len(logged)
