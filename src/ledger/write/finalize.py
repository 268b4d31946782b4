"""Turning a run's context and journal into its final record, writing it, committing it."""

from __future__ import annotations

import resource
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger import gitstore
from ledger.core import record, yamlio
from ledger.core.config import Config
from ledger.core.fields import deep_merge
from ledger.core.journal import SERIES_FILE, TRANSIENT, Fold
from ledger.core.redact import Redactor, redactor, scrub_paths, strip_url_credentials
from ledger.core.workspace import Workspace
from ledger.errors import CommitError, LedgerWarning


@dataclass(frozen=True)
class Committed:
    sha: str | None  # None when the record waits in the working tree
    pending: str | None  # why it waits (policy off, detached HEAD, rebase, ...)


def cost_field(config: Config, wall_s: float | None, gpus: int, items: list[dict[str, Any]]) -> dict[str, Any] | None:
    hours = (wall_s or 0.0) / 3600.0
    amount = hours * config.cpu_hour + hours * gpus * config.gpu_hour
    basis = []
    if config.cpu_hour:
        basis.append(f"{hours:.4f} h x {config.cpu_hour:g} {config.currency}/h")
    if config.gpu_hour and gpus:
        basis.append(f"{hours:.4f} h x {gpus} GPU x {config.gpu_hour:g} {config.currency}/h")
    for item in items:
        if item.get("currency", config.currency) == config.currency:
            amount += float(item["amount"])
    if not basis and not items:
        return None
    if items:
        basis.append(f"{len(items)} logged cost item(s)")
    field: dict[str, Any] = {"amount": round(amount, 6), "currency": config.currency,
                             "basis": "; ".join(basis) or None}  # fmt: skip
    if items:
        field["items"] = items
    return field


def build(
    ws: Workspace,
    context: dict[str, Any],
    fold: Fold,
    *,
    status: str,
    ended_at: str,
    duration_s: float | None,
    error: dict[str, Any] | None,
    resources: dict[str, Any] | None,
) -> dict[str, Any]:
    """The final record: context + journal + outcome, redacted, in canonical order."""
    config = ws.config
    hide = redactor(config.secrets)
    rec = dict(context)
    rec.update(fold.record_fields)
    rec["params"] = hide.value(deep_merge(rec.get("params") or {}, fold.params))
    rec["tags"] = hide.value({**(rec.get("tags") or {}), **fold.tags})
    rec["status"] = status
    rec["ended_at"] = ended_at
    rec["duration_s"] = round(duration_s, 3) if duration_s is not None else None
    rec["metrics"] = {**(rec.get("metrics") or {}), **fold.metrics()}
    sidecar = record.sidecar_dir(rec["id"])
    rec["series"] = fold.series_field(f"{sidecar}/{SERIES_FILE}", config.direction)
    rec["artifacts"] = [*(rec.get("artifacts") or []), *fold.artifacts.values()]
    rec["datasets"] = {**(rec.get("datasets") or {}), **fold.datasets}
    if fold.notes:
        rec["notes"] = "\n\n".join(filter(None, [rec.get("notes"), *fold.notes]))
    _redact_fields(ws, rec, hide)
    if fold.pruned_step is not None and isinstance(rec.get("trial"), dict):
        rec["trial"] = {**rec["trial"], "pruned_step": fold.pruned_step}
    pruned = status == "pruned"  # stopped by the pruner: not an error
    rec["error"] = _error_field(ws, None if pruned else error, None if pruned else fold.error, hide)
    rec["resources"] = resources
    gpus = len(((rec.get("hardware") or {}).get("gpus")) or [])
    rec["cost"] = cost_field(config, duration_s, gpus, fold.costs)
    rec.pop("process", None)
    return record.canonical(rec)


def _redact_fields(ws: Workspace, rec: dict[str, Any], hide: Redactor) -> None:
    """Every free-text and named field of a record, redacted (params and tags are done by
    the caller): nothing a user typed reaches the record with a secret in it."""
    if isinstance(rec.get("name"), str):
        rec["name"] = hide.text(rec["name"])
    if rec.get("notes"):
        rec["notes"] = scrub_paths(hide.text(rec["notes"]), ws.root)
    if rec.get("description"):
        rec["description"] = hide.text(rec["description"])
    command = rec.get("command")
    if isinstance(command, dict):
        command = rec["command"] = dict(command)
        for key in ("argv", "overrides"):
            if isinstance(command.get(key), list):
                command[key] = hide.argv(str(a) for a in command[key])
    env = rec.get("env")
    if isinstance(env, dict) and isinstance(env.get("variables"), dict):
        rec["env"] = {**env, "variables": hide.value(env["variables"])}
    code = rec.get("code")
    if isinstance(code, dict) and isinstance(code.get("remote"), str):
        rec["code"] = {**code, "remote": strip_url_credentials(code["remote"], ws.config.secrets)}
    if rec.get("datasets"):
        rec["datasets"] = hide.value(rec["datasets"])
    rec["artifacts"] = [{**a, "name": hide.text(a["name"])} if isinstance(a.get("name"), str) else a
                        for a in rec.get("artifacts") or []]  # fmt: skip


