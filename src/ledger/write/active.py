"""The module-level API: `ledger.start_run`, the active run and `ledger.params()`.

As in MLflow, a `ledger.log_*` call with no active run starts one, and a run that is never
ended ends with the process (`ledger.write.unended`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ledger import gitstore
from ledger.core.workspace import Workspace
from ledger.write import ranks, system
from ledger.write.context import effective_params
from ledger.write.tracking import ENV_RUN_DIR, Run, activate, active_runs, innermost


def start_run(
    name: str | None = None,
    *,
    description: str | None = None,
    tags: dict[str, Any] | list[str] | None = None,
    experiment: str | None = None,
    params: dict[str, Any] | None = None,
    baseline: bool = False,
) -> Run:
    """Start recording a run; use as a context manager so the outcome is recorded.

    `tags` is a mapping (`{"stage": "dev"}`) or a list of names without values
    (`["baseline", "v2"]`). A run never ended ends with the process: `finished`, or
    `failed` after an uncaught exception.

    Inside a process started by `ledger run`, this attaches to that run instead. In a
    distributed job (torchrun, Slurm tasks, MPI) only rank 0 records; the other ranks get
    a run with the same API that records nothing (`run.recording` is False).
    """
    dist = ranks.detect()
    if dist is not None and dist.rank != 0:
        return _rank_run(dist)
    attached = Run.attach()
    if attached is not None:
        if dist is not None:
            attached.set_distributed(dist.record_field())
        activate(attached)
        if tags:
            attached.set_tags(tags)
        if params:
            attached.log_params(params)
        if description:
            attached.set_fields(description=description)
        return attached
    run = Run.create(
        Workspace.find(), name=name, description=description, tags=tags,
        experiment=experiment, params=params, baseline=baseline,
        fields={"distributed": dist.record_field()} if dist is not None else None,
    )  # fmt: skip
    if dist is not None and dist.job and run.system is not None:
        common = gitstore.common_dir(run.ws.root)
        run.rendezvous = system.publish(common, dist.job, run.sidecar, run.started, run.system.interval)
    activate(run)
    return run


def active_run() -> Run | None:
    """The innermost active run, attaching to a parent `ledger run` when there is one."""
    current = innermost()
    if current is not None:
        return current
    dist = ranks.detect()
    if dist is not None and dist.rank != 0:
        return _rank_run(dist)
    attached = Run.attach()
    if attached is not None:
        activate(attached)
    return attached


def _rank_run(dist: ranks.Distributed) -> Run:
    """The one no-op run of this rank (ranks other than 0 record nothing)."""
    from ledger.write.noop import NoOpRun

    for run in active_runs():
        if isinstance(run, NoOpRun):
            return run
    ws = Workspace.find()
    run = NoOpRun(ws, dist)
    interval = system.interval_from(ws.config.system_interval)
    if dist.node_leader and interval > 0:  # the first process of another node samples that node
        attached = os.environ.get(ENV_RUN_DIR)
        directory = Path(attached) if attached else None
        rendezvous = None
        if directory is None and dist.job:
            rendezvous = system.rendezvous_path(gitstore.common_dir(ws.root), dist.job)
        run.node_sampler = system.NodeSampler(dist.rank, directory, rendezvous, interval).start()
    activate(run)
    return run


def require_run() -> Run:
    """The active run; with none, a new one (MLflow's semantics: `log_metric` outside any
    run starts one, which ends with the process unless `end_run()` ends it first)."""
    run = active_run()
    if run is None:
        run = start_run()
    return run


def end_run(status: str = "finished") -> None:
    """End the active run (for runs started without `with`); no active run: nothing to do."""
    run = active_run()
    if run is not None:
        run.end(status)


def params() -> dict[str, Any]:
    """The effective params of the active run; outside one, the params file (+ overrides)."""
    run = active_run()
    if run is not None:
        return run.params()
    ws = Workspace.find()
    return effective_params(ws, [])
