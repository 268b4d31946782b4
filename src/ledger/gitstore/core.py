"""Running git: the hardened subprocess call, repository state, configuration."""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from ledger.errors import LedgerError

# Settings that keep git from running anything of the repository's while ledger reads it.
_SAFE = ("-c", "core.fsmonitor=false", "-c", "core.untrackedCache=false")


_GIT_ENV_DROP = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_EXTERNAL_DIFF")


class GitError(LedgerError):
    """A git command failed unexpectedly."""


def _env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _GIT_ENV_DROP}
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["LC_ALL"] = "C"
    if extra:
        env.update(extra)
    return env


def git(
    root: Path,
    *args: str,
    input: bytes | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> bytes:
    """Run one git command in `root` and return its stdout."""
    if shutil.which("git") is None:
        raise LedgerError("git is not installed: install git and try again")
    proc = subprocess.run(
        ["git", *_SAFE, *args],
        cwd=root,
        input=input,
        capture_output=True,
        env=_env(env),
    )
    if check and proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = message[-1] if message else f"exit code {proc.returncode}"
        raise GitError(f"git {args[0]} failed: {detail}")
    return proc.stdout


def git_ok(root: Path, *args: str) -> bool:
    return (
        subprocess.run(
            ["git", *_SAFE, *args],
            cwd=root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=_env(),
        ).returncode
        == 0
    )


def text(root: Path, *args: str, check: bool = True, env: Mapping[str, str] | None = None) -> str:
    return git(root, *args, check=check, env=env).decode("utf-8", "replace").strip()


def git_dir(root: Path) -> Path:
    return Path(text(root, "rev-parse", "--absolute-git-dir"))


@functools.lru_cache(maxsize=16)
def common_dir(root: Path) -> Path:
    """The git directory all worktrees of `root`'s repository share (where ledger keeps
    its cache and its notes: nothing in it comes from a branch). Asked once per process."""
    return (root / text(root, "rev-parse", "--git-common-dir")).resolve()


def rev_parse(root: Path, rev: str) -> str | None:
    out = git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
    sha = out.decode().strip()
    return sha or None


@dataclass(frozen=True)
class HeadState:
    branch_ref: str | None  # refs/heads/... or None when detached / unborn elsewhere
    commit: str | None  # None on an unborn branch
    busy: str | None  # "rebase", "merge", "cherry-pick", "revert", "bisect" in progress

    @property
    def branch(self) -> str | None:
        return self.branch_ref.removeprefix("refs/heads/") if self.branch_ref else None

    @property
    def pending_reason(self) -> str | None:
        """Why an automatic commit must wait, or None when it can happen now."""
        if self.busy:
            return f"a {self.busy} is in progress"
        if self.branch_ref is None:
            return "HEAD is detached"
        return None


def head_state(root: Path) -> HeadState:
    ref = git(root, "symbolic-ref", "-q", "HEAD", check=False).decode().strip() or None
    commit = rev_parse(root, "HEAD")
    gdir = git_dir(root)
    busy = None
    for marker, name in (
        ("rebase-merge", "rebase"),
        ("rebase-apply", "rebase"),
        ("MERGE_HEAD", "merge"),
        ("CHERRY_PICK_HEAD", "cherry-pick"),
        ("REVERT_HEAD", "revert"),
        ("BISECT_LOG", "bisect"),
    ):
        if (gdir / marker).exists():
            busy = name
            break
    return HeadState(ref, commit, busy)


def config_get(root: Path, key: str) -> str | None:
    value = git(root, "config", "--get", key, check=False).decode("utf-8", "replace").strip()
    return value or None


def user_identity(root: Path) -> tuple[str | None, str | None]:
    return config_get(root, "user.name"), config_get(root, "user.email")


@contextlib.contextmanager
def private_index(copy_of: Path | None = None) -> Iterator[dict[str, str]]:
    """A throwaway index file, as the environment that points git at it, so plumbing can
    build trees without touching the user's index. With `copy_of`, it starts as a copy of
    that index (mtime kept: git's racy-clean check compares entry times with it)."""
    fd, index = tempfile.mkstemp(prefix="ledger-index-")
    os.close(fd)
    try:
        if copy_of is not None and copy_of.exists():
            shutil.copy2(copy_of, index)
        else:
            os.unlink(index)  # git creates it, empty
        yield {"GIT_INDEX_FILE": index}
    finally:
        for leftover in (index, index + ".lock"):
            try:
                os.unlink(leftover)
            except FileNotFoundError:
                pass


def init_repository(path: Path) -> None:
    """`git init` in `path` (for `ledger init --git`)."""
    git(path, "init", "-q")
