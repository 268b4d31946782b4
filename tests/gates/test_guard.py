"""The unlogged-code guard, through real `git commit` with the installed hook."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ledger.core.workspace import Workspace
from ledger.errors import LedgerError
from ledger.gates import guard
from support.repo import git, ledger_cli, records

TRAIN = "import ledger\nledger.log_metric('auc', 0.9)\n"


def commit(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "commit", "-q", *args], cwd=root, capture_output=True, text=True)


@pytest.fixture
def guarded(repo: Path) -> Path:
    (repo / "ledger.yaml").write_text(
        "experiment: tests\nprimary_metric: auc\nguard:\n  - model/**\n  - train.py\n",
        encoding="utf-8",
    )
    (repo / "model").mkdir()
    (repo / "model" / "net.py").write_text("LAYERS = 2\n", encoding="utf-8")
    (repo / "train.py").write_text(TRAIN, encoding="utf-8")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "model code")
    proc = ledger_cli(repo, "hook", "install")
    assert proc.returncode == 0, proc.stderr
    return repo


def test_unrun_model_code_is_refused_then_accepted_after_a_run(guarded: Path) -> None:
    head = git(guarded, "rev-parse", "HEAD")
    (guarded / "model" / "net.py").write_text("LAYERS = 3\n", encoding="utf-8")
    git(guarded, "add", "model/net.py")
    refused = commit(guarded, "-m", "deeper")
    assert refused.returncode != 0
    assert "commit refused: model/net.py" in refused.stderr
    assert "no recorded run was made on exactly this code" in refused.stderr
    assert "ledger run -- " in refused.stderr and "--no-verify" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert git(guarded, "rev-parse", "HEAD") == head

    run = ledger_cli(guarded, "run", "--", sys.executable, "train.py")
    assert run.returncode == 0, run.stderr  # ledger's own record commit never trips the hook
    assert git(guarded, "rev-parse", "HEAD") != head
    accepted = commit(guarded, "-m", "deeper")
    assert accepted.returncode == 0, accepted.stderr
    assert git(guarded, "show", "--name-only", "--format=", "HEAD") == "model/net.py"
    assert "guarded code matches run" in accepted.stderr


def test_no_verify_skips_the_guard(guarded: Path) -> None:
    (guarded / "train.py").write_text(TRAIN + "# tweak\n", encoding="utf-8")
    git(guarded, "add", "train.py")
    assert commit(guarded, "-m", "tweak").returncode != 0
    skipped = commit(guarded, "--no-verify", "-m", "tweak")
    assert skipped.returncode == 0, skipped.stderr
    assert git(guarded, "log", "-1", "--format=%s") == "tweak"


def test_unguarded_files_commit_freely(guarded: Path) -> None:
    (guarded / "README.md").write_text("docs\n", encoding="utf-8")
    git(guarded, "add", "README.md")
    assert commit(guarded, "-m", "docs").returncode == 0


def test_a_run_on_other_code_does_not_count(guarded: Path) -> None:
    (guarded / "model" / "net.py").write_text("LAYERS = 4\n", encoding="utf-8")
    git(guarded, "add", "model/net.py")
    # The run sees an extra, unstaged change: it was not made on what is being committed.
    (guarded / "model" / "extra.py").write_text("X = 1\n", encoding="utf-8")
    assert ledger_cli(guarded, "run", "--", sys.executable, "train.py").returncode == 0
    assert commit(guarded, "-m", "net only").returncode != 0
    git(guarded, "add", "model/extra.py")
    assert commit(guarded, "-m", "net and extra").returncode == 0


def test_commit_all_uses_the_index_git_hands_the_hook(guarded: Path) -> None:
    # Not staged. (A new size: a same-size edit within the second of the last index write
    # can be missed by the code capture's stat check, which is not what this test is about.)
    (guarded / "model" / "net.py").write_text("LAYERS = 512\n", encoding="utf-8")
    assert ledger_cli(guarded, "run", "--", sys.executable, "train.py").returncode == 0
    done = commit(guarded, "-a", "-m", "all")  # git builds a temporary index for -a
    assert done.returncode == 0, done.stderr
    assert "LAYERS = 512" in git(guarded, "show", "HEAD:model/net.py")


def test_uncommitted_records_count_with_commit_policy_off(guarded: Path) -> None:
    config = (guarded / "ledger.yaml").read_text(encoding="utf-8")
    (guarded / "ledger.yaml").write_text(config + "commit: 'off'\n", encoding="utf-8")
    (guarded / "model" / "net.py").write_text("LAYERS = 6\n", encoding="utf-8")
    git(guarded, "add", "ledger.yaml", "model/net.py")
    assert ledger_cli(guarded, "run", "--", sys.executable, "train.py").returncode == 0
    [rec] = records(guarded)
    git(guarded, "add", "experiments")
    done = commit(guarded, "-m", "code and its record together")
    assert done.returncode == 0, done.stderr
    assert rec.relative_to(guarded).as_posix() in git(guarded, "show", "--name-only", "HEAD")


def test_guard_is_silent_without_patterns(repo: Path) -> None:
    (repo / "train.py").write_text("print(2)\n", encoding="utf-8")
    git(repo, "add", "train.py")
    assert guard.check(Workspace(repo)).guarded == ()


def test_refusal_is_a_ledger_error_naming_files(guarded: Path) -> None:
    (guarded / "model" / "a.py").write_text("A = 1\n", encoding="utf-8")
    git(guarded, "add", "model/a.py")
    with pytest.raises(guard.GuardRefused) as info:
        guard.check(Workspace(guarded))
    assert info.value.files == ("model/a.py",)
    assert isinstance(info.value, LedgerError)


@pytest.mark.parametrize(
    ("pattern", "yes", "no"),
    [
        ("model/**", ["model/a.py", "model/x/y.py"], ["models/a.py", "src/model/a.py"]),
        ("train.py", ["train.py"], ["src/train.py", "train.pyc"]),
        ("src/*.py", ["src/a.py"], ["src/x/a.py", "src/a.pyc"]),
        ("**/train.py", ["train.py", "a/b/train.py"], ["a/xtrain.py"]),
        ("src/model", ["src/model/a.py", "src/model"], ["src/models/a.py"]),
        ("src/model/", ["src/model/a.py"], ["src/model2/a.py"]),
        ("cfg/?.yaml", ["cfg/a.yaml"], ["cfg/ab.yaml"]),
    ],
)
def test_glob_patterns(pattern: str, yes: list[str], no: list[str]) -> None:
    assert guard.guarded(yes + no, [pattern]) == tuple(sorted(yes))
