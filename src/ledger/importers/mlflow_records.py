"""`ledger import mlflow`: one ledger record per MLflow run, written with ledger's own
record, schema and finalize code, committed in one commit per import.

Idempotent: a run's record id is derived from its MLflow run id (and start time and
name), so importing the same store again finds every record already there and adds
nothing. Runs still RUNNING in MLflow and deleted runs are skipped, with the reason.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
import shutil
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger import gitstore
from ledger.core import journal, record
from ledger.core.redact import redactor, scrub_paths, strip_url_credentials
from ledger.core.workspace import Workspace
from ledger.errors import CommitError, LedgerError, LedgerWarning
from ledger.importers.mlflow_store import MlflowRun, Store, locate, read_runs
from ledger.read import api
from ledger.write import finalize

STATUSES = {"FINISHED": "finished", "FAILED": "failed", "KILLED": "killed"}
SOURCE_TAG = "ledger.imported_from"
RUN_ID_TAG = "mlflow.run_id"
PARENT_TAG = "ledger.parent"
_DESCRIPTION_TAG = "mlflow.note.content"
_SHA = re.compile(r"^[0-9a-f]{40,64}$")
_HEX = re.compile(r"^[0-9a-f]{16,}$")
_WS = re.compile(r"\s+")

Progress = Callable[[int, int], None]


@dataclass
class Summary:
    """What an import did: ids written, and skipped runs counted by reason."""

    source: str
    imported: list[str] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    commit: str | None = None
    pending: str | None = None
    changed: list[str] = field(default_factory=list)  # names and values a record could not keep as they were


def ledger_id(run: MlflowRun, secrets: tuple[str, ...] = ()) -> str:
    """Deterministic: the same MLflow run always gets the same record id (never with a
    secret from the run's name in it)."""
    moment = _moment(run.start_ms) or _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
    stamp = moment.strftime("%Y%m%d-%H%M%S")
    uuid = run.run_uuid.lower().replace("-", "")
    suffix = uuid[:16] if _HEX.match(uuid) else hashlib.sha256(uuid.encode()).hexdigest()[:16]
    name = redactor(secrets).text(run.name or "mlflow-run")
    return f"{stamp}-{record.slugify(name)}-{suffix}"


def _moment(ms: int | None) -> _dt.datetime | None:
    if ms is None:
        return None
    return _dt.datetime.fromtimestamp(ms / 1000.0, tz=_dt.timezone.utc)


def _word(key: str, limit: int) -> str:
    return _WS.sub("_", key.strip())[:limit] or "_"


def record_names(keys: list[str], limit: int, kind: str, changed: list[str]) -> dict[str, str]:
    """MLflow names -> names a record keeps (no whitespace, at most `limit` characters).

    Two MLflow names never become one (`train loss` next to `train_loss` is recorded as
    `train_loss-2`), and every change is noted in `changed`."""
    names: dict[str, str] = {}
    taken = {key for key in keys if _word(key, limit) == key}
    for key in sorted(keys, key=lambda k: (_word(k, limit) != k, k)):
        new = _word(key, limit)
        if new != key:
            base, n = new, 2
            while new in taken:
                suffix = f"-{n}"
                new, n = base[: limit - len(suffix)] + suffix, n + 1
            why = "cut" if len(_WS.sub("_", key.strip())) > limit else "renamed"
            clash = f" ({base!r} is another {kind})" if new != base else ""
            changed.append(f"{kind} {key!r} {why} to {new!r}{clash}")
        taken.add(new)
        names[key] = new
    return names


def _cut(text: str, limit: int, what: str, changed: list[str]) -> str:
    if len(text) > limit:
        changed.append(f"{what} cut from {len(text)} to {limit} characters")
    return text[:limit]


def _skip_reason(run: MlflowRun) -> str | None:
    if run.lifecycle == "deleted":
        return "deleted in MLflow"
    if run.status not in STATUSES:
        return f"{run.status.lower()} in MLflow (import again when it has ended)"
    if run.start_ms is None:
        return "no start time"
    return None


def _tags(ws: Workspace, run: MlflowRun, parent: str | None, changed: list[str]) -> dict[str, str]:
    keys = record_names([k for k in run.tags if k != _DESCRIPTION_TAG], 100, "tag", changed)
    tags = {
        new: _cut(scrub_paths(run.tags[k], ws.root), 2000, f"tag {k!r}", changed) for k, new in sorted(keys.items())
    }
    tags[SOURCE_TAG] = "mlflow"
    tags[RUN_ID_TAG] = run.run_uuid
    tags["mlflow.experiment_id"] = run.experiment_id
    if parent:
        tags[PARENT_TAG] = parent
    return tags


def _code(run: MlflowRun) -> dict[str, Any] | None:
    commit = run.tags.get("mlflow.source.git.commit", "").lower()
    if not _SHA.match(commit):
        return None
    remote = run.tags.get("mlflow.source.git.repoURL")
    return {"commit": commit, "branch": run.tags.get("mlflow.source.git.branch") or None,
            "remote": strip_url_credentials(remote) if remote else None}  # fmt: skip


def _write_series(path: Path, run: MlflowRun, names: dict[str, str]) -> None:
    """MLflow's metric histories, in its own order (step, then time), so the last point
    of each metric is what MLflow calls its latest value."""
    points = sorted(run.points, key=lambda p: (p[0], p[3], p[2], p[1]))
    start = run.start_ms or 0
    lines = [journal.SERIES_HEADER]
    for key, value, ts, step in points:
        lines.append(journal.format_point(step, names[key], value, max(0, ts - start) / 1000))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(lines), encoding="utf-8")


