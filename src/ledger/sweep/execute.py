"""`ledger sweep`: run a grid or random search, each point a real `ledger run` process.

The plan (see `ledger.sweep.plan`) is expanded the same way on every machine, sharded,
and every point that was already done (a finished run with the same command, params,
code tree and data: `ledger.write.duplicates`) is skipped, so an interrupted sweep resumes by
running only what is missing. `jobs` points run at once. When several run at once and
they would share a params file (a `dvc` command reads it itself; in a DVC pipeline each
point's `ledger run -p` writes its overrides into it), each point runs in its own temporary
worktree (`ledger.sweep.worktree`), so no point sees another's params; with worktrees
turned off, such points run one at a time. Point logs live in `ledger.write.sweep_logs`.

The library never prints: progress goes to the `on_result` callback.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from ledger.core import naming, record
from ledger.core.workspace import Workspace
from ledger.dvc.pipeline import DVC_YAML, is_dvc_command
from ledger.errors import LedgerError, LedgerWarning, RecordError, UsageError
from ledger.read import api
from ledger.sweep import plan as sweep_plan
from ledger.sweep.plan import Point
from ledger.sweep.worktree import Worktrees
from ledger.write import duplicates, sweep_logs
from ledger.write.capture import params
from ledger.write.tracking import ENV_ROOT, ENV_RUN_DIR, ENV_RUN_ID

POLL_S = 0.05
TAIL_LINES = 12
_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@dataclass(frozen=True)
class SweepOptions:
    """What `ledger sweep` was asked to do."""

    argv: list[str]
    specs: list[str]
    random_count: int | None = None
    seed: int = 0
    jobs: int = 1
    shard: tuple[int, int] | None = None
    name: str | None = None
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    force: bool = False
    worktree: bool | None = None  # None: automatic (see `placement`)
    live_output: bool | None = None  # None: children write to the terminal when jobs == 1
    optimize: Any = None  # sweep_optimize.OptimizeOptions for `--optimize METRIC`

    @property
    def isolate(self) -> bool:
        """Worktrees as the options alone decide (`placement` also weighs the checkout)."""
        if self.worktree is not None:
            return self.worktree
        return self.jobs > 1 and is_dvc_command(self.argv)


@dataclass
class PointResult:
    """How one point went: `skipped` (done before), or its run's status, or `refused` /
    `missing` when its `ledger run` left no record."""

    point: Point
    state: str
    run_id: str | None = None
    record: dict[str, Any] | None = None
    exit_code: int | None = None
    log_tail: str = ""


@dataclass
class SweepReport:
    sweep_id: str
    planned: int  # points in the whole plan
    selected: int  # points in this shard
    results: list[PointResult] = field(default_factory=list)
    interrupted: bool = False
    study: str | None = None  # --optimize: the study's name, its best (trial, value), trials by state
    best: tuple[int, float] | None = None
    trials: dict[str, int] = field(default_factory=dict)

    def count(self, state: str) -> int:
        return sum(1 for r in self.results if r.state == state)

    @property
    def ok(self) -> bool:
        return not self.interrupted and all(r.state in ("skipped", "finished", "pruned") for r in self.results)


@dataclass
class _Child:
    point: Point
    proc: subprocess.Popen[bytes]
    directory: Path  # the checkout the run writes its record into
    before: set[str]
    log: Path | None
    worktree: Path | None


def params_file_written(ws: Workspace) -> bool:
    """Whether each point's `ledger run -p` writes its overrides into this checkout's
    params file: in a DVC pipeline (`ledger.write.overrides`)."""
    return (ws.root / DVC_YAML).is_file()


def placement(ws: Workspace, opts: SweepOptions) -> tuple[bool, int]:
    """(run each point in its own worktree, how many points at once). Points that run at
    once never share a params file that is overridden for them: they get worktrees unless
    `--no-worktree` says otherwise, and then they run one at a time."""
    if opts.jobs == 1 or opts.isolate or not params_file_written(ws):
        return opts.isolate, opts.jobs
    if opts.worktree is None:
        return True, opts.jobs
    warnings.warn(
        f"-j {opts.jobs} with --no-worktree: the points run one at a time, as each writes its -p "
        f"overrides into {ws.config.params_file} of this checkout; drop --no-worktree to run them "
        "at once, each in its own worktree", LedgerWarning, stacklevel=2,
    )  # fmt: skip
    return False, 1


def check_options(opts: SweepOptions) -> None:
    if not opts.argv:
        raise UsageError("nothing to run: write `ledger sweep -p key=v1,v2 -- COMMAND [ARGS...]`")
    if opts.jobs < 1:
        raise UsageError("-j needs a positive number of parallel runs")


def plan(ws: Workspace, opts: SweepOptions) -> tuple[str, list[Point], list[Point]]:
    """(sweep id, the whole plan, this shard's points). UsageError, before anything runs,
    for a key the params file does not have (`-p +key=...` adds one)."""
    check_options(opts)
    points = sweep_plan.plan(opts.specs, random_count=opts.random_count, seed=opts.seed)
    if points:
        params.check_against_file(ws.root, ws.config.params_file, list(points[0].overrides))
    selected = sweep_plan.shard(points, *opts.shard) if opts.shard else list(points)
    sid = sweep_plan.sweep_id(opts.argv, opts.specs, opts.random_count, opts.seed)
    return sid, points, selected


def done_before(ws: Workspace, opts: SweepOptions, points: list[Point]) -> dict[int, dict[str, Any]]:
    """Point index -> the finished record that already did it (none with --force)."""
    if opts.force or not points:
        return {}
    loaded = api.load(ws)
    code = duplicates.current_code(ws)
    data = duplicates.current_data(ws)
    found = {}
    for point in points:
        ident = duplicates.identity(ws, opts.argv, list(point.overrides), code=code, data=data)
        # A sweep's own points are found by their code tree even when the code is
        # uncommitted: the tree pins it down, and resuming must work either way.
        earlier = duplicates.find(ident, loaded, clean_only=False)
        if earlier is not None:
            found[point.index] = earlier
    return found


def _record_files(directory: Path) -> set[str]:
    base = directory / record.RECORDS_DIR
    return {p.relative_to(directory).as_posix() for p in base.glob("[0-9]*-[0-9]*/*.yaml")}


class _Runner:
    """Runs points as `ledger run` children, `opts.jobs` at a time. `point_env` adds
    variables to a point's environment; `on_launch` hears of each point's process as it
    starts, `on_finish` of each point's end first."""

    point_env: Callable[[Point], dict[str, str]] | None = None
    on_launch: Callable[[Point, int], None] | None = None  # the point and its process id
    on_finish: Callable[[PointResult], None] | None = None
    force: bool = False  # pass --force to every point

    def __init__(self, ws: Workspace, opts: SweepOptions, sid: str,
                 on_result: Callable[[PointResult], None] | None):  # fmt: skip
        self.ws = ws
        self.opts = opts
        self.sid = sid
        self.on_result = on_result
        self.dims = sweep_plan.parse_dimensions(opts.specs)
        self.base = opts.name or (None if ws.config.naming else naming.default_name(opts.argv))
        self.live = opts.live_output if opts.live_output is not None else opts.jobs == 1
        isolate, self.jobs = placement(ws, opts)
        self.worktrees = Worktrees(ws) if isolate else None
        self.running: list[_Child] = []
        self.stop_signal: int | None = None
        self.logs = sweep_logs.create(ws.root) if not self.live else None

    # ------------------------------------------------------------------ one point

    def command(self, point: Point) -> list[str]:
        args = [sys.executable, "-m", "ledger", "run"]
        if self.base:  # else the ledger.yaml naming template names each run
            args += ["--name", sweep_plan.point_name(self.base, point, self.dims)]
        if self.opts.description:
            args += ["--desc", self.opts.description]
        tags = {**self.opts.tags, "sweep": self.sid, "sweep_point": str(point.index)}
        for key, value in sorted(tags.items()):
            args += ["--tag", f"{key}={value}"]
        for override in point.overrides:
            args += ["-p", override]
        if self.opts.force or self.force:
            args.append("--force")
        return [*args, "--", *self.opts.argv]

    def launch(self, point: Point) -> _Child:
        worktree = self.worktrees.create() if self.worktrees else None
        directory = worktree or self.ws.root
        cwd = directory / self.ws.cwd_relative() if worktree else Path.cwd()
        env = {k: v for k, v in os.environ.items() if k not in (ENV_RUN_ID, ENV_RUN_DIR, ENV_ROOT)}
        if self.point_env is not None:
            env.update(self.point_env(point))
        log = self.logs / f"point-{point.index}.log" if self.logs is not None else None
        before = _record_files(directory)
        out: Any = None
        try:
            if log is not None:
                out = open(log, "wb")  # closed right after the child starts
            proc = subprocess.Popen(
                self.command(point), cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                stdout=out, stderr=subprocess.STDOUT if out else None,
            )  # fmt: skip
        except OSError as exc:
            if worktree is not None and self.worktrees is not None:
                self.worktrees.remove(worktree)
            raise LedgerError(f"could not start a sweep point: {exc}") from None
        finally:
            if out is not None:
                out.close()
        if self.on_launch is not None:
            self.on_launch(point, proc.pid)
        return _Child(point, proc, directory, before, log, worktree)

    def finish(self, child: _Child) -> PointResult:
        result = PointResult(child.point, "missing", exit_code=child.proc.returncode)
        if child.log is not None:
            lines = child.log.read_text("utf-8", "replace").splitlines()
            result.log_tail = "\n".join(lines[-TAIL_LINES:])
        rec = self.find_record(child)
        if rec is not None:
            result.state, result.run_id, result.record = rec["status"], rec["id"], rec
        elif "already done" in result.log_tail:
            result.state = "refused"
        if child.worktree is not None and self.worktrees is not None:
            try:
                if rec is not None:
                    self.worktrees.harvest(child.worktree, rec["id"])
            finally:
                self.worktrees.remove(child.worktree)
        return result

    def find_record(self, child: _Child) -> dict[str, Any] | None:
        for relpath in sorted(_record_files(child.directory) - child.before):
            try:
                rec = api.parse_record((child.directory / relpath).read_bytes(), relpath, relpath)
            except (RecordError, OSError):
                continue
            tags = rec.get("tags") or {}
            if tags.get("sweep") == self.sid and tags.get("sweep_point") == str(child.point.index):
                return rec
        return None

    # ------------------------------------------------------------------ the loop

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.stop_signal is None:
            self.stop_signal = signum
        for child in self.running:
            if child.proc.poll() is None:
                try:
                    child.proc.send_signal(signal.SIGINT if signum == signal.SIGINT else signal.SIGTERM)
                except ProcessLookupError:
                    pass

    def run(self, todo: list[Point] | Callable[[], Point | None], report: SweepReport) -> None:
        """Run `todo`: a list of points, or a function giving the next point (None: no more)."""
        if isinstance(todo, list):
            pending = deque(todo)

            def take() -> Point | None:
                return pending.popleft() if pending else None

        else:
            take = todo
        exhausted = False
        handlers = {}
        if threading.current_thread() is threading.main_thread():
            handlers = {s: signal.signal(s, self.on_signal) for s in _SIGNALS}
        try:
            while (not exhausted and self.stop_signal is None) or self.running:
                while not exhausted and self.stop_signal is None and len(self.running) < self.jobs:
                    point = take()
                    if point is None:
                        exhausted = True
                    else:
                        self.running.append(self.launch(point))
                time.sleep(POLL_S)
                for child in [c for c in self.running if c.proc.poll() is not None]:
                    self.running.remove(child)
                    result = self.finish(child)
                    if self.on_finish:
                        self.on_finish(result)
                    report.results.append(result)
                    if self.on_result:
                        self.on_result(result)
        finally:
            for signum, handler in handlers.items():
                signal.signal(signum, handler)
            for child in self.running:  # only after an unexpected error: leave nothing behind
                child.proc.kill()
                child.proc.wait()
            if self.worktrees is not None:
                self.worktrees.close()
            if self.logs is not None:
                sweep_logs.remove(self.logs)
        report.interrupted = self.stop_signal is not None


def run_sweep(
    ws: Workspace,
    opts: SweepOptions,
    on_result: Callable[[PointResult], None] | None = None,
) -> SweepReport:
    """Expand, skip what was done, run the rest `opts.jobs` at a time; SIGINT/SIGTERM stop
    launching, reach the running points (recorded as killed) and end the sweep early."""
    if opts.optimize is not None:
        from ledger.sweep.optimize import run_optimize

        return run_optimize(ws, opts, on_result)
    sid, points, selected = plan(ws, opts)
    report = SweepReport(sid, len(points), len(selected))
    earlier = done_before(ws, opts, selected)
    todo = []
    for point in selected:
        if point.index in earlier:
            rec = earlier[point.index]
            result = PointResult(point, "skipped", rec["id"], rec)
            report.results.append(result)
            if on_result:
                on_result(result)
        else:
            todo.append(point)
    if todo:
        _Runner(ws, opts, sid, on_result).run(todo, report)
    report.results.sort(key=lambda r: r.point.index)
    return report
