"""`ledger hook install`: the git pre-commit hook, chaining, core.hooksPath, and the files
shipped for the pre-commit framework."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import yaml

from ledger.core import record, yamlio
from ledger.core.workspace import Workspace
from ledger.gates import hooks
from support.repo import ROOT, git, ledger_cli

BAD_RECORD = "20261127-100000-bad-abcdef"


def commit(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "commit", "-q", *args], cwd=root, capture_output=True, text=True)


def stage_bad_record(root: Path) -> str:
    relpath = record.record_path(BAD_RECORD)
    (root / relpath).parent.mkdir(parents=True, exist_ok=True)
    (root / relpath).write_text(f"id: {BAD_RECORD}\nname: x\nname: y\n", encoding="utf-8")
    git(root, "add", relpath)
    return relpath


def test_install_writes_an_executable_hook_that_blocks_bad_records(repo: Path) -> None:
    proc = ledger_cli(repo, "hook", "install")
    assert proc.returncode == 0, proc.stderr
    hook = repo / ".git" / "hooks" / "pre-commit"
    assert os.access(hook, os.X_OK) and hooks.is_ours(hook)
    relpath = stage_bad_record(repo)
    refused = commit(repo, "-m", "bad")
    assert refused.returncode != 0
    assert f"{relpath}: /: duplicate key 'name'" in refused.stdout + refused.stderr
    git(repo, "rm", "-q", "--cached", relpath)
    (repo / "notes.txt").write_text("fine\n", encoding="utf-8")
    git(repo, "add", "notes.txt")
    assert commit(repo, "-m", "fine").returncode == 0


def test_an_existing_hook_is_kept_and_chained(repo: Path) -> None:
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text('#!/bin/sh\necho mine >> "$(git rev-parse --show-toplevel)/ran.log"\n', encoding="utf-8")
    hook.chmod(0o755)
    first = ledger_cli(repo, "hook", "install")
    assert first.returncode == 0 and "runs first" in first.stdout
    chained = hook.parent / hooks.CHAINED
    assert "echo mine" in chained.read_text(encoding="utf-8") and hooks.is_ours(hook)
    # Installing again updates ours and keeps the chain.
    again = ledger_cli(repo, "hook", "install")
    assert again.returncode == 0 and "updated" in again.stdout and chained.exists()
    (repo / "a.txt").write_text("a\n", encoding="utf-8")
    git(repo, "add", "a.txt")
    assert commit(repo, "-m", "a").returncode == 0
    assert (repo / "ran.log").read_text(encoding="utf-8") == "mine\n"
    # The earlier hook still has its say: when it fails, the commit fails.
    chained.write_text("#!/bin/sh\necho no >&2\nexit 3\n", encoding="utf-8")
    (repo / "b.txt").write_text("b\n", encoding="utf-8")
    git(repo, "add", "b.txt")
    assert commit(repo, "-m", "b").returncode != 0


def test_force_replaces_a_foreign_hook(repo: Path) -> None:
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    done = hooks.install(Workspace(repo), force=True)
    assert done.replaced and done.chained is None
    assert hooks.is_ours(hook) and not (hook.parent / hooks.CHAINED).exists()


def test_refuses_when_both_slots_are_taken(repo: Path) -> None:
    directory = repo / ".git" / "hooks"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "pre-commit").write_text("#!/bin/sh\n", encoding="utf-8")
    (directory / hooks.CHAINED).write_text("#!/bin/sh\n", encoding="utf-8")
    proc = ledger_cli(repo, "hook", "install")
    assert proc.returncode == 1 and "--force" in proc.stderr
    assert (directory / "pre-commit").read_text(encoding="utf-8") == "#!/bin/sh\n"


def test_core_hooks_path_is_respected(repo: Path) -> None:
    git(repo, "config", "core.hooksPath", "githooks")
    assert ledger_cli(repo, "hook", "install").returncode == 0
    assert hooks.is_ours(repo / "githooks" / "pre-commit")
    assert not (repo / ".git" / "hooks" / "pre-commit").exists()
    stage_bad_record(repo)
    assert commit(repo, "-m", "bad").returncode != 0


def test_pre_commit_framework_manifest_calls_real_commands(repo: Path) -> None:
    manifest = yamlio.load_file(ROOT / ".pre-commit-hooks.yaml")
    assert manifest == yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert {h["id"] for h in manifest} == {"ledger", "ledger-check"}
    for hook in manifest:
        assert hook["language"] == "python" and hook["pass_filenames"] is False
        argv = shlex.split(hook["entry"])
        assert argv[0] == "ledger"
        assert ledger_cli(repo, *argv[1:], "--help").returncode == 0
        # And the entry really runs in a clean repository.
        assert ledger_cli(repo, *argv[1:]).returncode == 0
