"""`ledger run` with real subprocesses and real signals, and crash detection."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ledger.core import yamlio
from support.repo import git, ledger_cli, records

CHILD = """
import sys, time, ledger
p = ledger.params()
for step in range(3):
    ledger.log_metric("loss", 1.0 / (step + 1))
ledger.log_metric("auc", 0.5 + p["lr"])
ledger.set_tag("child", "yes")
ledger.log_params({"logged_in_child": True})
mode = sys.argv[1] if len(sys.argv) > 1 else "ok"
if mode == "raise":
    raise ValueError("bad batch")
if mode == "exit":
    sys.exit(4)
if mode == "hang":
    ledger.active_run().flush()
    print("READY", flush=True)
    time.sleep(120)
"""


def write_child(repo: Path) -> None:
    (repo / "child.py").write_text(CHILD)
    git(repo, "add", "child.py")
    git(repo, "commit", "-q", "-m", "child")


def the_record(repo: Path) -> dict:
    [path] = records(repo)
    return yamlio.load_file(path)


def wait_ready(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert "READY" in line, line


def exit_code(proc: subprocess.Popen[str], timeout: float = 60) -> int:
    """The process's exit code, draining its pipes meanwhile. A process that does not end
    in time gets SIGABRT first: started with PYTHONFAULTHANDLER, Python then prints every
    thread's stack, and the failure shows where it hung."""
    try:
        proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGABRT)
        try:
            _, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        pytest.fail(f"still running {timeout} s after the signal; its stacks:\n{err[-6000:]}")
    return proc.returncode


def spawn(repo: Path, *argv: str) -> subprocess.Popen[str]:
    """A child as a terminal would start it. SIGINT is reset to its default: a shell starts
    background jobs with SIGINT ignored, children inherit that, and Python then never
    raises KeyboardInterrupt (so the suite, run as a background job, would hang here)."""
    env = {**os.environ, "PYTHONFAULTHANDLER": "1"}
    return subprocess.Popen(
        [*argv], cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509 - no threads in the child yet
    )  # fmt: skip


def test_overrides_reach_the_child_and_its_logs_attach(repo: Path) -> None:
    write_child(repo)
    result = ledger_cli(repo, "run", "--name", "lr-sweep", "--tag", "who=me", "-p", "lr=0.25",
                        "--", sys.executable, "child.py")  # fmt: skip
    assert result.returncode == 0, result.stderr
    rec = the_record(repo)
    assert rec["status"] == "finished" and rec["name"] == "lr-sweep"
    assert rec["params"]["lr"] == 0.25 and rec["params"]["logged_in_child"] is True
    assert rec["metrics"]["auc"] == 0.75
    assert rec["series"]["metrics"]["loss"]["count"] == 3
    assert rec["tags"] == {"who": "me", "child": "yes"}
    assert rec["command"]["argv"][1:] == ["child.py"] and rec["command"]["overrides"] == ["lr=0.25"]
    assert "<python>" in rec["command"]["argv"][0] or not os.path.isabs(rec["command"]["argv"][0])
    assert rec["resources"]["cpu_s"] > 0
    assert git(repo, "status", "--porcelain") == ""
    assert f"Ledger-Run: {rec['id']}" in git(repo, "log", "-1", "--format=%B")
    assert "ledger: finished run" in result.stderr


def test_exception_in_child_is_failed_with_traceback(repo: Path) -> None:
    write_child(repo)
    result = ledger_cli(repo, "run", "--", sys.executable, "child.py", "raise")
    assert result.returncode == 1
    rec = the_record(repo)
    assert rec["status"] == "failed"
    assert rec["error"]["type"] == "ValueError" and rec["error"]["message"] == "bad batch"
    assert "child.py" in rec["error"]["traceback"] and rec["error"]["exit_code"] == 1
    assert rec["metrics"]["auc"] == pytest.approx(0.6)


def test_nonzero_exit_is_failed_and_becomes_ledgers_exit_code(repo: Path) -> None:
    write_child(repo)
    result = ledger_cli(repo, "run", "--", sys.executable, "child.py", "exit")
    assert result.returncode == 4
    rec = the_record(repo)
    assert rec["status"] == "failed" and rec["error"]["exit_code"] == 4


def test_non_python_commands_are_recorded_too(repo: Path) -> None:
    result = ledger_cli(repo, "run", "--", "false")
    assert result.returncode == 1
    assert the_record(repo)["status"] == "failed"


def test_sigterm_to_ledger_run_is_killed(repo: Path) -> None:
    write_child(repo)
    proc = spawn(repo, sys.executable, "-m", "ledger", "run", "--", sys.executable, "child.py", "hang")
    wait_ready(proc)
    proc.send_signal(signal.SIGTERM)
    assert exit_code(proc) == 128 + signal.SIGTERM
    rec = the_record(repo)
    assert rec["status"] == "killed" and rec["error"]["signal"] == "SIGTERM"
    assert rec["metrics"]["auc"] == pytest.approx(0.6)  # logged before the end: kept
    assert git(repo, "status", "--porcelain") == ""


def test_sigkill_of_the_child_is_killed(repo: Path) -> None:
    write_child(repo)
    proc = spawn(repo, sys.executable, "-m", "ledger", "run", "--", sys.executable, "child.py", "hang")
    wait_ready(proc)
    found = subprocess.run(["pgrep", "-P", str(proc.pid), "-f", "child.py"], capture_output=True, text=True)
    child_pid = int(found.stdout.split()[0])  # not ledger's watchdog, its other child
    os.kill(child_pid, signal.SIGKILL)
    assert exit_code(proc) == 128 + signal.SIGKILL
    rec = the_record(repo)
    assert rec["status"] == "killed" and rec["error"]["signal"] == "SIGKILL"
    assert rec["series"]["metrics"]["loss"]["count"] == 3


