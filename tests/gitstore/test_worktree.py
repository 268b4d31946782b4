"""Temporary worktrees (ledger.gitstore.worktree): owned, cleaned up when the owner is gone,
handed over to the user, and working-tree files brought from blobs."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger import gitstore
from support.repo import git

PATCH = b"diff --git a/new.txt b/new.txt\nnew file mode 100644\n--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1 @@\n+hi\n"


def listed(repo: Path) -> str:
    return git(repo, "worktree", "list", "--porcelain")


def test_a_dead_owners_worktree_is_removed_a_live_ones_kept(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD")
    dead = gitstore.temporary_worktree_add(repo, "sweep", head, owner="dead")
    live = gitstore.temporary_worktree_add(repo, "sweep", head, owner="live")
    assert git(dead, "rev-parse", "HEAD") == head
    gitstore.apply_patch(dead, PATCH)
    assert (dead / "new.txt").read_text() == "hi\n"
    assert "locked dead" in listed(repo)  # git itself knows who holds it
    removed = gitstore.remove_orphaned_temporary(repo, lambda owner: owner == "dead")
    assert removed == [dead]
    assert not dead.exists() and not dead.parent.exists() and live.is_dir()
    assert str(dead) not in listed(repo) and str(live) in listed(repo)
    gitstore.temporary_worktree_remove(repo, live)
    assert not live.exists() and str(live) not in listed(repo)


def test_a_kept_worktree_is_the_users(repo: Path) -> None:
    kept = gitstore.temporary_worktree_add(repo, "reproduce", "HEAD", owner="dead")
    gitstore.temporary_worktree_keep(repo, kept)
    assert gitstore.remove_orphaned_temporary(repo, lambda owner: True) == []
    assert kept.is_dir() and "locked" not in listed(repo)


def test_a_branch_worktree_commits_to_the_users_branch(repo: Path, tmp_path: Path) -> None:
    place = tmp_path / "on-main"
    gitstore.worktree_add_branch(repo, place, "main")
    assert git(place, "symbolic-ref", "HEAD") == "refs/heads/main"
    with pytest.raises(gitstore.GitError, match="has no commit yet"):
        gitstore.worktree_add_branch(repo, tmp_path / "x", "no-such-branch")


def test_write_worktree_file_follows_a_blob(repo: Path) -> None:
    sha = git(repo, "rev-parse", "HEAD:train.py")
    (repo / "experiments").mkdir()
    gitstore.write_worktree_file(repo, "experiments/copy.py", sha)
    assert (repo / "experiments" / "copy.py").read_text() == "print('training')\n"
    gitstore.write_worktree_file(repo, "experiments/copy.py", None)
    assert not (repo / "experiments" / "copy.py").exists()
