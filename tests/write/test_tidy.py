"""What killed ledger processes leave, cleaned by write commands only, and safely: temporary
worktrees (only ledger's own, verified by a token, whatever git's admin files say), sidecar
folders of runs killed before their record existed, half-written temporary files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from ledger import gitstore
from support.repo import git, ledger_cli

HOLDER = """
import sys, time
from pathlib import Path
from ledger import gitstore
from ledger.core import processes
path = gitstore.temporary_worktree_add(Path("."), sys.argv[1], "HEAD", processes.owner())
print("READY", path, flush=True)
time.sleep(120)
"""


def _hold(repo: Path, kind: str) -> tuple[subprocess.Popen[str], Path]:
    proc = subprocess.Popen([sys.executable, "hold.py", kind], cwd=repo, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("READY "), line + (proc.stderr.read() if proc.stderr else "")
    return proc, Path(line.split(" ", 1)[1].strip())


def _kill(proc: subprocess.Popen[str]) -> None:
    proc.kill()
    proc.communicate(timeout=30)


def _dead_owner() -> str:
    """The owner text of a ledger process that has ended."""
    code = "from ledger.core import processes; print(processes.owner())"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def _admin_entry(repo: Path, path: Path) -> Path:
    for entry in (repo / ".git" / "worktrees").iterdir():
        if (entry / "gitdir").read_text().strip() == f"{path}/.git":
            return entry
    raise AssertionError(f"no admin entry for {path}")


def test_a_killed_processs_worktree_is_removed_and_a_live_ones_kept(repo: Path) -> None:
    (repo / "hold.py").write_text(HOLDER, encoding="utf-8")
    killed, dead = _hold(repo, "reproduce")
    holding, live = _hold(repo, "sweep")
    try:
        _kill(killed)
        assert str(dead) in git(repo, "worktree", "list")
        assert ledger_cli(repo, "ls").returncode == 0
        assert str(dead) in git(repo, "worktree", "list") and dead.is_dir()  # reading removes nothing
        status = ledger_cli(repo, "status")
        assert status.returncode == 0, status.stderr
        listed = git(repo, "worktree", "list")
        assert str(dead) not in listed and not dead.parent.exists()  # gone, with its temp dir
        assert str(live) in listed and live.is_dir()  # its owner is alive: untouched
    finally:
        _kill(holding)
    assert ledger_cli(repo, "status").returncode == 0
    assert str(live) not in git(repo, "worktree", "list") and not live.parent.exists()


def test_a_worktree_killed_while_git_was_initializing_it_is_cleaned(repo: Path) -> None:
    """Killed inside `git worktree add`: git's lock still says "initializing" and the
    worktree's index.lock is left behind. The token note recognises it all the same."""
    (repo / "hold.py").write_text(HOLDER, encoding="utf-8")
    proc, path = _hold(repo, "sweep")
    admin = _admin_entry(repo, path)
    (admin / "locked").write_text("initializing", encoding="utf-8")
    (admin / "index.lock").write_bytes(b"")
    _kill(proc)
    assert ledger_cli(repo, "status").returncode == 0
    assert not admin.exists() and not path.parent.exists()
    assert str(path) not in git(repo, "worktree", "list")


def test_forged_worktree_files_never_make_ledger_delete_outside_the_repository(repo: Path, tmp_path: Path) -> None:
    """`.git/worktrees/*/{locked,gitdir}` naming a dead "ledger pid" and a directory outside:
    no command removes that directory, and reading does not even look."""
    victim = tmp_path / "ledger-sweep-victim" / "precious"
    victim.mkdir(parents=True)
    (victim / "thesis.tex").write_text("years of work", encoding="utf-8")
    admin = repo / ".git" / "worktrees" / "forged"
    admin.mkdir(parents=True)
    (admin / "gitdir").write_text(f"{victim}/.git\n", encoding="utf-8")
    (admin / "locked").write_text(_dead_owner(), encoding="utf-8")
    (admin / "HEAD").write_text(git(repo, "rev-parse", "HEAD") + "\n", encoding="utf-8")
    (admin / "commondir").write_text("../..\n", encoding="utf-8")
    # and a forged ledger note, pointing at the same place (no token file there)
    notes = repo / ".git" / gitstore.worktree.NOTES_DIR
    notes.mkdir()
    (notes / "abc.json").write_text(
        f'{{"path": "{victim}", "temp": "{victim.parent}", "token": "abc", "owner": "{_dead_owner()}"}}',
        encoding="utf-8",
    )
    for command in (["ls"], ["top", "-m", "auc"], ["status"], ["commit"]):
        ledger_cli(repo, *command)
        assert (victim / "thesis.tex").read_text(encoding="utf-8") == "years of work", command