API_SCRIPT = """
import sys, time, ledger
with ledger.start_run(name="api-" + sys.argv[1]) as run:
    run.log_metric("loss", 0.5)
    run.log_metric("loss", 0.25)
    run.flush()
    print("READY", flush=True)
    time.sleep(120)
"""


@pytest.mark.parametrize(("sig", "status"), [(signal.SIGTERM, "killed"), (signal.SIGINT, "killed")])
def test_signals_to_an_api_script(repo: Path, sig: int, status: str) -> None:
    (repo / "api.py").write_text(API_SCRIPT)
    proc = spawn(repo, sys.executable, "api.py", "sig")
    wait_ready(proc)
    proc.send_signal(sig)
    assert exit_code(proc) == -sig  # the process still dies of the signal
    rec = the_record(repo)
    assert rec["status"] == status and rec["error"]["signal"] == signal.Signals(sig).name
    assert rec["metrics"] == {"loss": 0.25}


def test_sigkill_is_found_later_as_crashed(repo: Path) -> None:
    (repo / "api.py").write_text(API_SCRIPT)
    git(repo, "add", "api.py")
    git(repo, "commit", "-q", "-m", "api")
    proc = subprocess.Popen([sys.executable, "api.py", "kill9"], cwd=repo, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    wait_ready(proc)
    assert the_record(repo)["status"] == "running"
    proc.kill()
    proc.wait(timeout=30)
    status = ledger_cli(repo, "status")
    assert status.returncode == 0 and "crashed" in status.stdout
    rec = the_record(repo)
    assert rec["status"] == "crashed" and "SIGKILL" in rec["error"]["message"]
    assert rec["metrics"] == {"loss": 0.25} and rec["series"]["metrics"]["loss"]["count"] == 2
    assert "process" not in rec
    assert git(repo, "status", "--porcelain") == ""  # committed like any finished run


GROUP = """
import os, pathlib, subprocess, sys, time
helper = subprocess.Popen(["sleep", "600"])  # in the child's process group, as a dvc stage would be
pathlib.Path("pids").write_text(f"{os.getpid()} {helper.pid}")
time.sleep(600)
"""


def _gone(pid: int) -> bool:
    """No such process, or a zombie nobody reaped yet (it runs nothing any more)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_sigkill_of_ledger_run_stops_its_child_group_and_is_crashed(repo: Path) -> None:
    """`kill -9` of the ledger process alone: its child has a process group of its own (so
    Ctrl-C reaches all of it), which a dead ledger can no longer signal. Its watchdog does:
    the child and what it started are gone within seconds, and the next write command
    records the run as crashed."""
    (repo / "group.py").write_text(GROUP)
    git(repo, "add", "group.py")
    git(repo, "commit", "-q", "-m", "group")
    ledger_proc = spawn(repo, sys.executable, "-m", "ledger", "run", "--name", "orphan", "--",
                        sys.executable, "group.py")  # fmt: skip
    pids: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while not (repo / "pids").exists() or len((repo / "pids").read_text().split()) < 2:
            assert time.monotonic() < deadline and ledger_proc.poll() is None, "the child never started"
            time.sleep(0.05)
        pids = [int(p) for p in (repo / "pids").read_text().split()]
        ledger_proc.kill()
        ledger_proc.communicate(timeout=30)
        deadline = time.monotonic() + 10
        while not all(_gone(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [pid for pid in pids if not _gone(pid)] == [], "the child outlived ledger"
    finally:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    status = ledger_cli(repo, "status")
    assert status.returncode == 0 and "crashed" in status.stdout, status.stdout + status.stderr
    rec = the_record(repo)
    assert rec["status"] == "crashed" and rec["name"] == "orphan"
    assert git(repo, "status", "--porcelain") == "?? pids"  # the record committed, nothing else left


def test_a_live_run_is_not_reaped(repo: Path) -> None:
    (repo / "api.py").write_text(API_SCRIPT)
    proc = subprocess.Popen([sys.executable, "api.py", "live"], cwd=repo, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        wait_ready(proc)
        status = ledger_cli(repo, "status")
        assert "running" in status.stdout and "crashed" not in status.stdout
        assert the_record(repo)["status"] == "running"
    finally:
        proc.kill()
        proc.wait()


def test_unknown_command_is_a_clear_error_and_records_nothing(repo: Path) -> None:
    result = ledger_cli(repo, "run", "--", "no-such-command-xyz")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "ledger: error: command not found: no-such-command-xyz: check the spelling or your PATH"
    )
    assert records(repo) == []


def test_ledger_run_without_command_is_usage_error(repo: Path) -> None:
    result = ledger_cli(repo, "run", "--name", "x")
    assert result.returncode == 2 and "nothing to run" in result.stderr


def test_crashed_detection_ignores_a_reused_pid(repo: Path) -> None:
    from ledger.write import liveness

    rec = {"started_at": "2000-01-01T00:00:00.000Z",
           "process": {"pid": os.getpid(), "host": os.uname().nodename,
                       "heartbeat_at": "2000-01-01T00:00:00.000Z"}}  # fmt: skip
    assert liveness.is_dead(rec)  # our pid is alive but younger than that run
    rec["started_at"] = rec["process"]["heartbeat_at"] = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    assert not liveness.is_dead(rec)
