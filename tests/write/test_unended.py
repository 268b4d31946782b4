"""The habits MLflow and W&B users bring: runs never ended, logging with no run, tags as a
list, names with spaces."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import ledger
from ledger.core import yamlio
from ledger.errors import LedgerError
from support.repo import ledger_cli, records

POINTS = 30_000  # more than one flush's worth, and a remainder still buffered at exit

NEVER_ENDED = {
    # MLflow's own quickstart: start_run() with no `with` and no end_run()
    "ledger": "import ledger\nrun = ledger.start_run(name='quick')\nlog = ledger.log_metric\n",
    "ledger.mlflow": "import ledger.mlflow as mlflow\nmlflow.start_run(run_name='quick')\nlog = mlflow.log_metric\n",
    "implicit": "import ledger\nlog = ledger.log_metric\n",  # no start_run at all
}


def _script(root: Path, api: str, tail: str = "") -> subprocess.CompletedProcess[str]:
    body = NEVER_ENDED[api] + f"for i in range({POINTS}):\n    log('loss', 1.0 / (i + 1), step=i)\nlog('auc', 0.75)\n"
    (root / "quick.py").write_text(body + tail, encoding="utf-8")
    return subprocess.run([sys.executable, "quick.py"], cwd=root, capture_output=True, text=True, timeout=120)


def _series_points(root: Path, rec: dict) -> int:
    lines = (root / rec["series"]["path"]).read_text().splitlines()
    return sum(1 for line in lines[1:] if line.split("\t")[1] == "loss")


@pytest.mark.parametrize("api", sorted(NEVER_ENDED))
def test_a_run_never_ended_finishes_at_exit_with_every_point(repo: Path, api: str) -> None:
    result = _script(repo, api)
    assert result.returncode == 0, result.stderr
    [path] = records(repo)
    rec = yamlio.load_file(path)
    assert rec["status"] == "finished" and rec["metrics"]["auc"] == 0.75
    assert rec["series"]["metrics"]["loss"]["count"] == POINTS
    assert _series_points(repo, rec) == POINTS
    assert (
        path.relative_to(repo).as_posix()
        in subprocess.run(
            ["git", "show", "--name-only", "--format=", "HEAD"], cwd=repo, capture_output=True, text=True
        ).stdout
    )


@pytest.mark.parametrize("api", ["ledger", "ledger.mlflow"])
def test_an_uncaught_exception_at_exit_fails_the_run(repo: Path, api: str) -> None:
    result = _script(repo, api, "raise ValueError('diverged')\n")
    assert result.returncode == 1 and "ValueError: diverged" in result.stderr
    [path] = records(repo)
    rec = yamlio.load_file(path)
    assert rec["status"] == "failed" and rec["error"]["type"] == "ValueError"
    assert rec["series"]["metrics"]["loss"]["count"] == POINTS


def test_logging_with_no_active_run_starts_one(repo: Path) -> None:
    ledger.log_metric("auc", 0.9)
    ledger.log_params({"depth": 3})
    first = ledger.active_run()
    assert first is not None
    ledger.end_run()
    assert ledger.active_run() is None
    ledger.end_run()  # nothing active: nothing to do, as in MLflow
    ledger.set_tags(["second"])  # a new run
    second = ledger.active_run()
    assert second is not None and second.id != first.id
    second.end()
    recs = sorted((yamlio.load_file(p) for p in records(repo)), key=lambda r: r["started_at"])
    assert [r["status"] for r in recs] == ["finished", "finished"]
    assert recs[0]["metrics"] == {"auc": 0.9} and recs[0]["params"]["depth"] == 3
    assert recs[1]["tags"] == {"second": ""}


def test_tags_as_a_list_are_tags_without_values(repo: Path) -> None:
    with ledger.start_run(name="wandb-style", tags=["baseline", "v2"]) as run:
        run.set_tags(("extra",))
    [path] = records(repo)
    assert yamlio.load_file(path)["tags"] == {"baseline": "", "v2": "", "extra": ""}


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        ("baseline", "tags must be a mapping such as {'stage': 'dev'} or a list of names, not str"),
        ({"release candidate": "yes"}, "tag name 'release candidate' has a space: .* 'release_candidate'"),
        (["ok", 3], "tag name 3 must be a non-empty text"),
    ],
)
def test_bad_tags_are_refused_before_anything_is_written(repo: Path, tags: object, message: str) -> None:
    with pytest.raises(LedgerError, match=message):
        ledger.start_run(name="t", tags=tags)  # type: ignore[arg-type]
    assert not (repo / "experiments").exists() or not any((repo / "experiments").rglob("*"))
    assert ledger.active_run() is None


def test_names_with_spaces_are_refused_with_the_one_word_spelling(repo: Path) -> None:
    with ledger.start_run(name="spaces") as run:
        with pytest.raises(LedgerError, match=r"metric name 'val acc' has a space: .* 'val_acc'"):
            run.log_metric("val acc", 0.9)
        with pytest.raises(LedgerError, match="tag name 'my tag' has a space"):
            run.set_tag("my tag", "x")
        run.log_metric("val_acc", 0.9)
    [path] = records(repo)
    rec = yamlio.load_file(path)
    assert rec["status"] == "finished" and rec["metrics"] == {"val_acc": 0.9} and "tags" not in rec


def test_a_metrics_file_name_with_a_space_is_reported_not_dropped_silently(repo: Path) -> None:
    (repo / "dvc.yaml").write_text("metrics: [m.json]\nstages: {}\n", encoding="utf-8")
    (repo / "write.py").write_text("import json; json.dump({'val acc': 0.9, 'auc': 0.8}, open('m.json', 'w'))\n")
    result = ledger_cli(repo, "run", "--", sys.executable, "write.py")
    assert result.returncode == 0, result.stderr
    assert "metric 'val acc' left out: metric names are one word" in result.stderr and "'val_acc'" in result.stderr
    [path] = records(repo)
    assert yamlio.load_file(path)["metrics"] == {"auc": 0.8}
