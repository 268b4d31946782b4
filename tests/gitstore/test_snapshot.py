"""The working tree as git sees it (ledger.gitstore.snapshot), in a private index."""

from __future__ import annotations

from pathlib import Path

from ledger import gitstore
from support.repo import git


def test_file_lists(repo: Path) -> None:
    (repo / ".gitignore").write_text("*.log\n")
    (repo / "new.py").write_text("x = 1\n")
    (repo / "noise.log").write_text("ignored\n")
    (repo / "data.dvc").write_text("outs: []\n")
    assert sorted(gitstore.untracked_files(repo)) == [".gitignore", "data.dvc", "new.py"]
    assert gitstore.ls_files(repo, ["*.dvc"]) == []  # tracked only
    assert gitstore.ls_files(repo, ["*.dvc"], untracked=True) == ["data.dvc"]
    assert gitstore.ls_files(repo, ["train.py", "new.py"]) == ["train.py"]


def test_a_tree_and_patch_of_the_working_tree_without_left_out_paths(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD")
    (repo / "train.py").write_text("print('changed')\n")
    (repo / "params.yaml").write_text("lr: 0.5\n")
    (repo / "secret.py").write_text("TOKEN = 'abc'\n")
    (repo / "experiments").mkdir()
    (repo / "experiments" / "r.yaml").write_text("id: r\n")
    with gitstore.private_index(copy_of=repo / ".git" / "index") as env:
        assert sorted(gitstore.modified_files(repo, env)) == ["params.yaml", "train.py"]
        gitstore.stage_tracked(repo, env, leave_out=["params.yaml"])
        gitstore.stage_paths(repo, ["experiments/r.yaml"], env)
        gitstore.stage_contents(repo, {"secret.py": (b"TOKEN = '[REDACTED]'\n", True)}, env)
        tree = gitstore.write_tree(repo, env)
        patch = gitstore.staged_patch(repo, head, ["experiments"], env).decode()
    listing = git(repo, "ls-tree", "-r", tree)
    assert "100755 blob" in next(line for line in listing.splitlines() if line.endswith("secret.py"))
    assert git(repo, "show", f"{tree}:params.yaml") == "lr: 0.1\nseed: 7\nmodel:\n  depth: 3"  # left out
    assert "+print('changed')" in patch and "[REDACTED]" in patch and "abc" not in patch
    assert "experiments/r.yaml" not in patch and "params.yaml" not in patch
    assert git(repo, "status", "--porcelain", "--", "train.py") == "M train.py"  # user's index untouched


def test_staged_patch_on_an_unborn_branch_shows_everything(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "a.py").write_text("a = 1\n")
    with gitstore.private_index() as env:
        gitstore.stage_paths(tmp_path, ["a.py"], env)
        assert "+a = 1" in gitstore.staged_patch(tmp_path, None, [], env).decode()
