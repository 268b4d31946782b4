"""Duplicate runs: `ledger run` refuses the same params, code and data; --force runs."""

from __future__ import annotations

import sys
from pathlib import Path

from ledger.core import yamlio
from ledger.write import duplicates
from support.repo import git, ledger_cli, records

TRAIN = """
import ledger
p = ledger.params()
ledger.log_metric("auc", round(0.5 + p["lr"], 4))
"""


def _setup(repo: Path) -> None:
    (repo / "train.py").write_text(TRAIN)
    git(repo, "commit", "-qam", "train")


def _run(repo: Path, *args: str):  # type: ignore[no-untyped-def]
    return ledger_cli(repo, "run", *args, "--", sys.executable, "train.py")


def test_same_run_is_refused_naming_the_earlier_run_and_result(repo: Path) -> None:
    _setup(repo)
    first = _run(repo, "-p", "lr=0.25")
    assert first.returncode == 0, first.stderr
    [path] = records(repo)
    earlier = yamlio.load_file(path)
    second = _run(repo, "-p", "lr=0.25")
    assert second.returncode == 1
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in second.stderr
    assert earlier["id"] in lines[0] and "auc=0.75" in lines[0] and "--force" in lines[0]
    assert len(records(repo)) == 1  # nothing was run or recorded
    forced = _run(repo, "-p", "lr=0.25", "--force")
    assert forced.returncode == 0, forced.stderr
    assert len(records(repo)) == 2


def test_params_given_in_the_file_or_by_override_are_the_same_work(repo: Path) -> None:
    _setup(repo)
    assert _run(repo).returncode == 0  # lr: 0.1 from params.yaml
    again = _run(repo, "-p", "lr=0.1")
    assert again.returncode == 1 and "already done" in again.stderr


def test_different_params_code_data_or_command_run(repo: Path) -> None:
    _setup(repo)
    assert _run(repo, "-p", "lr=0.2").returncode == 0
    assert _run(repo, "-p", "lr=0.3").returncode == 0  # other params
    assert _run(repo, "-p", "lr=0.2", "-p", "+extra=1").returncode == 0  # one more param
    other_command = ledger_cli(repo, "run", "-p", "lr=0.2", "--", sys.executable, "train.py", "x")
    assert other_command.returncode == 0, other_command.stderr
    (repo / "train.py").write_text(TRAIN + "# tuned\n")
    git(repo, "commit", "-qam", "code change")
    assert _run(repo, "-p", "lr=0.2").returncode == 0  # other code
    (repo / "ledger.yaml").write_text("experiment: tests\nprimary_metric: auc\ndata: [data.csv]\n")
    (repo / "data.csv").write_text("a,b\n1,2\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "data")
    assert _run(repo, "-p", "lr=0.2").returncode == 0
    (repo / "data.csv").write_text("a,b\n1,3\n")
    git(repo, "commit", "-qam", "new data")
    assert _run(repo, "-p", "lr=0.2").returncode == 0  # other data
    assert _run(repo, "-p", "lr=0.2").returncode == 1  # and now it is a duplicate
    assert len(records(repo)) == 7


def test_ledger_commits_do_not_change_code_identity_but_edits_do(repo: Path) -> None:
    _setup(repo)
    assert _run(repo).returncode == 0
    git(repo, "commit", "-q", "--allow-empty", "-m", "unrelated empty commit")
    assert _run(repo).returncode == 1  # same tree, newer commit: still the same code
    (repo / "train.py").write_text(TRAIN + "# local edit\n")
    assert _run(repo).returncode == 0  # uncommitted code is never called a duplicate
    assert _run(repo).returncode == 0


def test_failed_runs_do_not_count(repo: Path) -> None:
    (repo / "train.py").write_text("raise SystemExit(3)\n")
    git(repo, "commit", "-qam", "fails")
    assert _run(repo).returncode == 3
    assert _run(repo).returncode == 3
    assert len(records(repo)) == 2


def test_input_data_is_the_tracked_data_not_pipeline_products() -> None:
    entries = [
        {"path": "data/raw.csv", "hash": "a", "role": "data"},
        {"path": "data/raw.csv", "hash": "a", "role": "dep"},
        {"path": "data/prepared", "hash": "b.dir", "role": "dep"},
        {"path": "data/prepared", "hash": "b.dir", "role": "out"},
        {"path": "model.pkl", "hash": "c", "role": "out"},
        {"path": "extra.csv", "hash": "d", "role": "dep"},
    ]
    assert duplicates.input_data(entries) == {("data/raw.csv", "a")}


def test_params_match_is_leafwise_and_type_aware() -> None:
    assert duplicates.params_match({"a": {"b": 1}}, {"a": {"b": 1.0, "logged": 2}, "c": 3})
    assert not duplicates.params_match({"a": {"b": 1}}, {"a": {"b": 2}})
    assert not duplicates.params_match({"flag": True}, {"flag": 1})
    assert not duplicates.params_match({"a": "1"}, {"a": 1})
    assert not duplicates.params_match({"a": 1}, {})
