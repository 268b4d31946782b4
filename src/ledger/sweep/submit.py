"""`ledger sweep --submit slurm|local`: one job array, one task per shard, through submitit
(the one module that imports it; `pip install 'ledger-ml[cluster]'`).

One `map_array` call submits the N tasks. Each task, on its node, clones the project's
remote into a fresh node-local directory (never a checkout shared between nodes), checks
out the commit the sweep was submitted from, runs its shard (`ledger sweep --shard K/N`,
or, for `--optimize`, one more worker of the shared study), and `ledger push`es the
records: the push replays them onto whatever the other tasks pushed first, never forced,
retrying with a jittered back-off. `--submit local` runs the same tasks with submitit's
local executor (processes on this machine), which is how it is tested without a scheduler.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger import gitstore
from ledger.core.workspace import Workspace
from ledger.errors import LedgerError, UsageError

KINDS = ("slurm", "local")
SUBMIT_DIR = "ledger-submit"
TAIL = 2000


@dataclass(frozen=True)
class Task:
    """What one array task does (pickled to the node)."""

    url: str
    branch: str
    commit: str
    cwd: str  # where in the project the sweep runs
    args: tuple[str, ...]  # `ledger sweep` arguments for this task
    shard: int


@dataclass
class TaskResult:
    shard: int
    sweep_exit: int
    push_exit: int | None
    output: str = ""  # the tail of what the task's ledger commands wrote

    @property
    def ok(self) -> bool:
        return self.sweep_exit == 0 and self.push_exit == 0


@dataclass
class Submission:
    kind: str
    folder: Path
    job_ids: list[str] = field(default_factory=list)
    results: list[TaskResult] = field(default_factory=list)


def run_task(task: Task) -> TaskResult:
    """On the node: clone, run this shard, push, clean up."""
    base = Path(tempfile.mkdtemp(prefix="ledger-task-"))
    try:
        clone = base / "project"
        gitstore.clone_at(task.url, clone, task.branch, task.commit)
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_RUN_")}
        sweep = subprocess.run([sys.executable, "-m", "ledger", "sweep", *task.args], cwd=clone / task.cwd,
                               env=env, capture_output=True, text=True)  # fmt: skip
        # Push whatever was recorded, even when some points failed: they are records too.
        push = subprocess.run([sys.executable, "-m", "ledger", "push"], cwd=clone, env=env,
                              capture_output=True, text=True)  # fmt: skip
        output = (sweep.stderr + push.stderr)[-TAIL:]
        return TaskResult(task.shard, sweep.returncode, push.returncode, output)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def prepare(ws: Workspace, remote: str | None = None) -> tuple[str, str, str]:
    """(remote URL, branch, commit) the tasks start from; refuses what a clone would not see."""
    state = gitstore.head_state(ws.root)
    if state.pending_reason or state.branch is None or state.commit is None:
        raise LedgerError(f"cannot submit: {state.pending_reason or 'no branch'}: check out your branch first")
    branch = state.branch
    remote = remote or gitstore.config_get(ws.root, f"branch.{branch}.remote") or "origin"
    url = gitstore.remote_url(ws.root, remote)
    if url is None:
        raise LedgerError(f"no remote {remote!r}: the tasks clone the project from it: `git remote add {remote} URL`")
    changed = [p for p in gitstore.untracked_and_modified(ws.root, ".") if not p.startswith("experiments/")]
    tracked_changes = [p for p in changed if gitstore.ls_files(ws.root, [p])]
    if tracked_changes:
        raise LedgerError(
            f"{len(tracked_changes)} file(s) changed since your last commit (first: {tracked_changes[0]}): "
            "the tasks run committed code: commit and `git push`, then submit"
        )
    tip = gitstore.fetch_branch(ws.root, remote, branch)
    if tip is None or not gitstore.is_ancestor(ws.root, state.commit, tip):
        raise LedgerError(f"{remote} does not have your commit {state.commit[:8]} yet: `git push`, then submit")
    return url, branch, state.commit


def _import_submitit() -> Any:
    try:
        import submitit
    except ImportError:
        raise LedgerError("--submit needs submitit: `pip install 'ledger-ml[cluster]'`") from None
    return submitit


def submit(ws: Workspace, kind: str, task_args: Sequence[Sequence[str]], *,
           folder: Path | None = None, parameters: dict[str, Any] | None = None,
           wait: bool = False) -> Submission:  # fmt: skip
    """Submit one task per entry of `task_args` as one job array; wait for them (always
    for `local`) and collect their results."""
    if kind not in KINDS:
        raise UsageError(f"--submit {kind}: choose one of {', '.join(KINDS)}")
    url, branch, commit = prepare(ws)
    submitit = _import_submitit()
    folder = folder or gitstore.common_dir(ws.root) / SUBMIT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "local":
        executor = submitit.LocalExecutor(folder=str(folder / "%j"))
    else:
        executor = submitit.AutoExecutor(folder=str(folder / "%j"), cluster="slurm")
    try:
        executor.update_parameters(**(parameters or {}))
    except (TypeError, ValueError) as exc:
        raise UsageError(f"--submit-opt: {exc}") from None
    cwd = ws.cwd_relative()
    tasks = [Task(url, branch, commit, cwd, tuple(args), n + 1) for n, args in enumerate(task_args)]
    jobs = executor.map_array(run_task, tasks)
    result = Submission(kind, folder, [str(job.job_id) for job in jobs])
    if kind == "local" or wait:
        for job, task in zip(jobs, tasks):
            try:
                result.results.append(job.result())
            except Exception as exc:  # noqa: BLE001 - a task that died: its log says why
                result.results.append(TaskResult(task.shard, 1, None, f"{type(exc).__name__}: {exc}"[-TAIL:]))
    return result
