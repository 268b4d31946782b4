"""Reading is a pure function of the repository: with a killed run pending, every read
command (and the library's `ledger.runs()`) leaves refs, index, working tree, stash and
worktree list byte-identical, shows the dead run as `crashed`, and runs nothing of the
repository's (filters, hooks, fsmonitor, diff drivers)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import ledger
from support.repo import git, ledger_cli

API = """
import sys, time, ledger
with ledger.start_run(name=sys.argv[1]) as run:
    run.log_metric("auc", 0.5, step=0)
    run.log_metric("auc", 0.75, step=1)
    run.flush()
    print("READY", flush=True)
    time.sleep(120)
"""


def _finished_run(repo: Path, name: str, auc: float) -> None:
    with ledger.start_run(name=name) as run:
        run.log_metric("auc", auc)


def _killed_run(repo: Path) -> str:
    """A run killed with SIGKILL, still `running` in the working tree: its id."""
    (repo / "api.py").write_text(API, encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "api.py", "doomed"], cwd=repo, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "READY"
    proc.kill()
    proc.communicate(timeout=30)
    [path] = [p for p in (repo / "experiments").rglob("*doomed*.yaml")]
    return path.stem


def _snapshot(repo: Path) -> dict[str, object]:
    """Everything a read must leave alone, as bytes."""
    files = {}
    for path in sorted(repo.rglob("*")):
        rel = path.relative_to(repo).as_posix()
        if rel == ".git" or rel.startswith(".git/") or not path.is_file():
            continue
        files[rel] = hashlib.sha1(path.read_bytes()).hexdigest()
    gitdir = repo / ".git"
    return {
        "refs": subprocess.run(
            ["git", "for-each-ref", "--format=%(refname) %(objectname)"], cwd=repo, capture_output=True, check=True
        ).stdout,  # fmt: skip
        "HEAD": (gitdir / "HEAD").read_bytes(),
        "index": (gitdir / "index").read_bytes(),
        "index.lock": (gitdir / "index.lock").exists(),
        "stash": subprocess.run(["git", "stash", "list"], cwd=repo, capture_output=True).stdout,
        "worktrees": subprocess.run(
            ["git", "worktree", "list", "--porcelain"], cwd=repo, capture_output=True
        ).stdout,  # fmt: skip
        "files": files,
        "overrides": sorted(p.name for p in (gitdir / "ledger-overrides").glob("*")),
    }


READS = [
    ["ls"],
    ["ls", "--format", "json"],
    ["top", "-m", "auc"],
    ["show", "doomed"],
    ["compare", "good", "doomed"],
    ["report", "-o", "../report.md"],  # outside the repository: its files stay as they were
    ["plot", "progress", "-m", "auc", "-o", "../progress.png"],
    ["diff", "HEAD~1"],
]


@pytest.fixture
def pending(repo: Path) -> tuple[Path, str]:
    _finished_run(repo, "good", 0.9)
    (repo / "notes.txt").write_text("staged work\n", encoding="utf-8")
    git(repo, "add", "notes.txt")  # the user's staged change
    git(repo, "stash", "list")
    return repo, _killed_run(repo)


@pytest.mark.parametrize("command", READS, ids=lambda c: " ".join(c))
def test_read_commands_write_nothing_and_show_the_dead_run_as_crashed(pending: tuple[Path, str],
                                                                        command: list[str]) -> None:  # fmt: skip
    repo, run_id = pending
    before = _snapshot(repo)
    result = ledger_cli(repo, *command)
    assert result.returncode == 0, result.stderr
    assert _snapshot(repo) == before
    if command[0] in ("ls", "show", "compare"):
        assert "crashed" in result.stdout
    if command == ["ls", "--format", "json"]:
        [row] = [r for r in json.loads(result.stdout) if r["id"] == run_id]
        assert row["status"] == "crashed"


def test_the_library_shows_a_dead_run_as_crashed_without_writing(pending: tuple[Path, str]) -> None:
    repo, run_id = pending
    before = _snapshot(repo)
    [dead] = [r for r in ledger.runs() if r["id"] == run_id]
    assert dead["status"] == "crashed" and dead["error"]["type"] == "Crashed"
    assert dead["metrics"] == {"auc": 0.75}  # from its journal
    assert [r["id"] for r in ledger.runs(where="status = 'crashed'")] == [run_id]
    assert _snapshot(repo) == before
    # ... and a write command writes it down.
    status = ledger_cli(repo, "status")
    assert status.returncode == 0 and "crashed" in status.stdout
    assert git(repo, "log", "-1", "--format=%s").startswith("ledger: crashed run doomed")


def _hostile(repo: Path, markers: Path) -> None:
    """A repository whose config (as a user's global git-lfs-like setup would) defines
    drivers that a branch's `.gitattributes` selects, plus hooks and an fsmonitor: each
    writes a marker file if git ever runs it."""
    markers.mkdir()

    def script(name: str, body: str = "") -> str:
        path = markers.parent / f"{name}.sh"
        path.write_text(f"#!/bin/sh\ntouch '{markers}/{name}'\n{body}", encoding="utf-8")
        path.chmod(0o755)
        return str(path)

    hooks = repo / ".git" / "hooks"
    for hook in ("pre-commit", "post-commit", "post-checkout", "reference-transaction", "post-index-change",
                 "pre-auto-gc", "post-rewrite"):  # fmt: skip
        (hooks / hook).write_text(f"#!/bin/sh\ntouch '{markers}/hook'\n", encoding="utf-8")
        (hooks / hook).chmod(0o755)
    git(repo, "config", "filter.evil.clean", script("filter", "cat\n"))
    git(repo, "config", "filter.evil.smudge", script("smudge", "cat\n"))
    git(repo, "config", "filter.evil2.process", script("process"))
    git(repo, "config", "diff.evil.textconv", script("textconv", 'cat "$1"\n'))
    git(repo, "config", "diff.evil.command", script("extdiff"))
    git(repo, "config", "core.fsmonitor", script("fsmonitor"))
    (repo / ".gitattributes").write_text("* filter=evil diff=evil\n*.json filter=evil2\n", encoding="utf-8")
    git(repo, "-c", "core.hooksPath=/dev/null", "-c", "filter.evil.clean=cat", "-c", "filter.evil.smudge=cat",
        "-c", "core.fsmonitor=false", "add", ".gitattributes")  # fmt: skip
    git(repo, "-c", "core.hooksPath=/dev/null", "-c", "filter.evil.clean=cat", "-c", "core.fsmonitor=false",
        "commit", "-q", "-m", "attributes")  # fmt: skip


def test_no_read_command_runs_anything_from_the_repository(repo: Path, tmp_path: Path) -> None:
    _finished_run(repo, "good", 0.9)
    _finished_run(repo, "other", 0.8)
    markers = tmp_path / "markers"
    _hostile(repo, markers)
    # Records whose stat data no longer matches the index: git must look at their content
    # (where a clean filter would run) to tell whether they changed.
    for path in (repo / "experiments").rglob("*.yaml"):
        os.utime(path, (1, 1))
    for command in [*READS[:3], ["show", "good"], ["compare", "good", "other"], ["report", "-o", "../report.md"],
                    ["diff", "HEAD~1"], ["check"]]:  # fmt: skip
        result = ledger_cli(repo, *command)
        assert result.returncode == 0, (command, result.stderr)
        assert sorted(p.name for p in markers.iterdir()) == [], command
        if command[0] in ("ls", "top", "compare"):
            assert "good" in result.stdout and "other" in result.stdout, command
    assert sorted(r["name"] for r in ledger.runs()) == ["good", "other"]
    assert sorted(p.name for p in markers.iterdir()) == []


def test_write_commands_run_no_hook_or_filter_either(repo: Path, tmp_path: Path) -> None:
    markers = tmp_path / "markers"
    _hostile(repo, markers)
    result = ledger_cli(repo, "run", "--name", "w", "--", sys.executable, "-c", "print(1)")
    assert result.returncode == 0, result.stderr
    assert ledger_cli(repo, "status").returncode == 0
    assert sorted(p.name for p in markers.iterdir()) == []
    assert "w" in git(repo, "log", "-1", "--format=%s")
