"""What parallel and killed sweeps leave behind, in a real DVC project: points never share
the params file that `ledger run -p` overrides, and a killed sweep's point logs are removed
by the next ledger command once the sweep is provably gone."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ledger.core import processes, yamlio
from ledger.write import sweep_logs
from support.repo import git, ledger_cli, python_on_path, records

# Reads params.yaml itself, as a pipeline stage does. With WAIT_FOR=N it waits (bounded)
# until N points have started, so points that can overlap do; with GO it waits for that
# file, so a test can act while the point runs.
TRAIN = """
import os, sys, time, yaml, ledger
lr = ledger.params()["lr"]
markers = os.environ["MARKERS"]
open(os.path.join(markers, str(lr)), "w").close()
deadline = time.time() + 30
while time.time() < deadline and (
    len(os.listdir(markers)) < int(os.environ.get("WAIT_FOR", "1"))
    or (os.environ.get("GO") and not os.path.exists(os.environ["GO"]))
):
    time.sleep(0.02)
with open("params.yaml") as fh:
    seen = yaml.safe_load(fh)["lr"]
ledger.log_metric("seen_lr", seen)
ledger.log_metric("rows", len(open("data/table.csv").read().splitlines()))
print("point", lr, "saw", seen)
"""

DVC_YAML = """\
stages:
  train:
    cmd: python train.py
    deps: [train.py, data/table.csv]
    params: [lr]
"""


def _dvc(repo: Path, *args: str) -> None:
    subprocess.run([str(Path(sys.executable).parent / "dvc"), *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def project(repo: Path) -> Path:
    """A DVC project: `dvc.yaml` declares params.yaml's `lr` (so `ledger run -p` writes
    overrides into params.yaml) and `.dvc`-tracked data; the command is plain Python."""
    (repo / "train.py").write_text(TRAIN)
    (repo / "dvc.yaml").write_text(DVC_YAML)
    (repo / "data").mkdir()
    (repo / "data" / "table.csv").write_text("a,b\n1,2\n3,4\n")
    _dvc(repo, "init", "-q")
    _dvc(repo, "add", "-q", "data/table.csv")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "pipeline")
    return repo


def _records(repo: Path) -> list[dict[str, Any]]:
    return [yamlio.load_file(p) for p in records(repo)]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    markers = tmp_path / "markers"
    markers.mkdir(exist_ok=True)
    temp = tmp_path / "tmpdir"
    temp.mkdir(exist_ok=True)
    return {"MARKERS": str(markers), "TMPDIR": str(temp), "PATH": python_on_path(tmp_path / "bin"), **extra}


def _clean_after(repo: Path, params: bytes, tmp_path: Path) -> None:
    assert (repo / "params.yaml").read_bytes() == params
    assert list((repo / ".git" / "ledger-overrides").glob("*.json")) == []  # no undo note left
    assert git(repo, "worktree", "list").count("\n") == 0
    assert git(repo, "status", "--porcelain") == ""
    _nothing_in_tmpdir(tmp_path)


def _nothing_in_tmpdir(tmp_path: Path) -> None:
    """Nothing left in TMPDIR but ledger's (empty) private root for temporary worktrees."""
    for path in (tmp_path / "tmpdir").iterdir():
        assert path.name == f"ledger-worktrees-{os.getuid()}" and list(path.iterdir()) == []


def test_parallel_points_each_read_their_own_params_file(project: Path, tmp_path: Path) -> None:
    """-j 2 without --worktree, a plain command: the points overlap (each waits until both
    have started), each reads its own value from params.yaml, and params.yaml is
    byte-identical afterwards."""
    params = (project / "params.yaml").read_bytes()
    env = _env(tmp_path, WAIT_FOR="2")
    result = ledger_cli(project, "sweep", "-j", "2", "-p", "lr=0.2,0.4", "--", "python", "train.py", env=env)
    assert result.returncode == 0, result.stderr
    recs = _records(project)
    assert sorted((r["params"]["lr"], r["metrics"]["seen_lr"]) for r in recs) == [(0.2, 0.2), (0.4, 0.4)]
    assert all(r["metrics"]["rows"] == 3 for r in recs)  # the DVC data came along
    spans = sorted((r["started_at"], r["ended_at"]) for r in recs)
    assert spans[1][0] < spans[0][1]  # they did run at the same time
    _clean_after(project, params, tmp_path)


