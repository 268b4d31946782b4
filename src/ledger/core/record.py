"""The run record: identifiers, where records live, canonical field order.

Records are plain dicts of JSON-compatible values. This module owns their shape on write
(`canonical`) and the few facts every reader needs (ids, paths, field order).
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from collections.abc import Mapping
from typing import Any

from ledger.core.schema import SCHEMA_VERSION

RECORDS_DIR = "experiments"
ENVS_DIR = f"{RECORDS_DIR}/envs"

STATUSES = ("running", "finished", "failed", "killed", "crashed", "pruned")
FINAL_STATUSES = frozenset(STATUSES) - {"running"}

FIELD_ORDER = (
    "schema_version", "id", "name", "description", "tags", "experiment", "status", "baseline",
    "started_at", "ended_at", "duration_s", "author", "command", "code", "data", "params",
    "seed", "metrics", "series", "artifacts", "datasets", "env", "hardware", "resources",
    "system", "distributed", "cost", "error", "reproduces", "trial", "notes", "process",
)  # fmt: skip
# Written even when empty, so every record answers the basic questions at a glance.
ALWAYS_WRITTEN = frozenset(
    {"schema_version", "id", "name", "experiment", "status", "baseline", "started_at",
     "ended_at", "duration_s", "params", "metrics"}
)  # fmt: skip

ID_RE = re.compile(r"^[0-9]{8}-[0-9]{6}-[a-z0-9]+(?:-[a-z0-9]+)*-[0-9a-f]{6,16}$")
RECORD_PATH_RE = re.compile(r"^experiments/[0-9]{4}-[0-9]{2}/([0-9]{8}-[0-9]{6}-[a-z0-9-]+-[0-9a-f]{6,16})\.yaml$")


def utcnow() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


def timestamp(moment: _dt.datetime) -> str:
    """UTC ISO-8601 with milliseconds and a Z, the one timestamp format of records."""
    return moment.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_timestamp(text: str) -> float | None:
    """Seconds since the epoch for a record timestamp; None when it is not one."""
    try:
        moment = _dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    except (TypeError, ValueError):
        return None
    return moment.replace(tzinfo=_dt.timezone.utc).timestamp()


def slugify(text: str, limit: int = 40) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit].strip("-")
    return slug or "run"


def new_id(name: str, moment: _dt.datetime) -> str:
    """`YYYYMMDD-HHMMSS-<slug>-<6 hex from os.urandom>`: unique, time-sortable, readable."""
    stamp = moment.astimezone(_dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{slugify(name)}-{os.urandom(3).hex()}"


def is_run_id(text: str) -> bool:
    return bool(ID_RE.match(text))


def record_path(run_id: str) -> str:
    """Repository-relative path of a run's record (sharded by month)."""
    return f"{RECORDS_DIR}/{run_id[:4]}-{run_id[4:6]}/{run_id}.yaml"


def sidecar_dir(run_id: str) -> str:
    return f"{RECORDS_DIR}/{run_id[:4]}-{run_id[4:6]}/{run_id}"


def run_id_from_path(path: str) -> str | None:
    match = RECORD_PATH_RE.match(path)
    return match.group(1) if match else None


def canonical(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record in its fixed field order, empty optional fields left out."""
    out: dict[str, Any] = {"schema_version": SCHEMA_VERSION}
    for key in FIELD_ORDER[1:]:
        value = record.get(key)
        if key in ALWAYS_WRITTEN:
            out[key] = _default(key) if value is None else value
        elif value not in (None, {}, []):
            out[key] = value
    return out


def _default(key: str) -> Any:
    return {"params": {}, "metrics": {}, "baseline": False}.get(key)
