"""The run lifecycle behind `ledger.start_run` and `ledger run`.

A `Run` either owns its record (it captured the context, it writes the outcome and commits)
or is attached to one owned by a parent `ledger run` process (it only appends to the
journal). Both expose the same logging API. Whatever happens, the outcome is recorded:
an exception in the `with` block is `failed` (and still propagates), SIGINT/SIGTERM is
`killed`, and a process that dies without a word is found later as `crashed`.

The parts live beside it: `start` (naming an owner's run and capturing its context),
`run_logging` (the logging API, `Run`'s base), `points` (the metric points buffer),
`heartbeat` (the background flush and the `running` snapshot), `interrupts` (termination
signals), `finalize` (the final record), `unended` (runs never ended).
"""

from __future__ import annotations

import datetime
import os
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from ledger.core import journal, record
from ledger.core.fields import deep_merge
from ledger.core.redact import redactor
from ledger.core.workspace import Workspace
from ledger.write import system, unended
from ledger.write import trial as sweep_trial
from ledger.write.finalize import Committed, finish, rusage
from ledger.write.heartbeat import Heartbeat, write_snapshot
from ledger.write.interrupts import Interrupts, die_of
from ledger.write.outcome import outcome_of
from ledger.write.points import Points
from ledger.write.run_logging import RunLogging
from ledger.write.start import prepare

ENV_RUN_ID = "LEDGER_RUN_ID"
ENV_RUN_DIR = "LEDGER_RUN_DIR"
ENV_ROOT = "LEDGER_ROOT"

__all__ = ["ENV_ROOT", "ENV_RUN_DIR", "ENV_RUN_ID", "Run", "activate", "active_runs", "deactivate", "innermost",
           "outcome_of"]  # fmt: skip

_active: list[Run] = []
_attached: dict[str, Run] = {}


