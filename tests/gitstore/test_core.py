"""The git runner and repository state (ledger.gitstore.core), against real git."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger import gitstore
from ledger.gitstore.core import GitError, _git, _git_ok, _text
from support.repo import git


def test_the_runner_returns_output_and_names_the_failure(repo: Path) -> None:
    assert _text(repo, "rev-parse", "HEAD") == git(repo, "rev-parse", "HEAD")
    assert _git(repo, "cat-file", "-t", "HEAD") == b"commit\n"
    with pytest.raises(GitError, match=r"^git cat-file failed: .*no-such-rev"):
        _git(repo, "cat-file", "-t", "no-such-rev")
    assert _git(repo, "cat-file", "-t", "no-such-rev", check=False) == b""
    assert _git_ok(repo, "rev-parse", "--verify", "HEAD") is True
    assert _git_ok(repo, "rev-parse", "--verify", "no-such-rev") is False


def test_the_runner_ignores_git_variables_of_the_caller(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hook's GIT_DIR / GIT_INDEX_FILE must not redirect ledger's reads elsewhere."""
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q")
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_INDEX_FILE", str(tmp_path / "nowhere"))
    assert _text(repo, "rev-parse", "--absolute-git-dir") == str((repo / ".git").resolve())


def test_rev_parse_and_head_state(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD")
    assert gitstore.rev_parse(repo, "HEAD") == head
    assert gitstore.rev_parse(repo, "main") == head
    assert gitstore.rev_parse(repo, "nope") is None
    state = gitstore.head_state(repo)
    assert (state.branch, state.commit, state.busy, state.pending_reason) == ("main", head, None, None)
    git(repo, "checkout", "-q", "--detach")
    detached = gitstore.head_state(repo)
    assert detached.branch is None and detached.pending_reason == "HEAD is detached"
    git(repo, "checkout", "-q", "main")
    (Path(gitstore.git_dir(repo)) / "MERGE_HEAD").write_text(head + "\n")
    assert gitstore.head_state(repo).pending_reason == "a merge is in progress"


def test_head_state_on_an_unborn_branch(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "-b", "trunk")
    state = gitstore.head_state(tmp_path)
    assert (state.branch, state.commit) == ("trunk", None)


def test_common_dir_is_shared_by_worktrees(repo: Path, tmp_path: Path) -> None:
    other = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", "--detach", str(other))
    assert gitstore.common_dir(other) == gitstore.common_dir(repo) == (repo / ".git").resolve()
    assert gitstore.git_dir(other) != gitstore.git_dir(repo)


def test_private_index_never_touches_the_users_index(repo: Path) -> None:
    index = repo / ".git" / "index"
    before = index.read_bytes()
    (repo / "new.py").write_text("x = 1\n")
    with gitstore.private_index(copy_of=index) as env:
        gitstore.stage_paths(repo, ["new.py"], env)
        tree = gitstore.write_tree(repo, env)
        leftover = Path(env["GIT_INDEX_FILE"])
        assert leftover.exists()
    assert not leftover.exists()
    assert index.read_bytes() == before
    assert "new.py" in git(repo, "ls-tree", "--name-only", tree).splitlines()
    assert "new.py" not in git(repo, "ls-files").splitlines()


def test_config_and_identity(repo: Path) -> None:
    git(repo, "config", "ledger.test", "yes")
    assert gitstore.config_get(repo, "ledger.test") == "yes"
    assert gitstore.config_get(repo, "ledger.absent") is None
    assert gitstore.user_identity(repo) == ("Test Author", "author@example.com")


def test_init_repository(tmp_path: Path) -> None:
    gitstore.init_repository(tmp_path)
    assert (tmp_path / ".git").is_dir()
    assert gitstore.head_state(tmp_path).commit is None
