"""Scans of one revision answered from its tree's summary (`treeindex.py`).

A query over HEAD (or one `--rev`), the common case, asks git for the commit and the id of
its `experiments/` tree (two small calls), then:
- the summary of that tree exists: its runs are the scan's runs, its skipped records are
  warned again, and a leaderboard ranks one metric column, decoding only the heads that can
  make the top;
- it does not: it is built from the most recent summary plus the paths that changed
  between the two trees (`git diff-tree`), or from a full scan, and saved.
Uncommitted records in the working tree are read as before and take the place of their
committed versions under the same rule (newest version wins). Ranges, `--all` and
`--include-deleted` read as before, through `records.scan_entries`.
"""

from __future__ import annotations

import heapq
import json
import math
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ledger import gitstore
from ledger.core import record
from ledger.core.workspace import Workspace
from ledger.errors import LedgerWarning, UsageError
from ledger.read import cache as cache_mod
from ledger.read import query, treeindex
from ledger.read.records import Item, Recorder, _error, mismatch, open_cache, scan_entries
from ledger.read.sources import (
    Entry,
    Progress,
    Selection,
    Source,
    _tree_entries,
    entry,
    resolve_revision,
    worktree_entries,
)

INCREMENTAL_MAX = 2000  # changed paths worth patching a summary for (more: a full scan)