def build_record(
    ws: Workspace, run: MlflowRun, run_id: str, parent: str | None, changed: list[str] | None = None
) -> dict[str, Any]:
    """Write one run's record (validated) and sidecar; returns the record. What the record
    could not keep as MLflow had it (names with spaces, long values) is noted in `changed`."""
    changed = [] if changed is None else changed
    sidecar = ws.path(record.sidecar_dir(run_id))
    metric_names = record_names(sorted({p[0] for p in run.points}), 200, "metric", changed)
    _write_series(sidecar / journal.SERIES_FILE, run, metric_names)
    fold = journal.Fold()
    fold.update(sidecar)
    started, ended = _moment(run.start_ms), _moment(run.end_ms)
    assert started is not None  # _skip_reason refuses runs without a start
    status = STATUSES[run.status]
    context = {
        "id": run_id,
        "name": _cut(run.name or run.run_uuid[:8], 200, "run name", changed),
        "description": run.tags.get(_DESCRIPTION_TAG) or None,
        "tags": _tags(ws, run, parent, changed),
        "experiment": _cut(run.experiment, 200, "experiment name", changed),
        "started_at": record.timestamp(started),
        "author": {
            "name": None,
            "email": None,
            "user": run.user or run.tags.get("mlflow.user"),
            "host": None,
        },  # fmt: skip
        "code": _code(run),
        "params": dict(sorted(run.params.items())),
    }
    error = None if status == "finished" else {"message": f"MLflow status {run.status}"}
    rec = finalize.build(
        ws, context, fold, status=status,
        ended_at=record.timestamp(ended) if ended else None,  # type: ignore[arg-type]
        duration_s=(ended - started).total_seconds() if ended and ended >= started else None,
        error=error, resources=None,
    )  # fmt: skip
    finalize.write_final(ws, rec, keep_series=fold.has_steps)
    return rec


def import_mlflow(ws: Workspace, path_or_uri: str, cwd: Path, progress: Progress | None = None) -> Summary:
    """Import every run of an MLflow store; see the module docstring."""
    source: Store = locate(path_or_uri, cwd)
    runs = read_runs(source)
    summary = Summary(source.label)
    ids = {run.run_uuid: ledger_id(run, ws.config.secrets) for run in runs}
    existing = {item.record["id"] for item in api.load(ws)}
    files: dict[str, bytes] = {}
    for done, run in enumerate(runs, 1):
        run_id = ids[run.run_uuid]
        reason = _skip_reason(run)
        if reason is None and (run_id in existing or ws.path(record.record_path(run_id)).exists()):
            reason = "already imported"
        if reason is not None:
            summary.skipped[reason] += 1
        else:
            parent = ids.get(run.tags.get("mlflow.parentRunId", ""))
            changed: list[str] = []
            try:
                rec = build_record(ws, run, run_id, parent, changed)
            except LedgerError as exc:
                shutil.rmtree(ws.path(record.sidecar_dir(run_id)), ignore_errors=True)
                summary.skipped[f"invalid: {exc}"] += 1
            else:
                files.update(finalize.ledger_files(ws, rec))
                summary.imported.append(run_id)
                summary.changed += [f"{run_id}: {change}" for change in changed]
        if progress is not None:
            progress(done, len(runs))
    if files:
        _commit(ws, files, summary)
    return summary


def _commit(ws: Workspace, files: dict[str, bytes], summary: Summary) -> None:
    if ws.config.commit == "off":
        summary.pending = "commit policy is off"
        return
    message = (f"ledger: import {len(summary.imported)} MLflow runs from {summary.source}\n\n"
               "Ledger-Import: mlflow\n")  # fmt: skip
    try:
        summary.commit = gitstore.commit_files(ws.root, files, message)
    except (CommitError, gitstore.GitError) as exc:
        summary.pending = str(exc)
        warnings.warn(f"imported records are not committed ({exc}): run `ledger commit` "
                      "when you can", LedgerWarning, stacklevel=2)  # fmt: skip
