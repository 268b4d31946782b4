"""History questions by name (ledger.gitstore.history): what read/, status, hooks and the
registry used to ask git in their own words."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger import gitstore
from support.repo import git


def commit_file(repo: Path, path: str, content: str, message: str) -> str:
    target = repo / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content)
    git(repo, "add", path)
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def test_commit_time_names_a_commit_or_nothing(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD")
    when = int(git(repo, "log", "-1", "--format=%ct"))
    git(repo, "tag", "-a", "v1", "-m", "annotated")
    assert gitstore.commit_time(repo, "HEAD") == (head, when)
    assert gitstore.commit_time(repo, "v1") == (head, when)  # a tag peels to its commit
    assert gitstore.commit_time(repo, "no-such-branch") is None
    tree = git(repo, "rev-parse", "HEAD^{tree}")
    assert gitstore.commit_time(repo, tree) is None  # a tree is not a commit


def test_branch_tips_are_commits_with_their_refs(repo: Path) -> None:
    main = git(repo, "rev-parse", "HEAD")
    git(repo, "branch", "same")
    feature = (git(repo, "checkout", "-q", "-b", "feature"), commit_file(repo, "f.txt", "f\n", "feature"))[1]
    tips = gitstore.branch_tips(repo)
    assert {(sha, ref) for sha, _, ref in tips} == {(main, "main"), (main, "same"), (feature, "feature")}
    assert all(when > 0 for _, when, _ in tips)


def test_changed_and_deleted_files_under_a_prefix(repo: Path) -> None:
    base = commit_file(repo, "experiments/a.yaml", "a: 1\n", "a")
    commit_file(repo, "experiments/b.yaml", "b: 1\n", "b")
    commit_file(repo, "experiments/a.yaml", "a: 2\n", "a again")
    commit_file(repo, "outside.txt", "x\n", "outside")
    git(repo, "rm", "-q", "experiments/b.yaml")
    git(repo, "commit", "-q", "-m", "drop b")
    head = git(repo, "rev-parse", "HEAD")
    a_now = git(repo, "rev-parse", "HEAD:experiments/a.yaml")
    a_before = git(repo, "rev-parse", f"{base}:experiments/a.yaml")
    changed = gitstore.changed_files(repo, base, head, "experiments")
    assert changed == [("M", "experiments/a.yaml", a_before, a_now)]
    added = gitstore.changed_files(repo, base, "HEAD~3", "experiments")  # the commit that added b
    b_added = git(repo, "rev-parse", "HEAD~3:experiments/b.yaml")
    assert added == [("A", "experiments/b.yaml", "0" * 40, b_added)]
    b_blob = git(repo, "rev-parse", "HEAD~1:experiments/b.yaml")
    [(sha, when, path, blob)] = gitstore.deleted_files(repo, ["HEAD"], "experiments")
    assert (sha, path, blob) == (head, "experiments/b.yaml", b_blob) and when > 0


def test_upstream_and_its_unpushed_trailers(repo: Path, tmp_path: Path) -> None:
    assert gitstore.upstream(repo) is None
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "-u", "origin", "main")
    assert gitstore.upstream(repo) == "origin/main"
    for run_id in ("r1", "r2"):
        (repo / "experiments").mkdir(exist_ok=True)
        (repo / "experiments" / f"{run_id}.yaml").write_text("x: 1\n")
        git(repo, "add", "experiments")
        git(repo, "commit", "-q", "-m", f"run {run_id}\n\nLedger-Run: {run_id}")
    commit_file(repo, "code.py", "x = 1\n", "code\n\nLedger-Run: not-a-record-commit")
    assert gitstore.trailer_values(repo, "origin/main..HEAD", "Ledger-Run", "experiments") == ["r2", "r1"]


def test_author_ident_follows_the_environment(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert gitstore.author_ident(repo).startswith("Test Author <author@example.com> ")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Someone Else")
    assert gitstore.author_ident(repo).startswith("Someone Else <")


def test_hooks_dir_honours_core_hooks_path(repo: Path) -> None:
    assert gitstore.hooks_dir(repo) == (repo / ".git" / "hooks")
    git(repo, "config", "core.hooksPath", "githooks")
    assert gitstore.hooks_dir(repo) == repo / "githooks"
