"""What a `kill -9` of a sweep or of a distributed job's rank 0 leaves in the git directory,
written down by the next write command: the Optuna trials left RUNNING are failed (only
when every process running them is dead) and the rank-0 rendezvous note is removed (real
processes, real SIGKILL, a real Optuna journal study)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ledger.core import yamlio
from ledger.write import optuna as sweep_optuna
from ledger.write import trial_notes
from support.repo import git, ledger_cli, records

optuna = pytest.importorskip("optuna")  # the [optuna] extra; installed in the dev environment

WAITING = """
import os, pathlib, time
import ledger
p = ledger.params()
pathlib.Path(os.environ["STARTED"]).write_text("1")
while not pathlib.Path(os.environ["GO"]).exists():
    time.sleep(0.05)
ledger.log_metric("auc", p["lr"])
"""


def _wait_for(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    give_up = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < give_up, "timed out"
        time.sleep(0.05)


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def _trial_states(journal: Path, study: str) -> list[str]:
    loaded = optuna.load_study(study_name=study, storage=sweep_optuna.storage(journal))
    return [t.state.name for t in loaded.get_trials(deepcopy=False)]


def test_a_killed_sweeps_running_trial_is_failed_once_its_run_is_over(repo: Path, tmp_path: Path) -> None:
    (repo / "train.py").write_text(WAITING)
    git(repo, "commit", "-qam", "train")
    started, go = tmp_path / "started", tmp_path / "go"
    env = {**os.environ, "STARTED": str(started), "GO": str(go)}
    sweep = subprocess.Popen(
        [sys.executable, "-m", "ledger", "sweep", "--optimize", "auc", "--study", "killed", "--trials", "2",
         "-p", "lr=uniform(0.1,0.9)", "--", sys.executable, "train.py"],
        cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    _wait_for(started.exists)
    [running] = [yamlio.load_file(p) for p in records(repo)]
    point = running["process"]["pid"]  # the trial's `ledger run`
    os.kill(sweep.pid, signal.SIGKILL)
    sweep.wait(timeout=30)
    journal = repo / ".git" / "ledger-studies" / "killed.log"
    assert _trial_states(journal, "killed") == ["RUNNING"]
    # Its `ledger run` still runs the trial: it is not dead yet.
    alive = ledger_cli(repo, "status", "--format", "json")
    assert alive.returncode == 0, alive.stderr
    assert json.loads(alive.stdout)["trials_failed"] == []
    assert _trial_states(journal, "killed") == ["RUNNING"]
    go.touch()
    _wait_for(lambda: _gone(point))
    [rec] = [yamlio.load_file(p) for p in records(repo)]
    assert rec["status"] == "finished"  # the run itself is recorded; nobody told the study
    assert _trial_states(journal, "killed") == ["RUNNING"]
    status = ledger_cli(repo, "status")
    assert status.returncode == 0, status.stderr
    assert "trial failed" in status.stdout and "killed #0" in status.stdout, status.stdout
    assert _trial_states(journal, "killed") == ["FAIL"]
    assert list((repo / ".git" / trial_notes.NOTES_DIR).iterdir()) == []
    again = ledger_cli(repo, "status", "--format", "json")
    assert json.loads(again.stdout)["trials_failed"] == []


def test_a_trial_any_of_whose_processes_lives_is_left_running(repo: Path, tmp_path: Path) -> None:
    """The sweep alive and its trial's process dead (it will tell the study itself), or
    the other way round: never failed from outside."""
    journal = tmp_path / "study.log"
    study = sweep_optuna.load_study(journal, "live", "max", "random", 0, None, "none", 5, 0)
    number, _ = sweep_optuna.ask(study, {"lr": sweep_optuna.distribution("float", (0.1, 0.9))})
    common = repo / ".git"
    note = trial_notes.write(common, journal, "live", number)  # this test process: alive
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    trial_notes.add_process(note, dead.pid)  # noted while it ran: a pid that no longer runs
    assert trial_notes.fail_dead(common) == []
    assert note.exists() and _trial_states(journal, "live") == ["RUNNING"]


RANK0 = """
import time
import ledger
with ledger.start_run(name="rank0") as run:
    print("READY", flush=True)
    time.sleep(600)
"""


def test_a_killed_rank_0s_rendezvous_note_is_removed(repo: Path) -> None:
    (repo / "rank0.py").write_text(RANK0)
    git(repo, "add", "rank0.py")
    git(repo, "commit", "-qm", "rank 0")
    env = {**os.environ, "RANK": "0", "LOCAL_RANK": "0", "WORLD_SIZE": "2", "LOCAL_WORLD_SIZE": "1",
           "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29999", "LEDGER_SYSTEM_INTERVAL": "5"}  # fmt: skip
    proc = subprocess.Popen([sys.executable, "rank0.py"], cwd=repo, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert proc.stdout is not None and "READY" in proc.stdout.readline()
        notes = repo / ".git" / "ledger-ranks"
        [note] = list(notes.glob("*.json"))
        live = ledger_cli(repo, "status")
        assert live.returncode == 0 and note.exists()  # a live rank 0's note stays
    finally:
        proc.kill()
        proc.communicate(timeout=30)
    status = ledger_cli(repo, "status", "--format", "json")
    assert status.returncode == 0, status.stderr
    assert not note.exists()
    assert any(str(note.name) in path for path in json.loads(status.stdout)["cleaned"])
    [rec] = [yamlio.load_file(p) for p in records(repo)]
    assert rec["status"] == "crashed"