class Run(RunLogging):
    """One run. Use `ledger.start_run(...)` rather than constructing it directly."""

    recording = True  # False for the run of a distributed job's rank other than 0

    def __init__(self, ws: Workspace, run_id: str, sidecar: Path, *, owner: bool,
                 context: dict[str, Any] | None = None, started: float | None = None):  # fmt: skip
        self.ws = ws
        self.id = run_id
        self._dir = sidecar
        self._owner = owner
        self._context: dict[str, Any] = context or {}
        self._t0 = time.time() if started is None else started
        self._points = Points(sidecar, self._t0)
        self._lock = threading.Lock()  # the journal's fold, read by params() and the heartbeat
        self._fold = journal.Fold()
        self._ended = False
        self._heartbeat: Heartbeat | None = None
        self._interrupts = Interrupts()
        self._cpu0, _ = rusage()
        self.status = "running"
        self.record: dict[str, Any] | None = None
        self.committed: Committed | None = None
        self.system: system.Sampler | None = None  # the owner's system-metrics sampler
        self.rendezvous: Path | None = None  # where other nodes of a distributed job learn our sidecar
        self._reporter: sweep_trial.Reporter | None = None  # reports the optimised metric to its trial

    # ------------------------------------------------------------------ creation

    @classmethod
    def create(
        cls,
        ws: Workspace,
        *,
        name: str | None = None,
        description: str | None = None,
        tags: dict[str, Any] | list[str] | None = None,
        experiment: str | None = None,
        params: dict[str, Any] | None = None,
        overrides: list[str] | None = None,
        argv: list[str] | None = None,
        baseline: bool = False,
        fields: dict[str, Any] | None = None,
        started: datetime.datetime | None = None,
    ) -> Run:
        """Capture the context and write the `running` record (owner side).

        `fields` adds record fields known at start (e.g. `reproduces` for a reproduction);
        `started` is the start time when a client (MLflow) already fixed it.
        """
        start = prepare(
            ws, name=name, description=description, tags=tags, experiment=experiment, params=params,
            overrides=list(overrides or []), argv=argv, baseline=baseline, fields=fields, started=started,
        )  # fmt: skip
        run = cls(ws, start.run_id, start.sidecar, owner=True, context=start.context, started=start.t0)
        journal.write_context(run._dir, start.context)
        run._write_snapshot()
        interval = system.interval_from(ws.config.system_interval)
        if interval > 0:
            run.system = system.Sampler(run._dir / system.SYSTEM_FILE, run._t0, interval).start()
        run._heartbeat = Heartbeat(run.flush, run._write_snapshot, "ledger-heartbeat").start()
        unended.install(_active)
        return run

    @classmethod
    def attach(cls) -> Run | None:
        """The run a parent `ledger run` owns, from the environment it gave us (one per
        process, so step counters and buffers are shared by every caller)."""
        run_id, directory = os.environ.get(ENV_RUN_ID), os.environ.get(ENV_RUN_DIR)
        if not run_id or not directory or not record.is_run_id(run_id):
            return None
        cached = _attached.get(run_id)
        if cached is not None and not cached.ended:
            return cached
        root = os.environ.get(ENV_ROOT)
        ws = Workspace(Path(root)) if root else Workspace.find()
        context = journal.read_context(Path(directory)) or {}
        started = context.get("started_at")
        t0 = record.parse_timestamp(started) if isinstance(started, str) else None
        run = cls(ws, run_id, Path(directory), owner=False, context=context, started=t0)
        trial = sweep_trial.from_env()
        if trial is not None:
            run._reporter = sweep_trial.Reporter(trial)
        run._heartbeat = Heartbeat(run.flush, None, "ledger-flush").start()
        _attached[run_id] = run
        unended.install(_active)
        return run

    # ------------------------------------------------------------------ what it is

    @property
    def path(self) -> Path:
        """Where the record is (or will be) written."""
        return self.ws.path(record.record_path(self.id))

    @property
    def sidecar(self) -> Path:
        """The run's sidecar folder (series, patch, artifacts, output log)."""
        return self._dir

    @property
    def started(self) -> float:
        """When the run started, in seconds since the epoch (series times count from it)."""
        return self._t0

    @property
    def name(self) -> str:
        return str(self._context.get("name", self.id))

    @property
    def tags(self) -> dict[str, str]:
        """The tags the run started with (tags logged later are in the journal)."""
        return {str(k): str(v) for k, v in (self._context.get("tags") or {}).items()}

    @property
    def ended(self) -> bool:
        """Whether `end` has been called (nothing more can be logged)."""
        return self._ended

    def params(self) -> dict[str, Any]:
        """The effective params: params file + overrides + params given or logged in code."""
        with self._lock:
            self._fold.update(self._dir)
            return deep_merge(self._context.get("params") or {}, self._fold.params)

    def _write_snapshot(self) -> None:
        """The `running` record on disk, with what is known so far and a heartbeat."""
        with self._lock:
            self._fold.update(self._dir)
            params = deep_merge(self._context.get("params") or {}, self._fold.params)
            metrics = self._fold.metrics()
        write_snapshot(self.path, self._context, redactor(self.ws.config.secrets).value(params), metrics)

    # ------------------------------------------------------------------ ending

    def end(
        self,
        status: str = "finished",
        error: dict[str, Any] | None = None,
        resources: dict[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """Record the outcome and (owner) write and commit the final record."""
        deactivate(self)  # a later `ledger.log_*` starts a new run, as in MLflow
        if self._ended:
            return self.record
        if self._heartbeat is not None:
            self._heartbeat.stop()
        self.flush()
        if error and not self._owner:
            journal.write_event(self._dir, "error", {"error": error})
        self._ended = True
        self.status = status
        if not self._owner:
            return None
        self._stop_system()
        self.record, self.committed = finish(
            self.ws, self._context, self._dir, t0=self._t0, cpu0=self._cpu0, status=status, error=error,
            resources=resources,
        )  # fmt: skip
        return self.record

    def _stop_system(self) -> None:
        if self.rendezvous is not None:
            self.rendezvous.unlink(missing_ok=True)
        if self.system is not None:
            self.system.stop()
            sidecar = record.sidecar_dir(self.id)
            self._context["system"] = self.system.record_field(sidecar, self._dir)

    # ------------------------------------------------------------------ context manager

    def __enter__(self) -> Run:
        activate(self)
        if self._owner:
            self._interrupts.install()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            status, error = outcome_of(exc)
            self.end(status, error)
        finally:
            deactivate(self)
            self._interrupts.restore()
        die_of(exc)  # a signal ended it: die of the signal, as the process would have without ledger


def activate(run: Run) -> None:
    """Make `run` the innermost active run (the one `ledger.log_*` and autolog log into)."""
    if run not in _active:
        _active.append(run)


def deactivate(run: Run) -> None:
    """`run` is no longer active (it ended, or a client closed it)."""
    if run in _active:
        _active.remove(run)


def active_runs() -> tuple[Run, ...]:
    """The active runs of this process, outermost first."""
    return tuple(_active)


def innermost() -> Run | None:
    """The innermost active run in this process, or None."""
    return _active[-1] if _active else None
