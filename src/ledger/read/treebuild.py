"""Building the summary of one `experiments/` tree (`treeindex.py`): from the most recent
summary patched with the paths `git diff-tree` says changed (a run committed, a record
edited), or, failing that, from a full scan of the tree; saved under the cache directory and
read back from its file as used."""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Iterator
from typing import Any

from ledger import gitstore
from ledger.core import record
from ledger.core.workspace import Workspace
from ledger.errors import LedgerWarning
from ledger.read import cache as cache_mod
from ledger.read import query, treeindex
from ledger.read.records import Item, Recorder, scan_entries
from ledger.read.sources import (
    Entry,
    Progress,
    Source,
    _tree_entries,
    entry,
)

INCREMENTAL_MAX = 2000  # changed paths worth patching a summary for (more: a full scan)


def build(ws: Workspace, cache: cache_mod.Cache, store: treeindex.Store, source: Source, tree: str,
           progress: Progress | None) -> treeindex.Summary | None:  # fmt: skip
    """The summary of `tree`, from the latest one and what changed, or from a full scan;
    None when the tree has a run in several files (read as before)."""
    start = cache.size()
    latest = store.latest()
    if latest is not None:
        built = _patch(ws, cache, latest, source, tree, start, progress)
        if built is not None:
            return _saved(store, tree, built)
    found = _tree_entries(ws, source)
    if len({e.run_id for e in found}) != len(found):
        return None
    recorder = Recorder(_value)
    _consume(scan_entries(ws, found, progress, recorder=recorder))
    built = _encode(recorder, [], [], [], {}, {"status": [], "started": []}, True, start)
    return _saved(store, tree, built) if recorder.complete else treeindex.decode(b"".join(built))


def _consume(items: Iterator[Item]) -> None:
    """Run a scan for its recorder; what it skips is warned from the summary, once."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LedgerWarning)
        for _ in items:
            pass


def _saved(store: treeindex.Store, tree: str, pieces: list[bytes]) -> treeindex.Summary | None:
    """The summary saved, read back from its file as used; else from memory."""
    if store.save(tree, pieces):
        found = store.load(tree)
        if found is not None:
            return found
    return treeindex.decode(b"".join(pieces))


def _patch(ws: Workspace, cache: cache_mod.Cache, latest: tuple[str, treeindex.Summary], source: Source, tree: str,
           start: int, progress: Progress | None) -> list[bytes] | None:  # fmt: skip
    """The new summary from an older one and the paths that changed; None: do a full scan."""
    old_tree, old = latest
    if old_tree == tree or not old.complete:
        return None
    try:
        return _patched(ws, old, old_tree, source, tree, start, progress)
    except treeindex.Damaged:
        return None


def _patched(ws: Workspace, old: treeindex.Summary, old_tree: str, source: Source, tree: str, start: int,
             progress: Progress | None) -> list[bytes] | None:  # fmt: skip
    old.rows  # noqa: B018 - read and checked whole: every row is looked at
    changes = gitstore.tree_changes(ws.root, old_tree, tree)
    if len(changes) > INCREMENTAL_MAX:
        return None
    gone: set[str] = set()
    added: list[Entry] = []
    for status, rel, blob in changes:
        if status == "?":
            return None
        path = f"{record.RECORDS_DIR}/{rel}"
        gone.add(path)
        new = entry(path, blob, source) if status[0] in "AMT" else None
        if new is not None:
            added.append(new)
    keep = [i for i in range(len(old)) if old.row(i)[0] not in gone]
    kept_ids = [run_id(old.row(i)[0]) for i in keep]
    ids = [e.run_id for e in added]
    if len(set(ids)) != len(ids) or not set(kept_ids).isdisjoint(ids):
        return None  # a run in several files: let the full scan decide
    recorder = Recorder(_value)
    _consume(scan_entries(ws, added, progress, recorder=recorder, cache_from=old.cache_end))
    if not recorder.complete:
        return None
    old_columns = old.columns()
    columns = {name: column.take(keep) for name, column in old_columns.items()}
    warned = [(p, w) for p, w in old.warnings() if p not in gone]
    rows = [old.rows[i] for i in keep]
    statuses, started = old.statuses(), old.started()
    lists: dict[str, list[Any]] = {"status": [statuses[i] for i in keep], "started": [started[i] for i in keep]}
    return _encode(recorder, rows, kept_ids, warned, columns, lists, old.complete, start)


def run_id(path: str) -> str:
    """The run id of a summarised record path (`.../<id>.yaml`)."""
    return path.rsplit("/", 1)[-1][: -len(".yaml")]


def _encode(recorder: Recorder, rows: list[bytes], ids: list[str], warned: list[tuple[str, dict[str, Any]]],
            columns: dict[str, treeindex.Column], lists: dict[str, list[Any]], complete: bool,
            cache_end: int) -> list[bytes]:  # fmt: skip
    """Summary bytes: the given rows (with their ids, columns, statuses and start times)
    plus what `recorder` saw."""
    base = len(rows)
    rows += recorder.lines()
    recorder.rows.clear()
    ids += recorder.ids
    lists["status"] += recorder.statuses
    lists["started"] += recorder.started
    lists["order"] = treeindex.newest_first(lists["started"], ids)
    for name, values in recorder.columns.items():
        column = columns.setdefault(name, treeindex.Column())
        column.pad(base)
        column.extend(values)
    total = len(rows)
    for column in columns.values():
        column.pad(total)
    if len(columns) > treeindex.MAX_COLUMNS:
        ranked = sorted(columns, key=lambda name: -columns[name].filled())
        columns = {name: columns[name] for name in ranked[: treeindex.MAX_COLUMNS]}
        complete = False
    warned.extend(recorder.skipped)
    warned.sort(key=lambda pair: pair[0])  # warned in path order, whatever order workers finished in
    lines = [f"{path}\t{json.dumps(why, ensure_ascii=False)}".encode() for path, why in warned]
    return treeindex.encode(rows, lines, columns, cache_end, complete, lists)


def _value(head: dict[str, Any], name: str) -> float | None:
    """`query.metric_value`, without overflow."""
    try:
        value = query.metric_value(head, name)
    except OverflowError:
        return math.inf if head["metrics"][name] > 0 else -math.inf
    return value  # NaN kept: it ranks last, but the run has the metric