def _error_field(
    ws: Workspace, outcome: dict[str, Any] | None, logged: dict[str, Any] | None, hide: Redactor
) -> dict[str, Any] | None:
    if not outcome and not logged:
        return None
    # What the code itself reported (exception type, traceback) beats a bare exit status;
    # how the process ended (exit code, signal) comes from the outcome.
    merged: dict[str, Any] = {**(outcome or {}), **{k: v for k, v in (logged or {}).items() if v}}
    for key in ("exit_code", "signal"):
        if outcome and outcome.get(key) is not None:
            merged[key] = outcome[key]
    for key in ("message", "traceback"):
        if isinstance(merged.get(key), str):
            merged[key] = scrub_paths(hide.text(merged[key]), ws.root)
    order = ("type", "message", "traceback", "exit_code", "signal")
    return {k: merged.get(k) for k in order if merged.get(k) is not None}


def ledger_files(ws: Workspace, rec: dict[str, Any]) -> dict[str, bytes]:
    """The record, its sidecar and its environment file: what one run's commit holds."""
    run_id = rec["id"]
    files = {record.record_path(run_id): ws.path(record.record_path(run_id)).read_bytes()}
    sidecar = ws.path(record.sidecar_dir(run_id))
    if sidecar.is_dir():
        for path in sorted(p for p in sidecar.rglob("*") if p.is_file()):
            if path.name in TRANSIENT or path.name.startswith("."):
                continue
            files[path.relative_to(ws.root).as_posix()] = path.read_bytes()
    env_file = (rec.get("env") or {}).get("file")
    if env_file and ws.path(env_file).is_file():
        files[env_file] = ws.path(env_file).read_bytes()
    return files


def commit_message(rec: dict[str, Any], config: Config) -> str:
    metric = config.primary_metric
    value = (rec.get("metrics") or {}).get(metric) if metric else None
    headline = f"ledger: {rec['status']} run {rec['name']}"
    if value is not None:
        headline += f" ({metric}={value:.6g})"
    return f"{headline}\n\nLedger-Run: {rec['id']}\n"


def commit_record(ws: Workspace, rec: dict[str, Any]) -> Committed:
    """Commit one finished record under the workspace's policy; never loses the record."""
    if ws.config.commit == "off":
        return Committed(None, "commit policy is off")
    try:
        sha = gitstore.commit_files(ws.root, ledger_files(ws, rec), commit_message(rec, ws.config))
    except (CommitError, gitstore.GitError) as exc:
        reason = str(exc)
        if "auto-detect email" in reason or "tell me who you are" in reason:
            reason = "git has no identity: run `git config user.name NAME` and `git config user.email EMAIL`"
        warnings.warn(
            f"run {rec['id']} is recorded but not committed ({reason}): run `ledger commit` when you can",
            LedgerWarning,
            stacklevel=2,
        )
        return Committed(None, reason)
    return Committed(sha, None)


def rusage() -> tuple[float, int]:
    """(CPU seconds of this process and its children so far, their peak RSS in bytes)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
    return cpu, max(own.ru_maxrss, kids.ru_maxrss) * 1024


def finish(
    ws: Workspace,
    context: dict[str, Any],
    directory: Path,
    *,
    t0: float,
    cpu0: float,
    status: str,
    error: dict[str, Any] | None,
    resources: dict[str, Any] | None,
) -> tuple[dict[str, Any], Committed]:
    """The owner's end of a run: the final record from its context and journal (sidecar
    `directory`), written and committed. Without `resources`, this process's own use since
    `cpu0`; a run its pruner stopped is `pruned`, not failed."""
    ended = record.utcnow()
    wall = round(ended.timestamp() - t0, 3)
    if resources is None:
        cpu, rss = rusage()
        resources = {"wall_s": wall, "cpu_s": round(cpu - cpu0, 3), "peak_rss_bytes": rss}
    elif resources.get("wall_s") is None:
        resources = {**resources, "wall_s": wall}
    fold = Fold()
    fold.update(directory)
    if fold.pruned_step is not None and status in ("finished", "failed"):
        status, error = "pruned", None  # the pruner stopped it: not a failure
    rec = build(
        ws, context, fold, status=status, ended_at=record.timestamp(ended), duration_s=ended.timestamp() - t0,
        error=error, resources=resources,
    )  # fmt: skip
    write_final(ws, rec, keep_series=fold.has_steps)
    return rec, commit_record(ws, rec)


def clean_sidecar(ws: Workspace, rec: dict[str, Any], keep_series: bool) -> None:
    sidecar = ws.path(record.sidecar_dir(rec["id"]))
    for name in TRANSIENT:
        (sidecar / name).unlink(missing_ok=True)
    if not keep_series:
        (sidecar / SERIES_FILE).unlink(missing_ok=True)
    try:
        sidecar.rmdir()  # only when empty
    except OSError:
        pass


def write_final(ws: Workspace, rec: dict[str, Any], *, keep_series: bool) -> Path:
    """Validate strictly, then write atomically. A bad record is an error, loudly."""
    relpath = record.record_path(rec["id"])
    from ledger.read import api  # the reader's own check: jsonschema's verdict, without its import cost

    api.validate_record(rec, source=relpath)
    path = ws.path(relpath)
    yamlio.dump_file(path, rec)
    clean_sidecar(ws, rec, keep_series)
    return path