def test_no_worktree_runs_points_one_at_a_time(project: Path, tmp_path: Path) -> None:
    """--no-worktree keeps every point in this checkout: -j 2 cannot give two points two
    params files there, so they run one after the other (and the user is told)."""
    params = (project / "params.yaml").read_bytes()
    result = ledger_cli(project, "sweep", "-j", "2", "--no-worktree", "-p", "lr=0.2,0.4", "--",
                        "python", "train.py", env=_env(tmp_path))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "one at a time" in result.stderr
    recs = _records(project)
    assert sorted((r["params"]["lr"], r["metrics"]["seen_lr"]) for r in recs) == [(0.2, 0.2), (0.4, 0.4)]
    spans = sorted((r["started_at"], r["ended_at"]) for r in recs)
    assert spans[0][1] <= spans[1][0]
    _clean_after(project, params, tmp_path)


def test_a_second_run_never_overrides_a_params_file_in_use(project: Path, tmp_path: Path) -> None:
    """Two `ledger run -p` in one checkout: the second refuses (one line, what to do)
    instead of taking the first one's overrides for the original params.yaml."""
    params = (project / "params.yaml").read_bytes()
    go = tmp_path / "go"
    env = {**os.environ, **_env(tmp_path, GO=str(go))}
    first = subprocess.Popen([sys.executable, "-m", "ledger", "run", "-p", "lr=0.2", "--", "python", "train.py"],
                             cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    try:
        deadline = time.time() + 60
        while not (tmp_path / "markers" / "0.2").exists():
            assert first.poll() is None and time.time() < deadline, first.communicate()
            time.sleep(0.02)
        second = ledger_cli(project, "run", "-p", "lr=0.4", "--", "python", "train.py", env=_env(tmp_path))
        assert second.returncode == 1, second.stderr
        assert "params.yaml" in second.stderr and "--worktree" in second.stderr
        assert "Traceback" not in second.stderr and len(second.stderr.strip().splitlines()) == 1
        assert not (tmp_path / "markers" / "0.4").exists()  # its command never ran
    finally:
        go.touch()
        out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    (rec,) = _records(project)
    assert rec["metrics"]["seen_lr"] == 0.2
    _clean_after(project, params, tmp_path)


def test_a_killed_sweeps_logs_are_removed_by_the_next_command(repo: Path, tmp_path: Path) -> None:
    """SIGKILL the sweep (not its points): its point logs stay, out of TMPDIR, until the
    next ledger command finds that the sweep's process is gone; a live sweep's logs and
    anything ledger did not make are left alone. (No pipeline: the points share the
    checkout, so their records land there even with the sweep gone.)"""
    project = repo
    (project / "train.py").write_text(TRAIN)
    (project / "data").mkdir()
    (project / "data" / "table.csv").write_text("a,b\n1,2\n3,4\n")
    git(project, "add", ".")
    git(project, "commit", "-qm", "train")
    go = tmp_path / "go"
    env = {**os.environ, **_env(tmp_path, GO=str(go))}
    sweep = subprocess.Popen([sys.executable, "-m", "ledger", "sweep", "-j", "2", "-p", "lr=0.2,0.4", "--",
                              "python", "train.py"], cwd=project, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    markers = tmp_path / "markers"
    deadline = time.time() + 90
    while len(list(markers.iterdir())) < 2:
        assert sweep.poll() is None and time.time() < deadline
        time.sleep(0.02)
    base = project / ".git" / sweep_logs.DIRECTORY
    (left,) = base.iterdir()
    assert sorted(p.name for p in left.iterdir()) == ["point-0.log", "point-1.log"]
    sweep.kill()
    sweep.wait()
    go.touch()  # the orphaned points finish on their own
    deadline = time.time() + 90
    while sorted(r["status"] for r in _records(project)) != ["finished", "finished"]:
        assert time.time() < deadline, _records(project)
        time.sleep(0.05)
    assert "point 0.2 saw" in (left / "point-0.log").read_text()  # the orphans kept writing their logs

    me = os.getpid()
    alive = base / sweep_logs.name_for(me, processes.host(), processes.started(me))  # this test: alive
    alive.mkdir()
    foreign = [base / "notes", base / "123-456.7-other"]  # not named by ledger
    for path in foreign:
        path.mkdir()
        (path / "keep.txt").write_text("not ledger's")
    other_host = base / sweep_logs.name_for(1, f"not-{processes.host()}", 1.0)
    other_host.mkdir()

    status = ledger_cli(project, "status", env=_env(tmp_path))
    assert status.returncode == 0, status.stderr
    assert not left.exists()
    assert alive.is_dir() and other_host.is_dir()
    assert all((path / "keep.txt").is_file() for path in foreign)
    assert list((tmp_path / "tmpdir").iterdir()) == []  # no worktrees here: nothing ever went to TMPDIR
