"""Dead runs (ledger.write.liveness, ledger.read.liveness): a run killed with SIGKILL is shown
as crashed on read without a write, and written down as crashed, with what it logged, only by
a command that writes (reap)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import ledger
from ledger.core import record, yamlio
from ledger.core.workspace import Workspace
from ledger.read import liveness as read_liveness
from ledger.write import liveness
from support.repo import git, records

VICTIM = """
import sys, ledger
run = ledger.start_run(name="victim")
run.log_params({"lr": 0.3})
for step in range(3):
    run.log_metric("loss", 1.0 / (step + 1), step=step)
run.flush()
print("ready", flush=True)
sys.stdin.read()  # until killed
"""


def killed_run(repo: Path) -> str:
    (repo / "victim.py").write_text(VICTIM)
    git(repo, "add", "victim.py")
    git(repo, "commit", "-q", "-m", "victim")
    proc = subprocess.Popen(
        [sys.executable, "victim.py"], cwd=repo, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    [path] = records(repo)
    return str(yamlio.load_file(path)["id"])


def test_a_killed_run_is_crashed_on_read_and_written_only_by_reap(repo: Path) -> None:
    run_id = killed_run(repo)
    ws = Workspace.find(repo)
    [(relpath, snapshot)] = list(liveness.running_records(ws))
    assert relpath == record.record_path(run_id) and read_liveness.is_dead(snapshot)
    before = (repo / relpath).read_bytes(), git(repo, "rev-parse", "HEAD")
    view = read_liveness.crashed_view(ws, snapshot)
    assert view["status"] == "crashed" and view["metrics"] == {"loss": 1 / 3} and view["params"]["lr"] == 0.3
    assert [r["status"] for r in ledger.runs()] == ["crashed"]  # the library face shows it so
    assert ((repo / relpath).read_bytes(), git(repo, "rev-parse", "HEAD")) == before  # nothing written
    [(rec, committed)] = liveness.reap(ws)
    assert rec["id"] == run_id and rec["status"] == "crashed" and rec["error"]["type"] == "Crashed"
    assert rec["metrics"] == {"loss": 1 / 3} and rec["series"]["metrics"]["loss"]["count"] == 3
    assert committed.sha and relpath in git(repo, "show", "--name-only", "--format=", committed.sha)
    assert yamlio.load_file(repo / relpath)["status"] == "crashed"
    assert liveness.reap(ws) == []  # once


def test_a_live_run_is_never_reaped(repo: Path) -> None:
    with ledger.start_run(name="alive") as run:
        run.log_metric("auc", 0.5)
        run.flush()
        ws = Workspace.find(repo)
        [(_, snapshot)] = list(liveness.running_records(ws))
        assert not read_liveness.is_dead(snapshot)
        assert liveness.reap(ws) == []
    assert yamlio.load_file(records(repo)[0])["status"] == "finished"


@pytest.mark.parametrize(("age_s", "dead"), [(5.0, False), (read_liveness.STALE_S + 5, True)])
def test_another_hosts_run_is_judged_by_its_heartbeat(age_s: float, dead: bool) -> None:
    beat = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() - age_s))
    rec = {"started_at": beat, "process": {"pid": 1, "host": "another-host", "heartbeat_at": beat}}
    assert read_liveness.is_dead(rec) is dead
