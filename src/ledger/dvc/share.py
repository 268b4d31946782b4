"""Sharing the DVC outputs of recorded runs, so another clone can fetch and reproduce them.

A run's record points at objects in DVC's cache: its pipeline outputs and data (`data:`),
and large artifacts (`store: dvc`). `ledger push` hands this module the ledger commits it
is about to push; the objects their records name are pushed to the default DVC remote
first, so a record never reaches the remote before what it points at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ledger import gitstore
from ledger.core import yamlio
from ledger.core.record import RECORDS_DIR, is_run_id
from ledger.core.workspace import Workspace
from ledger.dvc import dag
from ledger.dvc import data as dvcdata
from ledger.errors import RecordError


@dataclass(frozen=True)
class Shared:
    """What a push did with the DVC objects of the records it pushed."""

    objects: int = 0  # objects the records name
    uploaded: int = 0  # of those, sent to the remote now (the rest it had)
    missing: list[str] = field(default_factory=list)  # not in the local cache: "path (md5)"
    note: str | None = None  # why nothing was pushed (no DVC remote, ...)


def _is_record(path: str) -> bool:
    parts = path.split("/")
    return len(parts) == 3 and parts[0] == RECORDS_DIR and parts[2].endswith(".yaml") and is_run_id(parts[2][:-5])


def objects_of(rec: dict[str, Any], uncached: frozenset[str] = frozenset()) -> dict[str, str]:
    """md5 -> path of every object in DVC's cache a record names: large artifacts, and data
    and pipeline outputs (not code dependencies, not outputs kept out of DVC's cache)."""
    found: dict[str, str] = {}
    for art in rec.get("artifacts") or []:
        if isinstance(art, dict) and art.get("store") == "dvc" and isinstance(art.get("hash"), str):
            found.setdefault(art["hash"], str(art.get("path")))
    for entry in rec.get("data") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("hash"), str):
            continue
        if entry.get("role") in ("out", "data") and entry.get("source") != "ledger.yaml":
            if entry.get("path") not in uncached:
                found.setdefault(entry["hash"], str(entry.get("path")))
    return found


def push_outputs(ws: Workspace, commits: list[gitstore.LogEntry]) -> Shared:
    """Push to the default DVC remote the objects named by the records these commits add."""
    if not dvcdata.is_dvc_repo(ws.root):
        return Shared()
    uncached = dag.read(ws.root).uncached
    objects: dict[str, str] = {}
    for commit in commits:
        for path in commit.paths:
            if not _is_record(path):
                continue
            blob = gitstore.show_blob(ws.root, commit.sha, path)
            if blob is None:
                continue
            try:
                rec = yamlio.loads(blob.decode("utf-8"), source=path)
            except (RecordError, UnicodeDecodeError):
                continue
            if isinstance(rec, dict):
                objects.update(objects_of(rec, uncached))
    if not objects:
        return Shared()
    uploaded, missing, note = dvcdata.push_objects(ws.root, objects)
    return Shared(len(objects), uploaded, missing, note)
