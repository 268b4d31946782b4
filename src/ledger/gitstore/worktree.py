"""Temporary worktrees (reproduce, sweeps) and working-tree files."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ledger.gitstore.core import GitError, common_dir, git, rev_parse


def worktree_add(root: Path, path: Path, commit: str, owner: str | None = None) -> None:
    """A detached worktree of `commit` at `path`; the user's checkout is not touched.

    Hooks are off: nothing of the repository's runs just because ledger checked it out.
    With `owner`, the worktree is locked with that reason (git's own record of who holds
    it), so that `owned_worktrees` finds it if its owner dies without removing it.
    """
    git(root, "-c", "core.hooksPath=/dev/null", "worktree", "add", "--detach", "--force",
        str(path), commit)  # fmt: skip
    if owner:
        git(root, "worktree", "lock", "--reason", owner, str(path))


def worktree_unlock(root: Path, path: Path) -> None:
    """Hand a worktree made with an owner over to the user (kept for inspection)."""
    git(root, "worktree", "unlock", str(path), check=False)


def owned_worktrees(root: Path) -> list[tuple[Path, str]]:
    """(path, lock reason) of every locked worktree of the repository, read from the git
    directory (`worktrees/<id>/locked` and `gitdir`, see gitrepository-layout)."""
    found = []
    try:
        admin = sorted((common_dir(root) / "worktrees").iterdir())
    except (OSError, GitError):
        return []
    for entry in admin:
        try:
            reason = (entry / "locked").read_text(encoding="utf-8")
            gitdir = (entry / "gitdir").read_text(encoding="utf-8").strip()
        except OSError:
            continue
        found.append((Path(gitdir).parent, reason))
    return found


def worktree_remove(root: Path, path: Path) -> None:
    """Remove a worktree made by `worktree_add` and forget it, whatever state it is in."""
    git(root, "worktree", "remove", "--force", "--force", str(path), check=False)
    shutil.rmtree(path, ignore_errors=True)
    git(root, "worktree", "prune", check=False)


def apply_patch(root: Path, patch: bytes) -> None:
    """Apply a recorded code patch (tracked changes and new files) to a worktree."""
    git(root, "apply", "--binary", "--whitespace=nowarn", "-", input=patch)


def worktree_add_branch(root: Path, path: Path, branch: str, owner: str | None = None) -> None:
    """A worktree at `path` whose HEAD is the user's own branch (checked out twice, on
    purpose), so that runs there commit to that branch through the shared refs.

    It is made detached first and pointed at the branch afterwards: checking the branch
    out directly would make git reset the branch ref itself, racing the runs of other
    worktrees that are committing to it. Hooks are off.
    """
    tip = rev_parse(root, f"refs/heads/{branch}")
    if tip is None:
        raise GitError(f"branch {branch} has no commit yet: commit your code first")
    worktree_add(root, path, tip, owner)
    git(path, "symbolic-ref", "HEAD", f"refs/heads/{branch}")


def write_worktree_file(root: Path, path: str, sha: str | None) -> None:
    """Make one ledger path in the working tree match a blob (None removes it)."""
    target = root / path
    if sha is None:
        target.unlink(missing_ok=True)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    data = git(root, "cat-file", "blob", sha)
    tmp = target.with_name(f".{target.name}.ledger-tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)
