"""`ledger push`: many clones pushing records to one remote all land, never forced."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from support.repo import git, ledger_cli, records

CLONE_WORK = """
import sys, ledger
from ledger.cli import main
for i in range(int(sys.argv[2])):
    with ledger.start_run(name=f"c{sys.argv[1]}-{i}") as run:
        run.log_metric("auc", int(sys.argv[1]) + i / 100)
    code = main(["push"])
    if code != 0:
        raise SystemExit(code)
"""


def _remote(tmp_path: Path, repo: Path) -> Path:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    git(remote, "config", "core.logAllRefUpdates", "true")  # a reflog to prove no force push
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "-u", "origin", "main")
    return remote


def _clone(tmp_path: Path, remote: Path, name: str) -> Path:
    path = tmp_path / name
    git(tmp_path, "clone", "-q", str(remote), str(path))
    return path


def _remote_records(remote: Path) -> list[str]:
    paths = git(remote, "ls-tree", "-r", "--name-only", "main", "experiments").splitlines()
    return [p for p in paths if p.endswith(".yaml") and "/envs/" not in p]


def _assert_fast_forward_only(remote: Path) -> None:
    updates = git(remote, "reflog", "show", "--format=%H", "refs/heads/main").split()
    updates.reverse()  # oldest first
    for old, new in zip(updates, updates[1:]):
        subprocess.run(["git", "merge-base", "--is-ancestor", old, new], cwd=remote, check=True)


def test_four_clones_push_forty_records_concurrently(repo: Path, tmp_path: Path) -> None:
    (repo / "work.py").write_text(CLONE_WORK)
    git(repo, "add", "work.py")
    git(repo, "commit", "-qm", "work")
    remote = _remote(tmp_path, repo)
    clones = [_clone(tmp_path, remote, f"clone{n}") for n in range(4)]
    procs = [
        subprocess.Popen([sys.executable, "work.py", str(n), "10"], cwd=clone,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for n, clone in enumerate(clones)
    ]  # fmt: skip
    for proc in procs:
        out, err = proc.communicate(timeout=280)
        assert proc.returncode == 0, err
    assert len(_remote_records(remote)) == 40
    names = git(remote, "log", "--format=%s", "main").splitlines()
    assert sum(1 for s in names if s.startswith("ledger: finished run c")) == 40
    _assert_fast_forward_only(remote)
    subprocess.run(["git", "fsck", "--strict", "--no-dangling"], cwd=remote, check=True, capture_output=True)
    for clone in clones:
        subprocess.run(["git", "fsck", "--strict", "--no-dangling"], cwd=clone, check=True, capture_output=True)
        assert git(clone, "status", "--porcelain") == ""
    # A last push brings each clone up to date with everyone's records, in its checkout too.
    for clone in clones:
        result = ledger_cli(clone, "push")
        assert result.returncode == 0, result.stderr
        assert git(clone, "rev-parse", "HEAD") == git(remote, "rev-parse", "main")
        assert len(records(clone)) == 40
        assert git(clone, "status", "--porcelain") == ""


def test_other_unpushed_commits_are_the_users_to_push(repo: Path, tmp_path: Path) -> None:
    remote = _remote(tmp_path, repo)
    other = _clone(tmp_path, remote, "other")
    assert ledger_cli(other, "run", "--", "true").returncode == 0
    assert ledger_cli(other, "push").returncode == 0
    assert ledger_cli(repo, "run", "--", "false").returncode == 1
    (repo / "train.py").write_text("print('v2')\n")
    git(repo, "commit", "-qam", "my code change")
    before = git(remote, "rev-parse", "main")
    result = ledger_cli(repo, "push")
    assert result.returncode == 1
    line = result.stderr.strip()
    assert "my code change" in line and "git pull --rebase" in line and "\n" not in line
    assert git(remote, "rev-parse", "main") == before  # nothing guessed, nothing pushed


@pytest.mark.parametrize("remote_name", ["nowhere"])
def test_unknown_remote_and_unpublished_branch(repo: Path, tmp_path: Path, remote_name: str) -> None:
    result = ledger_cli(repo, "push", remote_name)
    assert result.returncode == 1 and "git remote add nowhere" in result.stderr
    bare = tmp_path / "empty.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    result = ledger_cli(repo, "push", str(bare))
    assert result.returncode == 1 and "git push -u" in result.stderr


RACE_WORK = """
import sys, ledger
for i in range(int(sys.argv[2])):
    with ledger.start_run(name=f"{sys.argv[1]}-{i}") as run:
        run.log_metric("auc", i / 100)
"""
PUSH_LOOP = """
import sys
from ledger.cli import main
for _ in range(int(sys.argv[1])):
    if main(["push"]) != 0:
        raise SystemExit(1)
"""


def test_racing_pushes_never_blame_the_remote(repo: Path, tmp_path: Path) -> None:
    """Two clones of one bare remote; in each, runs keep committing while two processes
    push in a loop: whichever loses a race (on the remote, on the remote-tracking ref or on
    its own branch ref) retries or says nothing, and never claims that the remote has
    changes besides records (it has none)."""
    (repo / "work.py").write_text(RACE_WORK)
    (repo / "push_loop.py").write_text(PUSH_LOOP)
    git(repo, "add", "work.py", "push_loop.py")
    git(repo, "commit", "-qm", "work")
    remote = _remote(tmp_path, repo)
    clones = [_clone(tmp_path, remote, f"clone{n}") for n in range(2)]
    procs = []
    for n, clone in enumerate(clones):
        procs.append(subprocess.Popen([sys.executable, "work.py", f"c{n}", "5"], cwd=clone,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))  # fmt: skip
        procs += [
            subprocess.Popen([sys.executable, "push_loop.py", "15"], cwd=clone,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)
        ]  # fmt: skip
    notes: list[str] = []
    for proc in procs:
        _, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err
        notes += [line for line in err.splitlines() if "note" in line]
    assert notes == []
    for clone in clones:  # what the loops left unpushed
        final = ledger_cli(clone, "push")
        assert final.returncode == 0 and "note" not in final.stderr, final.stderr
    assert len(_remote_records(remote)) == 10
    _assert_fast_forward_only(remote)
    for clone in clones:
        assert git(clone, "status", "--porcelain") == ""
        subprocess.run(["git", "fsck", "--strict", "--no-dangling"], cwd=clone, check=True, capture_output=True)
