"""Reading from git (ledger.gitstore.read): trees, blobs in bulk with a size limit, history."""

from __future__ import annotations

from pathlib import Path

from ledger import gitstore
from support.repo import git


def commit_files(repo: Path, files: dict[str, str], message: str) -> str:
    for path, content in files.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(content)
    git(repo, "add", *files)
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def test_ls_tree_lists_blobs_under_a_prefix(repo: Path) -> None:
    commit_files(repo, {"experiments/2026-01/a.yaml": "a\n", "experiments/b.yaml": "b\n", "x.py": "x\n"}, "add")
    found = dict(gitstore.ls_tree(repo, "HEAD", "experiments"))
    assert set(found) == {"experiments/2026-01/a.yaml", "experiments/b.yaml"}
    assert found["experiments/b.yaml"] == git(repo, "rev-parse", "HEAD:experiments/b.yaml")
    assert gitstore.ls_tree(repo, "HEAD", "nothing-here") == []


def test_blobs_in_bulk_keep_order_and_refuse_oversize_and_missing(repo: Path) -> None:
    commit_files(repo, {"small.txt": "tiny\n", "big.txt": "x" * 5000}, "blobs")
    small = git(repo, "rev-parse", "HEAD:small.txt")
    big = git(repo, "rev-parse", "HEAD:big.txt")
    missing = "0" * 40
    states = [(sha, state) for sha, state, _ in gitstore.iter_blobs(repo, [big, missing, small], limit=1000)]
    assert states == [(big, "oversize"), (missing, "missing"), (small, "ok")]
    assert list(gitstore.read_blobs(repo, [small, big], limit=1000)) == [(small, b"tiny\n"), (big, None)]
    assert gitstore.read_file_at(repo, "HEAD", "small.txt", limit=100) == b"tiny\n"
    assert gitstore.read_file_at(repo, "HEAD", "absent.txt", limit=100) is None
    assert gitstore.show_blob(repo, "HEAD", "small.txt") == b"tiny\n"
    assert gitstore.show_blob(repo, "HEAD", "absent.txt") is None


def test_merge_base_ancestry_and_changed_paths(repo: Path) -> None:
    fork = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "-b", "feature")
    feature = commit_files(repo, {"f.txt": "f\n"}, "feature")
    git(repo, "checkout", "-q", "main")
    main = commit_files(repo, {"m.txt": "m\n"}, "main")
    assert gitstore.merge_base(repo, main, feature) == fork
    assert gitstore.merge_base(repo, main, "no-such") is None
    assert gitstore.is_ancestor(repo, fork, "feature") and not gitstore.is_ancestor(repo, feature, "main")
    git(repo, "rm", "-q", "m.txt")
    git(repo, "commit", "-q", "-m", "drop")
    assert gitstore.changed_paths(repo, fork, main) == [("m.txt", git(repo, "rev-parse", f"{main}:m.txt"))]
    assert gitstore.changed_paths(repo, main, "HEAD") == [("m.txt", None)]
    assert gitstore.branch_refs(repo) == ["refs/heads/feature", "refs/heads/main"]


def test_log_entries_oldest_first_with_paths(repo: Path) -> None:
    start = git(repo, "rev-parse", "HEAD")
    first = commit_files(repo, {"a.txt": "a\n"}, "first\n\nLedger-Run: r1")
    second = commit_files(repo, {"b.txt": "b\n", "c.txt": "c\n"}, "second")
    entries = gitstore.log_entries(repo, f"{start}..HEAD")
    assert [(e.sha, e.parents, e.paths) for e in entries] == [
        (first, (start,), ("a.txt",)),
        (second, (first,), ("b.txt", "c.txt")),
    ]
    assert "Ledger-Run: r1" in entries[0].message


def test_staged_and_untracked_paths(repo: Path) -> None:
    (repo / "experiments").mkdir()
    (repo / "experiments" / "new.yaml").write_text("n\n")
    (repo / "train.py").write_text("changed\n")
    git(repo, "add", "train.py")
    index = gitstore.active_index(repo)
    assert index == repo / ".git" / "index"
    assert gitstore.staged_paths(repo, index) == [("M", "train.py")]
    assert gitstore.untracked_and_modified(repo, "experiments") == ["experiments/new.yaml"]
    assert gitstore.grep_paths(repo, "HEAD", "training", ".") == ["train.py"]
