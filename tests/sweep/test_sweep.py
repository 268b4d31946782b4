"""`ledger sweep`: real child `ledger run`s, skipping, resuming, parallel points, shards,
worktree isolation."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ledger.core import yamlio
from support.repo import git, ledger_cli, records

TRAIN = """
import os, sys, time, ledger
p = ledger.params()
if os.environ.get("MARKERS"):  # tell the test this point is training now
    open(os.path.join(os.environ["MARKERS"], f"{p['lr']}-{p['model']['depth']}"), "w").close()
time.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 0)
ledger.log_metric("auc", p["lr"] * 10 + p["model"]["depth"])
"""


def _setup(repo: Path) -> None:
    (repo / "train.py").write_text(TRAIN)
    git(repo, "commit", "-qam", "train")


def _records(repo: Path) -> list[dict[str, Any]]:
    return [yamlio.load_file(p) for p in records(repo)]


def _finished_points(repo: Path) -> list[tuple[float, int]]:
    return sorted(
        (r["params"]["lr"], r["params"]["model"]["depth"]) for r in _records(repo) if r["status"] == "finished"
    )


GRID = ["-p", "lr=0.01,0.1", "-p", "model.depth=3,6"]
ALL_POINTS = [(0.01, 3), (0.01, 6), (0.1, 3), (0.1, 6)]


def test_parallel_grid_records_each_point_once_then_skips_them(repo: Path) -> None:
    _setup(repo)
    result = ledger_cli(repo, "sweep", "-j", "2", *GRID, "--", sys.executable, "train.py", "1")
    assert result.returncode == 0, result.stderr
    recs = _records(repo)
    assert _finished_points(repo) == ALL_POINTS
    for rec in recs:  # every child saw its own overrides
        assert rec["metrics"]["auc"] == rec["params"]["lr"] * 10 + rec["params"]["model"]["depth"]
        assert rec["code"]["dirty"] is False
    assert sorted(r["tags"]["sweep_point"] for r in recs) == ["0", "1", "2", "3"]
    assert len({r["tags"]["sweep"] for r in recs}) == 1
    # Two at a time: some runs overlap in time, and never more than two.
    spans = [(r["started_at"], r["ended_at"]) for r in recs]
    overlapping = [max(sum(1 for s, e in spans if s <= t < e) for t, _ in spans)]
    assert overlapping == [2]
    assert git(repo, "status", "--porcelain") == ""
    assert len(git(repo, "log", "--format=%H", "--grep=Ledger-Run:").split()) == 4
    subprocess.run(["git", "fsck", "--strict"], cwd=repo, check=True, capture_output=True)

    again = ledger_cli(repo, "sweep", "-j", "2", *GRID, "--", sys.executable, "train.py", "1")
    assert again.returncode == 0, again.stderr
    assert again.stderr.count(": skipped") == 4 and "4 skipped" in again.stderr
    assert len(records(repo)) == 4
    # One more value runs only the new points.
    more = ledger_cli(repo, "sweep", "-p", "lr=0.01,0.1,1", "-p", "model.depth=3,6", "--",
                      sys.executable, "train.py", "1")  # fmt: skip
    assert more.returncode == 0, more.stderr
    assert "2 finished, 4 skipped" in more.stderr
    assert len(records(repo)) == 6


def test_interrupted_sweep_resumes_with_only_what_is_missing(repo: Path, tmp_path: Path) -> None:
    _setup(repo)
    markers = tmp_path / "markers"
    markers.mkdir()
    args = [sys.executable, "-m", "ledger", "sweep", *GRID, "--", sys.executable, "train.py", "1.5"]
    proc = subprocess.Popen(args, cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "MARKERS": str(markers)})  # fmt: skip
    deadline = time.monotonic() + 120
    while len(list(markers.iterdir())) < 3:  # two points done, the third one training
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    statuses = sorted(r["status"] for r in _records(repo))
    assert statuses == ["finished", "finished", "killed"]  # the third was training
    done = _finished_points(repo)

    resumed = ledger_cli(repo, "sweep", *GRID, "--", sys.executable, "train.py", "1.5")
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stderr.count(": skipped") == len(done)
    assert _finished_points(repo) == ALL_POINTS  # each point finished exactly once
    assert git(repo, "status", "--porcelain") == ""


def test_shards_split_one_sweep_between_machines(repo: Path) -> None:
    _setup(repo)
    for k in ("2/3", "1/3", "3/3"):
        result = ledger_cli(repo, "sweep", "--shard", k, *GRID, "--", sys.executable, "train.py")
        assert result.returncode == 0, result.stderr
    points = sorted(int(r["tags"]["sweep_point"]) for r in _records(repo))
    assert points == [0, 1, 2, 3]  # every point exactly once across the shards
    assert _finished_points(repo) == ALL_POINTS


def test_random_sweep_and_failing_points(repo: Path) -> None:
    (repo / "train.py").write_text(TRAIN.replace("ledger.log_metric", "assert p['lr'] < 0.05\nledger.log_metric"))
    git(repo, "commit", "-qam", "train")
    result = ledger_cli(repo, "sweep", "--random", "3", "--seed", "5", "--name", "rnd",
                        "-p", "lr=loguniform(0.001,0.1)", "-p", "model.depth=2",
                        "-j", "2", "--", sys.executable, "train.py")  # fmt: skip
    recs = _records(repo)
    assert len(recs) == 3
    failed = [r for r in recs if r["status"] == "failed"]
    assert result.returncode == (1 if failed else 0)
    for rec in recs:
        assert 0.001 <= rec["params"]["lr"] <= 0.1 and rec["name"] == f"rnd-lr={rec['params']['lr']}"
        assert (rec["status"] == "failed") == (rec["params"]["lr"] >= 0.05)
    if failed:  # the failing child's output is shown
        assert "AssertionError" in result.stderr
    dry = ledger_cli(repo, "sweep", "--dry-run", "--random", "3", "--seed", "5", "--name", "rnd",
                     "-p", "lr=loguniform(0.001,0.1)", "-p", "model.depth=2",
                     "-j", "2", "--", sys.executable, "train.py")  # fmt: skip
    assert dry.returncode == 0
    assert dry.stdout.count("(done:") == 3 - len(failed)


def test_worktree_points_never_share_the_params_file(repo: Path) -> None:
    """A command that reads params.yaml itself, run two at a time: each point in its own
    worktree, where it rewrites params.yaml with its overrides (as a pipeline would)."""
    (repo / "train.py").write_text(
        "import os, sys, time, yaml, ledger\n"
        "p = ledger.params()\n"
        "open('params.yaml', 'w').write(yaml.safe_dump(p))\n"
        "time.sleep(1)\n"
        "mine = yaml.safe_load(open('params.yaml'))\n"
        "ledger.log_metric('auc', mine['lr'])\n"
        "ledger.log_param('where', os.path.basename(os.getcwd()))\n"
    )
    (repo / "untracked_helper.py").write_text("X = 1\n")  # uncommitted code travels along
    git(repo, "commit", "-qam", "train")
    before = (repo / "params.yaml").read_bytes()
    result = ledger_cli(repo, "sweep", "-j", "2", "--worktree", "-p", "lr=0.2,0.4,0.6", "--",
                        sys.executable, "train.py")  # fmt: skip
    assert result.returncode == 0, result.stderr
    recs = _records(repo)
    assert sorted((r["params"]["lr"], r["metrics"]["auc"]) for r in recs) == [
        (0.2, 0.2), (0.4, 0.4), (0.6, 0.6)
    ]  # fmt: skip
    assert (repo / "params.yaml").read_bytes() == before
    assert len({r["code"]["tree"] for r in recs}) == 1 and all(r["code"]["dirty"] for r in recs)
    assert all(r["code"]["branch"] == "main" for r in recs)
    assert git(repo, "status", "--porcelain") == "?? untracked_helper.py"
    assert git(repo, "worktree", "list").count("\n") == 0  # all temporary worktrees gone
    committed = git(repo, "ls-tree", "-r", "--name-only", "HEAD", "experiments").splitlines()
    assert sum(1 for p in committed if p.endswith(".yaml") and "/envs/" not in p) == 3
    again = ledger_cli(repo, "sweep", "-j", "2", "--worktree", "-p", "lr=0.2,0.4,0.6", "--",
                       sys.executable, "train.py")  # fmt: skip
    assert again.returncode == 0 and "3 skipped" in again.stderr


def test_usage_errors(repo: Path) -> None:
    result = ledger_cli(repo, "sweep", "-p", "lr=uniform(0,1)", "--", "true")
    assert result.returncode == 2 and "add --random N" in result.stderr
    result = ledger_cli(repo, "sweep", "-p", "lr=1,2")
    assert result.returncode == 2 and "nothing to run" in result.stderr
    result = ledger_cli(repo, "sweep", "--shard", "4/3", "-p", "lr=1,2", "--", "true")
    assert result.returncode == 2 and "--shard K/N" in result.stderr
    assert records(repo) == [] and "Traceback" not in result.stderr
