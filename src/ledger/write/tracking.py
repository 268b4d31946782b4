"""The run lifecycle behind `ledger.start_run` and `ledger run`.

A `Run` either owns its record (it captured the context, it writes the outcome and commits)
or is attached to one owned by a parent `ledger run` process (it only appends to the
journal). Both expose the same logging API. Whatever happens, the outcome is recorded:
an exception in the `with` block is `failed` (and still propagates), SIGINT/SIGTERM is
`killed`, and a process that dies without a word is found later as `crashed`.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import resource
import shutil
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

from ledger.core import journal, naming, processes, record, yamlio
from ledger.core.fields import deep_merge
from ledger.core.redact import redactor
from ledger.core.workspace import Workspace
from ledger.errors import LedgerError
from ledger.write import system, unended
from ledger.write import trial as sweep_trial
from ledger.write.artifacts import store_artifact
from ledger.write.context import capture_context, effective_params, store_env_document
from ledger.write.datasets import dataset_stats
from ledger.write.finalize import Committed, build, commit_record, write_final
from ledger.write.names import check_metric_name, tag_mapping
from ledger.write.outcome import RunInterrupted, outcome_of, raise_interrupted

HEARTBEAT_S = 10.0
FLUSH_S = 1.0
FLUSH_POINTS = 20_000

ENV_RUN_ID = "LEDGER_RUN_ID"
ENV_RUN_DIR = "LEDGER_RUN_DIR"
ENV_ROOT = "LEDGER_ROOT"

_active: list[Run] = []
_attached: dict[str, Run] = {}


def _rusage() -> tuple[float, int]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
    return cpu, max(own.ru_maxrss, kids.ru_maxrss) * 1024


class Run:
    """One run. Use `ledger.start_run(...)` rather than constructing it directly."""

    recording = True  # False for the run of a distributed job's rank other than 0

    def __init__(self, ws: Workspace, run_id: str, sidecar: Path, *, owner: bool):
        self.ws = ws
        self.id = run_id
        self._dir = sidecar
        self._owner = owner
        self._lock = threading.Lock()
        self._buffer: list[str] = []
        self._last_flush = time.monotonic()
        self._steps: dict[str, int] = {}
        self._names: set[str] = set()
        self._t0 = time.time()
        self._ended = False
        self._fold = journal.Fold()
        self._context: dict[str, Any] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._old_handlers: dict[int, Any] = {}
        self._cpu0, _ = _rusage()
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
        overrides = list(overrides or [])
        tags = tag_mapping(tags)  # bad input fails before anything is written
        effective = effective_params(ws, overrides, params)
        started = started or record.utcnow()
        if not name and ws.config.naming:
            name = naming.render(ws.config.naming, params=effective, tags=tags or {}, when=started)
        name = name or naming.default_name(argv if argv is not None else sys.argv[:1])
        # What the user typed never carries a secret into the id, the commit or the files
        # written while the run is alive; only the params stay whole, for the child.
        hide = redactor(ws.config.secrets)
        name = hide.text(name)
        description = hide.text(description) if description else description
        tags = hide.value(tags)
        run_id = record.new_id(name, started)
        sidecar = record.sidecar_dir(run_id)
        ws.path(sidecar).mkdir(parents=True, exist_ok=True)
        # Named first thing: if this process is killed before its record exists, the next
        # write command knows the folder is a dead run's leftover (`liveness.tidy`).
        (ws.path(sidecar) / journal.OWNER_FILE).write_text(processes.owner(), encoding="utf-8")
        try:
            captured, env_document = capture_context(ws, sidecar, params=effective, argv=argv, overrides=overrides)
            store_env_document(ws, captured.get("env"), env_document)
        except BaseException:
            shutil.rmtree(ws.path(sidecar), ignore_errors=True)  # a failed start leaves no folder behind
            raise
        trial = sweep_trial.from_env()
        if trial is not None:  # a trial of `ledger sweep --optimize`
            fields = {"trial": trial.record_field(), **(fields or {})}
        context = {
            "id": run_id,
            "name": name,
            "description": description,
            "tags": tags,
            "experiment": experiment or ws.config.experiment,
            "status": "running",
            "baseline": bool(baseline),
            "started_at": record.timestamp(started),
            **captured,
            **(fields or {}),
        }
        run = cls(ws, run_id, ws.path(sidecar), owner=True)
        run._t0 = started.timestamp()
        run._context = context
        journal.write_context(run._dir, context)
        run._write_snapshot()
        interval = system.interval_from(ws.config.system_interval)
        if interval > 0:
            path = run._dir / system.SYSTEM_FILE
            run.system = system.Sampler(path, run._t0, interval).start()
        run._thread = threading.Thread(target=run._beat, name="ledger-heartbeat", daemon=True)
        run._thread.start()
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
        run = cls(ws, run_id, Path(directory), owner=False)
        context = journal.read_context(run._dir) or {}
        run._context = context
        trial = sweep_trial.from_env()
        if trial is not None:
            run._reporter = sweep_trial.Reporter(trial)
        started = context.get("started_at")
        if isinstance(started, str):
            run._t0 = record.parse_timestamp(started) or run._t0
        run._thread = threading.Thread(target=run._beat, name="ledger-flush", daemon=True)
        run._thread.start()
        _attached[run_id] = run
        unended.install(_active)
        return run

    # ------------------------------------------------------------------ logging API

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

    def log_params(self, params: dict[str, Any]) -> None:
        if not isinstance(params, dict):
            raise LedgerError("log_params takes a mapping of names to values")
        self._event("params", {"params": _jsonable(params)})

    def log_param(self, key: str, value: Any) -> None:
        self.log_params({key: value})

    def log_metric(self, name: str, value: Any, step: int | None = None, *, timestamp: float | None = None) -> None:
        """One metric point. Without `step`, each metric counts its own steps from 0;
        `timestamp` (seconds since the epoch) is when it was measured, default now."""
        if name not in self._names:
            check_metric_name(name)
            self._names.add(name)
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise LedgerError(f"metric {name} must be a number, not {value!r}") from None
        with self._lock:
            if step is None:
                step = self._steps.get(name, -1) + 1
            else:
                step = int(step)
            self._steps[name] = step
            moment = time.time() if timestamp is None else timestamp
            self._buffer.append(f"{step}\t{name}\t{number!r}\t{moment - self._t0:.3f}\n")
            if len(self._buffer) >= FLUSH_POINTS:
                self._flush_locked()
        if self._reporter is not None and name == self._reporter.metric:
            self._reporter.report(self._dir, number, step)  # may raise TrialPruned

    def log_metrics(self, metrics: dict[str, Any], step: int | None = None) -> None:
        for name, value in metrics.items():
            self.log_metric(name, value, step)

    def log_artifact(
        self, path: str | os.PathLike[str], kind: str = "artifact", name: str | None = None
    ) -> dict[str, Any]:
        entry = store_artifact(self.ws, record.sidecar_dir(self.id), path, kind=kind, name=name)
        self._event("artifact", {"artifact": entry})
        return entry

    def log_dataset(self, name: str, data: Any, target: Any = None, context: str | None = None) -> dict[str, Any]:
        stats = dataset_stats(data, target, context)
        self._event("dataset", {"name": name, "stats": stats})
        return stats

    def log_dataset_stats(self, name: str, stats: dict[str, Any]) -> None:
        """Record a dataset known only by its description (rows, columns, hash, context),
        as a client such as MLflow reports it."""
        self._event("dataset", {"name": str(name), "stats": dict(stats)})

    def set_fields(self, **fields: Any) -> None:
        """Change record fields a client may set while the run is open (`name`,
        `description`, `experiment`)."""
        unknown = set(fields) - {"name", "description", "experiment"}
        if unknown:
            raise LedgerError(f"set_fields cannot set {', '.join(sorted(unknown))}")
        self._event("fields", {"fields": fields})

    def log_cost(self, amount: float, currency: str | None = None, description: str | None = None) -> None:
        if not isinstance(amount, (int, float)) or isinstance(amount, bool) or not math.isfinite(amount):
            raise LedgerError(f"cost amount must be a finite number, not {amount!r}")
        currency = currency or self.ws.config.currency
        self._event("cost", {"cost": {"amount": float(amount), "currency": currency, "description": description}})

    def set_distributed(self, field: dict[str, Any]) -> None:
        """The distributed job this run records for (rank 0 of `world_size`, the launcher),
        known when the rank attaches to a `ledger run`."""
        self._event("fields", {"fields": {"distributed": field}})

    def record_outputs(
        self, *, data: list[dict[str, Any]] | None = None, artifacts: Iterable[dict[str, Any]] = ()
    ) -> None:
        """What a pipeline produced, known after it ran: `data` (the entries from `dvc.lock`
        after the run) supersedes the data captured at start; each artifact entry (already
        stored, as `store_artifact` returns it) is added to the record."""
        if data is not None:
            self._event("fields", {"fields": {"data": data}})
        for entry in artifacts:
            self._event("artifact", {"artifact": entry})

    def set_tag(self, key: str, value: Any = "") -> None:
        self.set_tags({key: value})

    def set_tags(self, tags: dict[str, Any] | list[str] | tuple[str, ...]) -> None:
        """Tags as a mapping (`{"stage": "dev"}`) or a list of names without values
        (`["baseline", "v2"]`, as W&B takes them)."""
        self._event("tags", {"tags": tag_mapping(tags)})

    def note(self, text: str) -> None:
        self._event("note", {"text": str(text)})

    def flush(self) -> None:
        """Write buffered metric points now (they are also written every second)."""
        with self._lock:
            self._flush_locked()

    # ------------------------------------------------------------------ internals

    def _event(self, kind: str, payload: dict[str, Any]) -> None:
        if self._ended:
            raise LedgerError(f"run {self.id} has ended: start a new run to log more")
        journal.write_event(self._dir, kind, payload)

    def _flush_locked(self) -> None:
        if self._buffer:
            series = self._dir / journal.SERIES_FILE
            text = "".join(self._buffer)
            if not series.exists():
                text = journal.SERIES_HEADER + text
            journal.append(series, text)
            self._buffer = []
        self._last_flush = time.monotonic()

    def _beat(self) -> None:
        last_snapshot = time.monotonic()
        while not self._stop.wait(FLUSH_S):
            try:
                self.flush()
                if self._owner and time.monotonic() - last_snapshot >= HEARTBEAT_S:
                    self._write_snapshot()
                    last_snapshot = time.monotonic()
            except Exception:  # noqa: BLE001 - the heartbeat must never kill training
                continue

    def _write_snapshot(self) -> None:
        """The `running` record on disk, with what is known so far and a heartbeat."""
        with self._lock:
            self._fold.update(self._dir)
            snapshot = dict(self._context)
            params = deep_merge(snapshot.get("params") or {}, self._fold.params)
            snapshot["params"] = redactor(self.ws.config.secrets).value(params)
            snapshot["metrics"] = self._fold.metrics()
            snapshot["process"] = {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "heartbeat_at": record.timestamp(record.utcnow()),
            }
        yamlio.dump_file(self.path, record.canonical(snapshot))

    # ------------------------------------------------------------------ ending

    def end(
        self,
        status: str = "finished",
        error: dict[str, Any] | None = None,
        resources: dict[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """Record the outcome and (owner) write and commit the final record."""
        if self in _active:
            _active.remove(self)  # a later `ledger.log_*` starts a new run, as in MLflow
        if self._ended:
            return self.record
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self.flush()
        if error and not self._owner:
            journal.write_event(self._dir, "error", {"error": error})
        self._ended = True
        self.status = status
        if not self._owner:
            return None
        self._stop_system()
        ended = record.utcnow()
        wall = round(ended.timestamp() - self._t0, 3)
        if resources is None:
            cpu, rss = _rusage()
            resources = {"wall_s": wall, "cpu_s": round(cpu - self._cpu0, 3), "peak_rss_bytes": rss}
        elif resources.get("wall_s") is None:
            resources = {**resources, "wall_s": wall}
        fold = journal.Fold()
        fold.update(self._dir)
        if fold.pruned_step is not None and status in ("finished", "failed"):
            status, error = "pruned", None  # the pruner stopped it: not a failure
        rec = build(
            self.ws,
            self._context,
            fold,
            status=status,
            ended_at=record.timestamp(ended),
            duration_s=ended.timestamp() - self._t0,
            error=error,
            resources=resources,
        )
        write_final(self.ws, rec, keep_series=fold.has_steps)
        self.record = rec
        self.committed = commit_record(self.ws, rec)
        return rec

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
        if self._owner and threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGHUP):
                if signal.getsignal(signum) in (signal.SIG_DFL, None):
                    self._old_handlers[signum] = signal.signal(signum, raise_interrupted)
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
            for signum, handler in self._old_handlers.items():
                signal.signal(signum, handler)
        if isinstance(exc, RunInterrupted):
            # Die of the signal, as the process would have without ledger.
            os.kill(os.getpid(), exc.signum)


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


def _jsonable(value: Any) -> Any:
    """Params as plain JSON-compatible values (numpy scalars, tuples, paths made plain)."""
    return json.loads(json.dumps(value, default=_plain, allow_nan=True))


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)
    if callable(item):
        return item()
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    return str(value)
