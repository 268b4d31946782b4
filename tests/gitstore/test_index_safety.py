"""No later `git commit` of the user's can delete a committed record: the branch and the
user's index never disagree (real git, real index locks, real SIGKILL)."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import ledger
from ledger.core import yamlio
from ledger.errors import LedgerWarning
from ledger.gitstore import groupcommit, indexsync
from support.repo import git, ledger_cli

EDITOR = """#!/bin/sh
while [ ! -f "$GO" ]; do sleep 0.05; done
echo "user's own commit" > "$1"
"""


def _wait_for(predicate, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    give_up = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < give_up, "timed out"
        time.sleep(0.02)


def _on_head(repo: Path, run_id: str) -> bool:
    return any(run_id in p for p in git(repo, "ls-tree", "-r", "--name-only", "HEAD").splitlines())


def test_a_run_finishing_while_git_commit_waits_for_its_message(repo: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """`git commit -a` holds the index lock while its editor is open. The run does not move
    the branch under it: the user's commit lands, the record waits (with a warning), and
    `ledger commit` commits it afterwards; no commit of the user's ever drops it."""
    (tmp_path / "editor.sh").write_text(EDITOR, encoding="utf-8")
    (tmp_path / "editor.sh").chmod(0o755)
    (repo / "notes.txt").write_text("mine\n", encoding="utf-8")
    git(repo, "add", "notes.txt")
    go = tmp_path / "go"
    env = {**os.environ, "GIT_EDITOR": str(tmp_path / "editor.sh"), "GO": str(go)}
    user = subprocess.Popen(["git", "commit", "-a", "-q"], cwd=repo, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    _wait_for(lambda: (repo / ".git" / "index.lock").exists())
    before = git(repo, "rev-parse", "HEAD")
    monkeypatch.setattr(indexsync, "WAIT_S", 1.0)
    with pytest.warns(LedgerWarning, match=r"index\.lock.*ledger commit"):
        with ledger.start_run(name="meanwhile") as run:
            run.log_metric("auc", 0.9)
    assert run.committed is not None and run.committed.sha is None
    assert git(repo, "rev-parse", "HEAD") == before  # the branch was left alone
    go.touch()
    _, err = user.communicate(timeout=60)
    assert user.returncode == 0, err  # the user's commit lands
    assert git(repo, "log", "-1", "--format=%s") == "user's own commit"
    assert git(repo, "show", "--name-only", "--format=", "HEAD") == "notes.txt"
    assert not any(line.startswith(("D", " D")) for line in git(repo, "status", "--porcelain").splitlines())
    result = ledger_cli(repo, "commit")
    assert result.returncode == 0, result.stderr
    assert _on_head(repo, run.id) and git(repo, "status", "--porcelain") == ""
    git(repo, "commit", "-q", "--allow-empty", "-m", "later")
    assert _on_head(repo, run.id)


WRITER = """
import ledger
with ledger.start_run(name="cut-short") as run:
    run.log_metric("auc", 0.7)
"""


def test_killed_between_the_ref_update_and_the_index_write(repo: Path, tmp_path: Path) -> None:
    """SIGKILL right after the branch moved, before the index did: the index lock ledger
    took stays, and the next write command removes exactly it and writes the entries."""
    (repo / "writer.py").write_text(WRITER, encoding="utf-8")
    marker = tmp_path / "paused"
    env = {**os.environ, "LEDGER_TEST_PAUSE": "after-ref-update", "LEDGER_TEST_PAUSE_FILE": str(marker)}
    proc = subprocess.Popen([sys.executable, "writer.py"], cwd=repo, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    _wait_for(marker.exists)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    [run_id] = [p.stem for p in (repo / "experiments").rglob("*cut-short*.yaml")]
    assert _on_head(repo, run_id)  # the branch moved
    assert (repo / ".git" / "index.lock").exists()  # git refuses to commit: nothing is lost yet
    status = ledger_cli(repo, "status")
    assert status.returncode == 0, status.stderr
    assert not (repo / ".git" / "index.lock").exists()
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == "?? writer.py"
    git(repo, "commit", "-q", "--allow-empty", "-m", "user")
    git(repo, "commit", "-q", "-a", "--allow-empty", "-m", "user -a")
    assert _on_head(repo, run_id)


def test_status_repairs_a_record_missing_from_the_index(repo: Path) -> None:
    """The state older versions left (committed on the branch, not in the index, the file
    right there): `git status` shows a staged deletion that `git commit` would make."""
    with ledger.start_run(name="old-style") as run:
        run.log_metric("auc", 0.5)
    [record] = [p for p in git(repo, "ls-files", "experiments").splitlines() if p.endswith(f"{run.id}.yaml")]
    git(repo, "rm", "-q", "--cached", record)
    assert git(repo, "status", "--porcelain").startswith("D ")
    result = ledger_cli(repo, "status", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert record in result.stdout  # reported as repaired
    assert git(repo, "status", "--porcelain") == ""
    git(repo, "commit", "-q", "--allow-empty", "-m", "user")
    assert _on_head(repo, run.id)


POINT = """
import os, pathlib, sys, time
pathlib.Path(os.environ["STARTED"]).write_text("1")
while not pathlib.Path(os.environ["GO"]).exists():
    time.sleep(0.05)
import ledger
ledger.log_metric("auc", 0.6)
"""


def test_a_sweep_killed_while_its_point_runs_in_a_worktree(repo: Path, tmp_path: Path) -> None:
    """The sweep's parent dies (SIGKILL); its point, in a temporary worktree of the user's
    branch, finishes and commits. The user's checkout shows the record, not a deletion."""
    (repo / "point.py").write_text(POINT, encoding="utf-8")
    git(repo, "add", "point.py")
    git(repo, "commit", "-q", "-m", "point")
    started, go = tmp_path / "started", tmp_path / "go"
    env = {**os.environ, "STARTED": str(started), "GO": str(go)}
    sweep = subprocess.Popen(
        [sys.executable, "-m", "ledger", "sweep", "--worktree", "-p", "lr=0.5", "--", sys.executable, "point.py"],
        cwd=repo,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip  (the point inherits them)
    _wait_for(started.exists)
    os.kill(sweep.pid, signal.SIGKILL)
    sweep.wait(timeout=30)
    before = git(repo, "rev-parse", "HEAD")
    go.touch()
    _wait_for(lambda: git(repo, "rev-parse", "HEAD") != before)
    time.sleep(0.5)  # the point's process ends after committing
    [record] = [p for p in git(repo, "ls-tree", "-r", "--name-only", "HEAD", "experiments").splitlines()
                if p.endswith(".yaml") and "/envs/" not in p]  # fmt: skip
    assert (repo / record).is_file()  # brought into the user's checkout
    assert not any("experiments" in line for line in git(repo, "status", "--porcelain").splitlines())
    git(repo, "commit", "-q", "-a", "--allow-empty", "-m", "user")
    assert record in git(repo, "ls-tree", "-r", "--name-only", "HEAD")
    assert ledger_cli(repo, "status").returncode == 0
    assert len(git(repo, "worktree", "list").splitlines()) == 1  # the dead sweep's worktree went


QUEUED = """
import ledger
with ledger.start_run(name="queued") as run:
    run.log_metric("auc", 0.8)
"""


def _killed_while_queued(repo: Path) -> Iterator[str]:
    """A writer that finished its run and queued its commit, SIGKILLed while it waited for
    the commit lock (held here, as another ledger writer would hold it): its run id, while
    the lock is still held (released when the generator resumes)."""
    (repo / "queued.py").write_text(QUEUED, encoding="utf-8")
    git(repo, "add", "queued.py")
    git(repo, "commit", "-q", "-m", "writer")
    queue = repo / ".git" / groupcommit.QUEUE
    fd = os.open(repo / ".git" / groupcommit.LOCK, os.O_CREAT | os.O_RDWR, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        proc = subprocess.Popen([sys.executable, "queued.py"], cwd=repo, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)  # fmt: skip
        _wait_for(lambda: any(queue.glob("*.json")) or proc.poll() is not None)
        assert proc.poll() is None, proc.communicate()
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)
        [path] = (repo / "experiments").rglob("*queued*.yaml")
        assert yamlio.load_file(path)["status"] == "finished"
        yield path.stem
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    yield path.stem


def test_a_writer_killed_while_its_commit_was_queued(repo: Path) -> None:
    """SIGKILL while the record waits in the group-commit queue: the record is final but
    uncommitted. `ledger status` (a write command) serves the dead writer's request, as a
    holder of the commit lock would, and says so."""
    killed = _killed_while_queued(repo)
    run_id = next(killed)
    assert any(line.startswith("?? experiments/") for line in git(repo, "status", "--porcelain").splitlines())
    next(killed)  # the lock is free again: no other writer comes
    assert not _on_head(repo, run_id)
    status = ledger_cli(repo, "status")
    assert status.returncode == 0, status.stderr
    line = next(line for line in status.stdout.splitlines() if run_id in line)
    assert "committed now" in line and "killed while the commit was queued" in line, status.stdout
    assert _on_head(repo, run_id)
    assert git(repo, "log", "-1", "--format=%(trailers:key=Ledger-Run,valueonly)") == run_id
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    assert list((repo / ".git" / groupcommit.QUEUE).iterdir()) == []  # no request or answer left
    again = ledger_cli(repo, "status", "--format", "json")
    assert json.loads(again.stdout)["queue_committed"] == []  # served once


def test_a_dead_writers_queued_commit_waits_while_the_users_git_holds_the_index(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same rule as group commit: while a `git commit -a` holds the index lock, the
    branch is left alone; the record stays uncommitted (and says why) until `ledger commit`."""
    from ledger.core.workspace import Workspace
    from ledger.write.status import workspace_status

    killed = _killed_while_queued(repo)
    run_id = next(killed)
    next(killed)
    (tmp_path / "editor.sh").write_text(EDITOR, encoding="utf-8")
    (tmp_path / "editor.sh").chmod(0o755)
    (repo / "notes.txt").write_text("mine\n", encoding="utf-8")
    git(repo, "add", "notes.txt")
    go = tmp_path / "go"
    env = {**os.environ, "GIT_EDITOR": str(tmp_path / "editor.sh"), "GO": str(go)}
    user = subprocess.Popen(["git", "commit", "-a", "-q"], cwd=repo, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    _wait_for(lambda: (repo / ".git" / "index.lock").exists())
    before = git(repo, "rev-parse", "HEAD")
    monkeypatch.setattr(indexsync, "WAIT_S", 1.0)
    state = workspace_status(Workspace.find())
    assert git(repo, "rev-parse", "HEAD") == before  # the branch was left alone
    assert state.queue_committed == []
    [(failed_id, why)] = state.queue_failed
    assert failed_id == run_id and "index.lock" in why
    assert run_id in [r["id"] for r in state.uncommitted]
    go.touch()
    _, err = user.communicate(timeout=60)
    assert user.returncode == 0, err  # the user's commit lands
    assert git(repo, "show", "--name-only", "--format=", "HEAD") == "notes.txt"
    result = ledger_cli(repo, "commit")
    assert result.returncode == 0, result.stderr
    assert _on_head(repo, run_id) and git(repo, "status", "--porcelain") == ""
