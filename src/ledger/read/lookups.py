"""The workspace-level calls the rest of ledger reads through, beside `runs()` and `top()`:
the records of a selection, one run by id, the working tree's records as stored, one
record's bytes checked, a branch's changed records read as untrusted input, and ledger.yaml
as a commit has it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger import gitstore
from ledger.core import config as _config
from ledger.core import record, yamlio
from ledger.core.workspace import Workspace
from ledger.errors import LedgerError, RecordError
from ledger.read import summary, treeindex
from ledger.read.records import Item, Loaded, mismatch, parse_record, scan_entries
from ledger.read.records import _error as records_error
from ledger.read.selected import scan_items, shown
from ledger.read.sources import (
    Progress,
    Selection,
    entries,
    worktree_entries,
)


def load(ws: Workspace, selection: Selection | None = None, progress: Progress | None = None) -> list[Loaded]:
    """The runs a selection covers (default: HEAD plus uncommitted runs), each with where it
    was found, sorted by id; a dead run shown as `crashed`."""
    return sorted((item.loaded() for item in scan_items(ws, selection, progress=progress)), key=_run_id)


def _run_id(item: Loaded) -> str:
    return str(item.record["id"])


def uncommitted(ws: Workspace) -> list[Item]:
    """The runs whose record is new or changed in the working tree, sorted by id, *as stored*:
    a dead run stays `running` here, because the write commands that list these runs
    (`ledger commit`, `ledger status`) decide what a dead run becomes. Pass an item through
    `shown` to see it as a reader does."""
    return sorted(scan_entries(ws, worktree_entries(ws)), key=lambda item: str(item.head["id"]))


def run_by_id(ws: Workspace, run_id: str, selection: Selection | None = None) -> Item | None:
    """The run with exactly this id in a selection (default: HEAD plus uncommitted runs), as
    a reader shows it; only its own record files are read. None when there is none."""
    found = [e for e in entries(ws, selection or Selection()) if e.run_id == run_id]
    return next((shown(ws, item) for item in scan_entries(ws, found)), None)


def validate_record(rec: dict[str, Any], source: str) -> None:
    """Check a record against the run schema (jsonschema's verdict without importing it);
    RecordError naming `source` and the JSON pointer otherwise. What the write path checks
    before a record is written, so the reader never meets what the writer would refuse."""
    from ledger.read import fastschema

    fastschema.validate(rec, source=source)


def read_records(
    ws: Workspace, blobs: Mapping[str, str], label: str, rev: str | None = None
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Read the records at the given blobs (path -> blob id, e.g. `Changes.changed`) as
    untrusted input: (path -> record, for each that parses and validates with an id that
    matches its path; path -> one-line problem, for the rest). Messages name `label:path`.

    With `rev`, the commit whose tree holds those blobs at those paths, the verdicts come
    from that tree's summary (the read path's own, kept in its cache) when it has them all:
    the same verdicts, without parsing again what a query already read."""
    paths = sorted(blobs)
    if not paths:
        return {}, {}
    if rev is not None:
        found = _from_summary(ws, blobs, label, rev)
        if found is not None:
            return found
    parsed: dict[str, dict[str, Any]] = {}
    problems: dict[str, str] = {}
    contents = gitstore.read_blobs(ws.root, [blobs[p] for p in paths], yamlio.MAX_BYTES)
    for path, (_, data) in zip(paths, contents, strict=True):
        source = f"{label}:{path}"
        try:
            if data is None:
                raise RecordError(f"larger than {yamlio.MAX_BYTES} bytes", path=source)
            parsed[path] = parse_record(data, source, path)
        except RecordError as exc:
            problems[path] = str(exc)
    return parsed, problems


def _from_summary(
    ws: Workspace, blobs: Mapping[str, str], label: str, rev: str
) -> tuple[dict[str, dict[str, Any]], dict[str, str]] | None:
    """`read_records`' answer from the summary of `rev`'s tree; None when it cannot give
    all of it (no summary, a path it does not hold at that blob, a damaged part)."""
    view = summary.view(ws, Selection(rev=rev, worktree=False))
    if view is None:
        return None
    try:
        ids = [run_id for run_id in map(record.run_id_from_path, blobs) if run_id]
        rows = {}
        for i in view.summary.find(ids):
            path, blob, _ = view.summary.row(i)
            rows[path] = (i, blob)
        warned = dict(view.summary.warnings())
        parsed: dict[str, dict[str, Any]] = {}
        problems: dict[str, str] = {}
        for path in sorted(blobs):
            source = f"{label}:{path}"
            if path in rows and rows[path][1] == blobs[path]:
                parsed[path] = view.item(rows[path][0]).record
            elif path in warned and path not in rows:
                why = warned[path]
                problems[path] = str(mismatch(why["m"], source) if "m" in why else records_error(why, source))
            else:
                return None
    except (treeindex.Damaged, RecordError):
        return None
    return parsed, problems


def settings_at(ws: Workspace, commit: str) -> _config.Config | None:
    """ledger.yaml as a commit has it; None when it has none or it cannot be read."""
    data = gitstore.read_file_at(ws.root, commit, _config.CONFIG_FILE, yamlio.MAX_BYTES)
    if not data:
        return None
    try:
        return _config.from_bytes(data, source=f"{commit[:8]}:{_config.CONFIG_FILE}", root=ws.root)
    except LedgerError:
        return None