class View:
    """The runs of one revision (its tree's summary) plus the working tree's records."""

    def __init__(self, ws: Workspace, cache: cache_mod.Cache, summary: treeindex.Summary, source: Source,
                 worktree: list[Entry], progress: Progress | None, fallback: Callable[[], Iterator[Item]]):  # fmt: skip
        self.fallback = fallback  # the same runs without the summary (when a part of it is damaged)
        self.ws = ws
        self.cache = cache
        self.summary = summary
        self.source = source
        self.warned = False
        self.excluded: set[int] = set()
        self.extra: list[Item] = []
        if worktree:
            # A run in the working tree and the revision: both versions go through the
            # normal rule (newest wins); the revision's row steps aside.
            self.excluded = summary.find({e.run_id for e in worktree})
            rows = [self._entry(i) for i in sorted(self.excluded)]
            self.extra = list(scan_entries(ws, [*worktree, *rows], progress, cache_from=summary.cache_end))

    def _entry(self, i: int) -> Entry:
        path, blob, _ = self.summary.row(i)
        found = entry(path, blob, self.source)
        assert found is not None  # only record paths were summarised
        return found

    def _item(self, i: int) -> Item:
        path, blob, offset = self.summary.row(i)
        found = entry(path, blob, self.source)
        assert found is not None
        return Item(self.ws.root, found, self.summary.head(i), None, None, (self.cache, offset))

    def _warn(self) -> None:
        if self.warned:
            return
        self.warned = True
        for path, why in self.summary.warnings():
            where = Entry(path, "", self.source).where
            exc = mismatch(why["m"], where) if "m" in why else _error(why, where)
            one_line = " ".join(str(exc).split())
            warnings.warn(f"skipped a bad record: {one_line}", LedgerWarning, stacklevel=3)

    def items(self) -> Iterator[Item]:
        try:
            self.summary.rows  # noqa: B018 - read and checked before the first answer
            self._warn()
        except treeindex.Damaged:
            yield from self.fallback()
            return
        for i in range(len(self.summary)):
            if i not in self.excluded:
                yield self._item(i)
        yield from self.extra

    def count(self) -> int:
        """How many runs the scan has (the revision's, less those the working tree replaces,
        plus the working tree's)."""
        return len(self.summary) - len(self.excluded) + len(self.extra)

    def metric_names(self) -> set[str] | None:
        """Every metric name a run of the scan has; None when the summary cannot tell."""
        if not self.summary.complete:
            return None
        names = {name[2:] for name in self.summary.table if name.startswith("m/")}
        for item in self.extra:
            metrics = item.head.get("metrics")
            if isinstance(metrics, dict):
                names.update(str(k) for k in metrics)
        return names

    def best(
        self, metric: str, direction: str, n: int, keep: Keep | None = None, *,
        shown: Callable[[Item], Item] | None = None, having: bool = False,
    ) -> list[Item]:  # fmt: skip
        """`query.best` of the runs (those whose head `keep` takes; with `having`, only those
        that have the metric; each as `shown` shows it), ranking from the metric's column:
        only runs whose value can reach the top n are decoded and ranked in full."""
        try:
            column = self.summary.column(metric)
            if column is None:
                return _best(self.items(), metric, direction, n, keep, shown, having)
            candidates = self._candidates(column, direction, n, keep, shown, having)
            self._warn()
        except treeindex.Damaged:
            return _best(self.fallback(), metric, direction, n, keep, shown, having)
        return _best(candidates, metric, direction, n, None, None, having)

    def _candidates(
        self, column: list[float | None], direction: str, n: int, keep: Keep | None,
        shown: Callable[[Item], Item] | None, having: bool,
    ) -> list[Item]:  # fmt: skip
        """The runs whose (missing, value) is no worse than the n-th best kept run's: the
        top n is among them, whatever the ties on start time and id decide. A value of
        None is a missing metric, NaN ranks with the missing ones (`query.rank_key`)."""
        excluded = self.excluded
        numbers = [i for i, v in enumerate(column) if v is not None and v == v and i not in excluded]
        sign = -1.0 if direction == "max" else 1.0
        extra = [shown(item) if shown is not None else item for item in self.extra]

        def score(i: int) -> float:
            return sign * column[i]  # type: ignore[operator]

        def row(i: int) -> Item:
            item = self._item(i)
            return shown(item) if shown is not None else item

        if keep is None and len(numbers) > n:
            nth = score(heapq.nsmallest(n, numbers, key=score)[-1])
            return [row(i) for i in numbers if score(i) <= nth] + extra
        if keep is not None:
            extra = [item for item in extra if keep(item.head)]
        chosen: list[Item] = []
        last: float | None = None  # the n-th kept run's score, once found
        for i in sorted(numbers, key=score):
            if last is not None and score(i) > last:
                return chosen + extra
            item = row(i)
            if keep is None or keep(item.head):
                chosen.append(item)
                if len(chosen) == n:
                    last = score(i)
        rest = [i for i, v in enumerate(column) if (v is None or v != v) and i not in excluded]
        if having:
            rest = [i for i in rest if column[i] is not None]
        rows = [row(i) for i in rest]
        return chosen + [item for item in rows + extra if keep is None or keep(item.head)]

    def matching(self, needles: list[bytes]) -> list[Item]:
        """The runs whose summary row holds any of `needles` (a cheap first cut: the caller
        checks the heads), plus the working tree's runs."""
        rows = self.summary.rows
        found = [i for i, row in enumerate(rows) if i not in self.excluded and any(n in row for n in needles)]
        return [self._item(i) for i in found] + self.extra


Keep = Callable[[dict[str, Any]], bool]


def _kept(items: Iterable[Item], keep: Keep | None) -> Iterator[Item]:
    return iter(items) if keep is None else (item for item in items if keep(item.head))


def _best(items: Iterable[Item], metric: str, direction: str, n: int, keep: Keep | None,
          shown: Callable[[Item], Item] | None, having: bool) -> list[Item]:  # fmt: skip
    """`query.best` of `items` (kept, shown, and with `having`, those with the metric)."""
    found = (shown(item) if shown is not None else item for item in _kept(items, keep) if True)
    if having:
        found = (item for item in found if query.metric_value(item.head, metric) is not None)
    return query.best(found, metric, direction, n, key=lambda item: item.head)


