"""`import ledger.mlflow as mlflow`: the habits MLflow users bring (issue 13, item 5), by the
same behavioural script the plugin is tested with."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ledger.core import yamlio
from support.mlflow_scripts import IMPORT_LINE, LEDGER_IMPORT_LINE, LIFECYCLE
from support.repo import git, records


def _project(root: Path) -> Path:
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "ledger.yaml").write_text("experiment: default\n", encoding="utf-8")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "initial")
    return root


def _run(root: Path, code: str) -> subprocess.CompletedProcess[str]:
    (root / "script.py").write_text(code, encoding="utf-8")
    return subprocess.run([sys.executable, "script.py"], cwd=root, capture_output=True, text=True, timeout=300)


def test_run_left_open_ends_finished_and_a_failed_run_ends_failed(tmp_path: Path) -> None:
    root = _project(tmp_path / "project")
    proc = _run(root, LIFECYCLE.replace(IMPORT_LINE, LEDGER_IMPORT_LINE, 1))
    assert proc.returncode == 0, proc.stderr
    recs = {rec["name"]: rec for rec in (yamlio.load_file(p) for p in records(root))}
    assert recs["broken"]["status"] == "failed" and recs["broken"]["error"]["type"] == "ValueError"
    left_open = recs["left-open"]
    assert left_open["status"] == "finished"  # MLflow's quickstart: no `with`, no end_run()
    assert left_open["series"]["metrics"]["rmse"]["count"] == 3  # every buffered point flushed
    assert [a["kind"] for a in left_open["artifacts"]] == ["model"]
    assert git(root, "status", "--porcelain", "--", "experiments") == ""


def test_many_points_of_a_run_left_open_are_all_kept(tmp_path: Path) -> None:
    root = _project(tmp_path / "project")
    code = (
        "import ledger.mlflow as mlflow\nmlflow.start_run(run_name='quick')\n"
        "for i in range(5000):\n    mlflow.log_metric('loss', 1 / (i + 1), step=i)\n"
    )
    assert _run(root, code).returncode == 0
    [rec] = [yamlio.load_file(p) for p in records(root)]
    assert rec["status"] == "finished" and rec["series"]["metrics"]["loss"]["count"] == 5000


def test_uncaught_exception_ends_the_open_run_failed(tmp_path: Path) -> None:
    root = _project(tmp_path / "project")
    code = "import ledger.mlflow as mlflow\nmlflow.start_run()\nmlflow.log_metric('a', 1)\nraise KeyError('x')\n"
    assert _run(root, code).returncode == 1
    [rec] = [yamlio.load_file(p) for p in records(root)]
    assert rec["status"] == "failed" and rec["error"]["type"] == "KeyError" and rec["metrics"] == {"a": 1.0}


def test_import_mlflow_submodule_after_the_shim_says_so(tmp_path: Path) -> None:
    root = _project(tmp_path / "project")
    proc = _run(root, "import ledger.mlflow as mlflow\nimport mlflow.sklearn\n")
    assert proc.returncode == 1
    assert "would switch this script from ledger.mlflow to real MLflow" in proc.stderr
    assert "import ledger.mlflow.sklearn" in proc.stderr
    assert (
        _run(root, "import ledger.mlflow as mlflow\nimport ledger.mlflow.sklearn\nprint(mlflow.sklearn)\n").returncode
        == 0
    )


def test_models_data_tracking_and_last_active_run(repo: Path) -> None:
    pd = pytest.importorskip("pandas")
    import ledger.mlflow as mlflow
    from ledger.mlflow.models import infer_signature

    frame = pd.DataFrame({"x": [1.0, 2.0, None, 4.0], "y": [0, 1, 0, 1]})
    signature = infer_signature(frame[["x"]], frame["y"])
    assert signature.inputs == [{"name": "x", "type": "float64"}]
    with mlflow.start_run(run_name="with-data") as run:
        mlflow.log_input(mlflow.data.from_pandas(frame, targets="y", name="train"), context="training")
    last = mlflow.last_active_run()
    assert last is not None and last.info.run_id == run.info.run_id
    [rec] = [yamlio.load_file(p) for p in records(repo)]
    assert rec["datasets"]["train"]["rows"] == 4 and rec["datasets"]["train"]["context"] == "training"
    with pytest.raises(mlflow.Unsupported, match="MLFLOW_TRACKING_URI=ledger:"):
        mlflow.tracking.MlflowClient()
    with pytest.raises(mlflow.Unsupported, match="models.Model"):
        mlflow.models.Model  # noqa: B018
