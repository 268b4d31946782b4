"""`ledger import mlflow` from stores made by real MLflow (SQLite: 200 runs; file store): the same
leaderboard order as MLflow's own search, nothing added by a second import, clear errors.
MLflow must be installed for these tests (CI installs it)."""

from __future__ import annotations

import json
import math
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ledger.cli import main
from ledger.core import yamlio
from support.repo import git, records

GENERATOR = Path(__file__).parents[1] / "support" / "mlflow_gen.py"
RUNS = 200


# MLflow 3's default backend (SQLite) with 200 runs; the older file store with fewer.
STORES = {"sqlite": ("sqlite:///mlflow.db", "mlflow.db", RUNS), "file": ("file:./mlruns", "mlruns", 30)}


@pytest.fixture(scope="session", params=sorted(STORES))
def mlflow_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A tracking store written by real MLflow, and what MLflow says about it."""
    uri, name, count = STORES[request.param]
    base = tmp_path_factory.mktemp(f"mlflow-{request.param}")
    (base / "home").mkdir()
    env = {**os.environ, "HOME": str(base / "home")}
    subprocess.run(
        [sys.executable, str(GENERATOR), uri, "truth.json", str(count)],
        cwd=base, env=env, check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    return base / name, json.loads((base / "truth.json").read_text())


def top_ids(capsys: pytest.CaptureFixture[str]) -> list[str]:
    capsys.readouterr()
    assert main(["top", "--metric", "rmse", "-n", "1000", "--format", "json"]) == 0
    return [row["id"] for row in json.loads(capsys.readouterr().out)]


def test_import_gives_mlflow_order_and_is_idempotent(
    repo: Path, mlflow_db: tuple[Path, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    db, truth = mlflow_db
    runs = len(truth["runs"]) - 1  # all but the one still running (the deleted one is not listed)
    location = os.path.relpath(db, repo)
    uri = "sqlite:///" + location if db.is_file() else location  # MLflow's relative forms
    assert main(["import", "mlflow", uri]) == 0
    out = capsys.readouterr().out
    assert f"imported {runs} of {runs + 2} runs" in out
    assert "skipped 1: deleted in MLflow" in out
    assert "skipped 1: running in MLflow (import again when it has ended)" in out
    assert len(records(repo)) == runs
    assert git(repo, "status", "--porcelain") == ""

    # `ledger top` ranks as mlflow.search_runs(order_by=["metrics.rmse ASC"]) does, except
    # that ledger puts failed runs after finished ones (docs/query.md); MLflow also lists the
    # still-running run, which is not imported
    def failed_last(run_id: str) -> tuple[bool, bool]:
        run = truth["runs"][run_id]
        value = run["metrics"].get("rmse")
        return (value is None or math.isnan(value), run["status"] != "FINISHED")

    expected = sorted((r for r in truth["order"] if r != truth["running"]), key=failed_last)
    assert [i[-16:] for i in top_ids(capsys)] == [r[:16] for r in expected]

    # each record holds what MLflow holds
    by_mlflow_id = {}
    for path in records(repo):
        rec = yamlio.load_file(path)
        by_mlflow_id[rec["tags"]["mlflow.run_id"]] = rec
    for run_id, real in truth["runs"].items():
        if run_id == truth["running"]:
            continue
        rec = by_mlflow_id[run_id]
        assert rec["params"] == real["params"]
        assert rec["metrics"] == real["metrics"]
        assert rec["series"]["metrics"]["rmse"]["count"] == 5
        assert rec["status"] == real["status"].lower()
        assert rec["name"] == real["name"] and rec["experiment"] == "wine-import"
        assert rec["description"] == real["tags"]["mlflow.note.content"]
        assert rec["code"]["commit"] == real["tags"]["mlflow.source.git.commit"]
        assert rec["started_at"].startswith("20") and rec["author"]["user"]
        parent = real["tags"].get("mlflow.parentRunId")
        if parent:
            assert rec["tags"]["ledger.parent"] == by_mlflow_id[parent]["id"]

    # importing again adds nothing: no new record, no new commit
    head = git(repo, "rev-parse", "HEAD")
    assert main(["import", "mlflow", str(db)]) == 0
    assert f"skipped {runs}: already imported" in capsys.readouterr().out
    assert git(repo, "rev-parse", "HEAD") == head
    assert len(records(repo)) == runs


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("nowhere/mlruns", "no MLflow store at nowhere/mlruns"),
        ("sqlite:///missing.db", "no MLflow database at missing.db"),
        ("http://tracking.example.com", "cannot import from http:// stores"),
        ("params.yaml", "neither an MLflow file store nor a SQLite database"),
        ("other.db", "not an MLflow tracking database"),
        ("empty", "is not an MLflow file store"),
    ],
)
def test_bad_locations_are_one_line_errors(
    repo: Path, capsys: pytest.CaptureFixture[str], location: str, message: str
) -> None:
    sqlite3.connect(repo / "other.db").execute("CREATE TABLE t (x)").connection.commit()
    (repo / "empty").mkdir()
    assert main(["import", "mlflow", location]) == 1
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert records(repo) == []


def test_names_never_merge_and_cuts_are_reported(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`train loss` next to `train_loss`, spaces in tag names, a long tag: each kept apart
    and each change listed (issue 13, item 5)."""
    from mlflow import MlflowClient
    from mlflow.entities import Metric, RunTag

    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'names.db'}")
    run = client.create_run("0", run_name="names")
    metrics = [
        Metric("train loss", 1.0, 1000, 0),
        Metric("train_loss", 2.0, 1000, 0),
        Metric("train loss", 0.5, 2000, 1),
    ]
    tags = [RunTag("my tag", "a"), RunTag("my_tag", "b"), RunTag("note", "x" * 2500)]
    client.log_batch(run.info.run_id, metrics=metrics, tags=tags)
    client.set_terminated(run.info.run_id)
    assert main(["import", "mlflow", f"sqlite:///{tmp_path / 'names.db'}"]) == 0
    out = capsys.readouterr().out
    [rec] = [yamlio.load_file(p) for p in records(repo)]
    assert rec["metrics"] == {"train_loss": 2.0, "train_loss-2": 0.5}
    assert rec["tags"]["my_tag"] == "b" and rec["tags"]["my_tag-2"] == "a"
    assert len(rec["tags"]["note"]) == 2000
    assert "changed 3 names or values" in out
    assert "metric 'train loss' renamed to 'train_loss-2' ('train_loss' is another metric)" in out
    assert "tag 'my tag' renamed to 'my_tag-2' ('my_tag' is another tag)" in out
    assert "tag 'note' cut from 2500 to 2000 characters" in out