def view(ws: Workspace, selection: Selection, progress: Progress | None = None) -> View | None:
    """A View of the selection, or None when it is not one revision's tree (read as before)."""
    if selection.is_range or selection.all_branches or selection.include_deleted:
        return None
    cache = open_cache(ws)
    if cache is None:
        return None
    try:
        sha, when = resolve_revision(ws, selection.rev or "HEAD")
    except UsageError:
        if selection.rev is not None:
            raise
        return None  # an unborn HEAD
    tree = gitstore.tree_id(ws.root, sha, record.RECORDS_DIR)
    if tree is None:
        return None  # no records folder: nothing to summarise
    source = Source(sha[:12], sha, when)
    store = treeindex.Store(cache.dir, cache_mod.cache_key())
    worktree = worktree_entries(ws) if selection.worktree and selection.rev is None else []

    def fallback() -> Iterator[Item]:
        store.drop(tree)
        return scan_entries(ws, [*_tree_entries(ws, source), *worktree], progress)

    for _ in range(2):
        summary = store.load(tree)
        if summary is None:
            summary = _build(ws, cache, store, source, tree, progress)
            if summary is None:
                return None
        else:
            store.touch(tree)
        try:
            return View(ws, cache, summary, source, worktree, progress, fallback)
        except treeindex.Damaged:
            store.drop(tree)
    return None


def best(ws: Workspace, selection: Selection, metric: str, direction: str, n: int | None,
         progress: Progress | None = None) -> list[Item] | None:  # fmt: skip
    """The leaderboard of an unfiltered selection from its summary; None: rank otherwise."""
    if n is None:
        return None
    found = view(ws, selection, progress)
    return found.best(metric, direction, n) if found is not None else None


# ---------------------------------------------------------------------------- building


def _build(ws: Workspace, cache: cache_mod.Cache, store: treeindex.Store, source: Source, tree: str,
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
    built = _encode(recorder, [], [], {}, True, start)
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
    kept_ids = {old.row(i)[0].rsplit("/", 1)[-1][:-5] for i in keep}
    ids = [e.run_id for e in added]
    if len(set(ids)) != len(ids) or kept_ids.intersection(ids):
        return None  # a run in several files: let the full scan decide
    recorder = Recorder(_value)
    _consume(scan_entries(ws, added, progress, recorder=recorder, cache_from=old.cache_end))
    if not recorder.complete:
        return None
    old_columns = old.columns()
    columns = {name: [values[i] for i in keep] for name, values in old_columns.items()}
    warned = [(p, w) for p, w in old.warnings() if p not in gone]
    rows = [old.rows[i] for i in keep]
    return _encode(recorder, rows, warned, columns, old.complete, start)


def _encode(recorder: Recorder, rows: list[bytes], warned: list[tuple[str, dict[str, Any]]],
            columns: dict[str, list[float | None]], complete: bool, cache_end: int) -> list[bytes]:  # fmt: skip
    """Summary bytes: the given rows (and their columns) plus what `recorder` saw."""
    base = len(rows)
    for path, blob, at, head_json in recorder.rows:
        rows.append(treeindex.row_line(path, blob, recorder.offsets.get(blob, at), head_json))
    recorder.rows.clear()
    for name, values in recorder.columns.items():
        column = columns.setdefault(name, [None] * base)
        column.extend(values)
    total = len(rows)
    for column in columns.values():
        column.extend([None] * (total - len(column)))
    if len(columns) > treeindex.MAX_COLUMNS:
        ranked = sorted(columns, key=lambda name: -sum(v is not None for v in columns[name]))
        columns = {name: columns[name] for name in ranked[: treeindex.MAX_COLUMNS]}
        complete = False
    warned.extend(recorder.skipped)
    lines = [f"{path}\t{json.dumps(why, ensure_ascii=False)}".encode() for path, why in warned]
    return treeindex.encode(rows, lines, columns, cache_end, complete)


def _value(head: dict[str, Any], name: str) -> float | None:
    """`query.metric_value`, without overflow."""
    try:
        value = query.metric_value(head, name)
    except OverflowError:
        return math.inf if head["metrics"][name] > 0 else -math.inf
    return value  # NaN kept: it ranks last, but the run has the metric
