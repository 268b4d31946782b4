"""Safe commits: concurrent writers, the user's index, commit policies, pending commits."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import ledger
from ledger.core import yamlio
from support.repo import git, ledger_cli, records

WRITER = """
import sys, ledger
for i in range(int(sys.argv[2])):
    with ledger.start_run(name=f"w{sys.argv[1]}-{i}") as run:
        run.log_metric("auc", float(sys.argv[1]) + i / 100)
"""


def test_concurrent_writers_all_land_each_in_its_own_commit(repo: Path) -> None:
    (repo / "writer.py").write_text(WRITER)
    git(repo, "add", "writer.py")
    git(repo, "commit", "-q", "-m", "writer")
    (repo / "train.py").write_text("print('staged change')\n")
    git(repo, "add", "train.py")  # the user's staged work must survive
    procs = [
        subprocess.Popen([sys.executable, "writer.py", str(n), "25"], cwd=repo,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for n in range(8)
    ]  # fmt: skip
    for proc in procs:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        assert "index.lock" not in err and "warning" not in err, err
    committed = [p for p in git(repo, "ls-tree", "-r", "--name-only", "HEAD", "experiments").splitlines()
                 if p.endswith(".yaml") and "/envs/" not in p]  # fmt: skip
    assert len(committed) == 200
    shas = git(repo, "log", "--format=%H", "--grep=Ledger-Run:").splitlines()
    assert len(shas) == 200
    for sha in shas:
        body = git(repo, "log", "-1", "--format=%B", sha)
        run_id = body.split("Ledger-Run: ")[1].split()[0]
        files = git(repo, "show", "--name-only", "--format=", sha).splitlines()
        assert all(run_id in f or "/envs/" in f for f in files), files
    subprocess.run(["git", "fsck", "--strict"], cwd=repo, check=True, capture_output=True)
    assert git(repo, "diff", "--cached", "--name-only") == "train.py"
    assert git(repo, "status", "--porcelain") == "M  train.py"


def test_commit_off_leaves_records_for_the_user(repo: Path) -> None:
    (repo / "ledger.yaml").write_text("commit: off\n")
    git(repo, "commit", "-qam", "policy off")
    head = git(repo, "rev-parse", "HEAD")
    with ledger.start_run(name="manual") as run:
        run.log_metric("auc", 0.5)
    assert git(repo, "rev-parse", "HEAD") == head
    assert run.committed is not None and run.committed.pending == "commit policy is off"
    assert "?? experiments/" in git(repo, "status", "--porcelain")
    assert [r["id"] for r in [yamlio.load_file(p) for p in records(repo)]] == [run.id]


def test_detached_head_waits_then_ledger_commit(repo: Path) -> None:
    git(repo, "checkout", "-q", "--detach")
    with ledger.start_run(name="detached"):
        pass
    assert git(repo, "log", "--format=%s", "-1") == "initial"
    status = ledger_cli(repo, "status")
    assert "uncommitted" in status.stdout and "HEAD is detached" in status.stdout
    refused = ledger_cli(repo, "commit")
    assert refused.returncode == 1 and "HEAD is detached" in refused.stderr
    git(repo, "checkout", "-q", "main")
    done = ledger_cli(repo, "commit")
    assert done.returncode == 0, done.stderr
    assert "Ledger-Run:" in git(repo, "log", "-1", "--format=%B")
    assert git(repo, "status", "--porcelain") == ""


def test_rebase_in_progress_waits(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "side")
    (repo / "train.py").write_text("side\n")
    git(repo, "commit", "-qam", "side")
    git(repo, "checkout", "-q", "main")
    (repo / "train.py").write_text("main\n")
    git(repo, "commit", "-qam", "main")
    git(repo, "checkout", "-q", "side")
    subprocess.run(["git", "rebase", "main"], cwd=repo, capture_output=True)
    with ledger.start_run(name="mid-rebase") as run:
        pass
    assert run.committed is not None and "rebase" in (run.committed.pending or "")
    assert len(records(repo)) == 1


def test_missing_git_identity_keeps_the_record(repo: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(var)
    monkeypatch.setenv("HOME", str(repo.parent))  # no ~/.gitconfig there
    monkeypatch.setenv("EMAIL", "")
    with ledger.start_run(name="anon") as run:
        pass
    assert len(records(repo)) == 1
    assert run.committed is not None and run.committed.sha is None
    assert "git config user.email" in (run.committed.pending or "")
    assert git(repo, "log", "--format=%s", "-1") == "initial"


def test_a_create_only_commit_never_replaces_a_committed_file(repo: Path) -> None:
    from ledger import gitstore
    from ledger.errors import PathExists

    first = gitstore.commit_files(repo, {"experiments/registry/m/v1.0.0.yaml": b"first\n"}, "first")
    with pytest.raises(PathExists) as taken:
        gitstore.commit_files(repo, {"experiments/registry/m/v1.0.0.yaml": b"second\n"}, "second", create_only=True)
    assert taken.value.committed_path == "experiments/registry/m/v1.0.0.yaml"
    assert git(repo, "rev-parse", "HEAD") == first
    assert git(repo, "show", "HEAD:experiments/registry/m/v1.0.0.yaml") == "first"
    other = gitstore.commit_files(repo, {"experiments/registry/m/v1.1.0.yaml": b"next\n"}, "next", create_only=True)
    assert git(repo, "rev-parse", "HEAD") == other != first
