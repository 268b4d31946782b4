"""Starting a run that owns its record: its name, its id, its sidecar folder and the
context captured at start (code, data, params, env, hardware, author), which becomes the
`running` record. A failed start leaves nothing behind."""

from __future__ import annotations

import datetime
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.core import journal, naming, processes, record
from ledger.core.redact import redactor
from ledger.core.workspace import Workspace
from ledger.write import trial as sweep_trial
from ledger.write.context import capture_context, effective_params, store_env_document
from ledger.write.names import tag_mapping


@dataclass(frozen=True)
class Started:
    run_id: str
    sidecar: Path  # the sidecar folder, absolute
    context: dict[str, Any]  # the record's fields known at start
    t0: float  # the start, in seconds since the epoch


def prepare(
    ws: Workspace,
    *,
    name: str | None,
    description: str | None,
    tags: dict[str, Any] | list[str] | None,
    experiment: str | None,
    params: dict[str, Any] | None,
    overrides: list[str],
    argv: list[str] | None,
    baseline: bool,
    fields: dict[str, Any] | None,
    started: datetime.datetime | None,
) -> Started:
    """Name the run, make its sidecar (with the owner file first) and capture its context."""
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
    sidecar = ws.path(record.sidecar_dir(run_id))
    sidecar.mkdir(parents=True, exist_ok=True)
    # Named first thing: if this process is killed before its record exists, the next
    # write command knows the folder is a dead run's leftover (`liveness.tidy`).
    (sidecar / journal.OWNER_FILE).write_text(processes.owner(), encoding="utf-8")
    try:
        captured, env_document = capture_context(
            ws, record.sidecar_dir(run_id), params=effective, argv=argv, overrides=overrides
        )
        store_env_document(ws, captured.get("env"), env_document)
    except BaseException:
        shutil.rmtree(sidecar, ignore_errors=True)  # a failed start leaves no folder behind
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
    return Started(run_id, sidecar, context, started.timestamp())
