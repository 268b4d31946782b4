"""`ledger sweep --submit local`: the job-array path through submitit's local executor:
each task in its own clone, records pushed to the remote, none lost, none forced."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from support.repo import git, ledger_cli, records

TRAIN = """
import ledger
p = ledger.params()
for step in range(3):
    ledger.log_metric("auc", p["lr"] * 10 + p["model"]["depth"] + step, step=step)
"""


def _project(repo: Path, tmp_path: Path) -> Path:
    (repo / "train.py").write_text(TRAIN)
    git(repo, "commit", "-qam", "train")
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    git(remote, "config", "core.logAllRefUpdates", "true")
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "-u", "origin", "main")
    return remote


def _landed(remote: Path) -> list[dict[str, Any]]:
    paths = git(remote, "ls-tree", "-r", "--name-only", "main", "experiments").splitlines()
    return [yaml.safe_load(git(remote, "show", f"main:{p}")) for p in paths
            if p.endswith(".yaml") and "/envs/" not in p]  # fmt: skip


def _fast_forward_only(remote: Path) -> None:
    updates = git(remote, "reflog", "show", "--format=%H", "refs/heads/main").split()[::-1]
    for old, new in zip(updates, updates[1:]):
        subprocess.run(["git", "merge-base", "--is-ancestor", old, new], cwd=remote, check=True)


def test_local_job_array_runs_every_shard_in_its_own_clone(repo: Path, tmp_path: Path) -> None:
    remote = _project(repo, tmp_path)
    result = ledger_cli(repo, "sweep", "--submit", "local", "--shards", "2", "-p", "lr=0.01,0.1",
                        "-p", "model.depth=3,6", "--", sys.executable, "train.py")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "task 1/2: ok" in result.stderr and "task 2/2: ok" in result.stderr
    recs = _landed(remote)
    assert sorted(r["tags"]["sweep_point"] for r in recs) == ["0", "1", "2", "3"]
    assert all(r["status"] == "finished" and r["series"]["metrics"]["auc"]["count"] == 3 for r in recs)
    assert len({r["tags"]["sweep"] for r in recs}) == 1
    _fast_forward_only(remote)
    # Nothing ran in the user's checkout: it is as it was, until `ledger push` brings the records.
    assert records(repo) == [] and git(repo, "status", "--porcelain") == ""
    assert list((repo / ".git" / "ledger-submit").iterdir())  # submitit's logs, out of the working tree
    pulled = ledger_cli(repo, "push")
    assert pulled.returncode == 0, pulled.stderr
    assert len(records(repo)) == 4 and git(repo, "status", "--porcelain") == ""
    # Submitting again skips every point: the clones see the records now on the remote.
    git(repo, "push", "-q")
    again = ledger_cli(repo, "sweep", "--submit", "local", "--shards", "2", "-p", "lr=0.01,0.1",
                       "-p", "model.depth=3,6", "--", sys.executable, "train.py")  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert len(_landed(remote)) == 4


def test_local_job_array_of_optuna_workers_shares_one_study(repo: Path, tmp_path: Path) -> None:
    remote = _project(repo, tmp_path)
    result = ledger_cli(repo, "sweep", "--submit", "local", "--shards", "2", "--optimize", "auc",
                        "--trials", "4", "-p", "lr=uniform(0.01,0.1)", "-p", "model.depth=int(3,6)",
                        "--", sys.executable, "train.py")  # fmt: skip
    assert result.returncode == 0, result.stderr
    recs = _landed(remote)
    assert sorted(r["trial"]["number"] for r in recs) == [0, 1, 2, 3]  # four trials between two workers
    assert len({r["trial"]["study"] for r in recs}) == 1
    _fast_forward_only(remote)


def test_what_a_clone_would_not_see_is_refused(repo: Path, tmp_path: Path) -> None:
    args = ["sweep", "--submit", "local", "--shards", "2", "-p", "lr=0.01,0.1", "--", sys.executable, "train.py"]
    no_remote = ledger_cli(repo, *args)
    assert no_remote.returncode == 1 and "no remote 'origin'" in no_remote.stderr
    _project(repo, tmp_path)
    (repo / "train.py").write_text(TRAIN + "# changed\n")
    dirty = ledger_cli(repo, *args)
    assert dirty.returncode == 1 and "changed since your last commit (first: train.py)" in dirty.stderr
    git(repo, "commit", "-qam", "changed")
    unpushed = ledger_cli(repo, *args)
    assert unpushed.returncode == 1 and "does not have your commit" in unpushed.stderr
    no_count = ledger_cli(repo, *args[:3], *args[5:])
    assert no_count.returncode == 2 and "--submit needs --shards N" in no_count.stderr
    assert not (repo / ".git" / "ledger-submit").exists()
