"""The bundled example: the README's quickstart, run on a fresh clone of this project."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from ledger.core import yamlio
from support.repo import ROOT, git, ledger_cli, records

PROJECT_FILES = ("src", "example", "experiments", "params.yaml", "dvc.yaml", "ledger.yaml", "pyproject.toml",
                 ".gitignore")  # fmt: skip


def _checkout(tmp_path: Path) -> Path:
    """This project (its code and the example runs it ships) as a fresh repository."""
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "out", "data", ".*cache")
    for name in PROJECT_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, checkout / name, ignore=ignore)
        elif source.exists():
            shutil.copy2(source, checkout / name)
    git(checkout, "init", "-q", "-b", "main")
    git(checkout, "add", ".")
    git(checkout, "commit", "-qm", "the project")
    return checkout


def _leaderboard(stdout: str) -> list[list[str]]:
    section = stdout.split("==> leaderboard", 1)[1].split("==>", 1)[0]
    lines = [line for line in section.splitlines()[1:] if line.strip()]
    assert lines[1].startswith("------"), section
    return [line.split() for line in lines[2:]]


def test_quickstart_records_a_baseline_and_a_sweep_and_prints_their_leaderboard(tmp_path: Path) -> None:
    checkout = _checkout(tmp_path)
    work = tmp_path / "quickstart"
    work.mkdir()
    env = {**os.environ, "LEDGER_QUICKSTART_DIR": str(work), "LEDGER_QUICKSTART_PYTHON": sys.executable}
    result = subprocess.run(["bash", "example/quickstart.sh"], cwd=checkout, env=env,
                            capture_output=True, text=True, timeout=280)  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert git(checkout, "status", "--porcelain") == ""  # the user's checkout is untouched
    project = work / "project"
    recs: list[dict[str, Any]] = [yamlio.load_file(p) for p in records(project)]
    by_name = {r["name"]: r for r in recs}
    # only the newcomer's own runs (the shipped examples stay in the checkout), each named by
    # what its sweep varied
    assert sorted(by_name) == ["baseline", "gb-learning_rate=0.05", "gb-learning_rate=0.3", "rf-max_depth=0",
                               "rf-max_depth=4"]  # fmt: skip
    assert by_name["baseline"]["baseline"] is True
    assert by_name["baseline"]["params"]["model"]["family"] == "logistic_regression"
    assert by_name["rf-max_depth=0"]["status"] == "failed"  # max_depth=0, on purpose
    assert by_name["rf-max_depth=0"]["params"]["model"]["random_forest"]["max_depth"] == 0
    finished = [r for r in recs if r["status"] == "finished"]
    assert len(finished) == 4
    for rec in finished:
        assert {"auc", "f1", "accuracy", "log_loss", "test/auc", "test/log_loss"} <= set(rec["metrics"])
        assert [d["hash"] for d in rec["data"] if d["role"] == "data"]  # the DVC-tracked data
        assert any(a["kind"] == "model" for a in rec.get("artifacts", []))
    gb = by_name["gb-learning_rate=0.3"]
    assert gb["params"]["model"]["gradient_boosting"]["learning_rate"] == 0.3
    assert gb["series"]["metrics"]["auc"]["count"] == gb["params"]["model"]["gradient_boosting"]["n_estimators"]
    committed = git(project, "ls-tree", "-r", "--name-only", "HEAD", "experiments").splitlines()
    assert sum(1 for p in committed if p.endswith(".yaml") and "/envs/" not in p) == 5

    # The leaderboard it printed is the records it made, best validation AUC first.
    rows = _leaderboard(result.stdout)
    expected = sorted(finished, key=lambda r: (-r["metrics"]["auc"], r["id"]))
    assert [row[1] for row in rows[:4]] == [r["id"] for r in expected]
    for row, rec in zip(rows, expected):
        assert row[2] == rec["name"] and row[3] == "finished"
        assert float(row[4]) == float(f"{rec['metrics']['auc']:.6g}")
    assert len(rows) == 4  # the failed point has no AUC: not on the leaderboard

    # Sweeping again over the DVC pipeline skips every point already done.
    again = ledger_cli(project, "sweep", "-j", "2", "--name", "gb",
                       "-p", "model.family=gradient_boosting",
                       "-p", "model.gradient_boosting.learning_rate=0.05,0.3", "--", "dvc", "repro",
                       env={"PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"})  # fmt: skip
    assert again.returncode == 0 and "2 skipped" in again.stderr, again.stderr
    assert len(records(project)) == 5