OWNED_SIDECAR = ".ledger-owner"


def test_leftovers_of_killed_runs_are_cleaned_so_git_add_all_commits_nothing(repo: Path) -> None:
    month = repo / "experiments" / "2026-11"
    dead_sidecar = month / "20261127-051203-early-7f3a9c"
    dead_sidecar.mkdir(parents=True)
    (dead_sidecar / OWNED_SIDECAR).write_text(_dead_owner(), encoding="utf-8")
    (dead_sidecar / "code.patch").write_text("diff --git a/x b/x\n", encoding="utf-8")
    live_sidecar = month / "20261127-051204-starting-8a3b9c"
    live_sidecar.mkdir()
    from ledger.core import processes

    (live_sidecar / OWNED_SIDECAR).write_text(processes.owner(), encoding="utf-8")  # this test: alive
    dead_pid = int(_dead_owner().split()[2])
    half = month / f".20261127-051205-x-9c9c9c.yaml.{dead_pid}.ab_cd123.tmp"
    half.write_text("schema_version: 1\nid: 2026", encoding="utf-8")
    fresh = month / f".20261127-051206-y-9d9d9d.yaml.{os.getpid()}.zz_zz999.tmp"
    fresh.write_text("being written", encoding="utf-8")
    # `ledger run -p` killed while it wrote its overrides into the params file
    half_params = repo / f".params.yaml.{dead_pid}.q1w2e3.tmp"
    half_params.write_text("lr: 0.", encoding="utf-8")
    fresh_params = repo / f".params.yaml.{os.getpid()}.r4t5y6.tmp"
    fresh_params.write_text("lr: 0.2", encoding="utf-8")

    assert ledger_cli(repo, "ls").returncode == 0
    assert dead_sidecar.is_dir() and half.exists() and half_params.exists()  # reading cleans nothing
    status = ledger_cli(repo, "status", "--format", "json")
    assert status.returncode == 0, status.stderr
    assert not dead_sidecar.exists() and not half.exists() and not half_params.exists()
    assert live_sidecar.is_dir() and fresh.exists() and fresh_params.exists()  # their writer is alive
    cleaned = status.stdout
    assert "20261127-051203-early-7f3a9c" in cleaned and half.name in cleaned


def test_a_run_killed_during_capture_leaves_nothing_after_the_next_write(repo: Path) -> None:
    """A real run killed with SIGKILL before its record exists (the capture is slow here:
    a sitecustomize hook stops it there), then `ledger status`: experiments/ is clean."""
    hook = repo / "slowcapture"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        "import time\n"
        "import ledger.write.context as c\n"
        "_orig = c.capture_context\n"
        "def slow(*a, **k):\n"
        "    print('CAPTURING', flush=True)\n"
        "    time.sleep(60)\n"
        "c.capture_context = slow\n",
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": f"{hook}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    proc = subprocess.Popen([sys.executable, "-c", "import ledger\nwith ledger.start_run(name='early'):\n    pass\n"],
                            cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "CAPTURING"
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    left = [p for p in (repo / "experiments").rglob("*") if p.is_file()]
    assert left  # the sidecar folder with its owner note
    assert ledger_cli(repo, "status").returncode == 0
    assert not [p for p in (repo / "experiments").rglob("*") if p.is_file()]
    git(repo, "add", "-A")
    assert "experiments" not in git(repo, "diff", "--cached", "--name-only")
