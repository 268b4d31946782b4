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
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import overload

from ledger import gitstore
from ledger.core import record
from ledger.core.workspace import Workspace
from ledger.errors import LedgerWarning, UsageError
from ledger.read import cache as cache_mod
from ledger.read import query, treebuild, treeindex
from ledger.read.records import Item, _error, mismatch, open_cache, scan_entries
from ledger.read.sources import (
    Entry,
    Progress,
    Selection,
    Source,
    _tree_entries,
    entry,
    resolve_revision,
    start_worktree_listing,
    worktree_entries,
)


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

    def item(self, i: int) -> Item:
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
                yield self.item(i)
        yield from self.extra

    def count(self) -> int:
        """How many runs the scan has (the revision's, less those the working tree replaces,
        plus the working tree's)."""
        return len(self.summary) - len(self.excluded) + len(self.extra)

    def newest(self, shown: Callable[[Item], Item] | None = None) -> Newest | None:
        """The runs newest first, made as they are asked for; None when a part of the summary
        is damaged (then read them with `items`)."""
        try:
            found = Newest(self, shown)
            self._warn()
        except treeindex.Damaged:
            return None
        return found

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

    def metric_counts(
        self, status: str | None = None, shown: Callable[[Item], Item] | None = None
    ) -> tuple[int, dict[str, int]] | None:
        """(how many runs there are, how many of them have each metric), counting only runs
        of `status` when given; None when the summary cannot tell. The columns answer for
        every run but the `running` ones, which are decoded and taken as `shown` shows them
        (a dead one is crashed, with its journal's metrics)."""
        if not self.summary.complete:
            return None
        statuses = self.summary.statuses()
        excluded = self.excluded
        rows = [i for i, s in enumerate(statuses) if s != "running" and (status is None or s == status)]
        rows = [i for i in rows if i not in excluded]
        mask = bytearray(len(statuses))
        for i in rows:
            mask[i] = 1
        chosen = int.from_bytes(mask, "little")
        counts: dict[str, int] = {}
        for name in self.summary.table:
            if name.startswith("m/"):
                present = self.summary.present(name[2:]) or b""
                counts[name[2:]] = (int.from_bytes(present, "little") & chosen).bit_count()
        running = [self.item(i) for i, s in enumerate(statuses) if s == "running" and i not in excluded]
        others = [shown(item) if shown is not None else item for item in [*running, *self.extra]]
        heads = [item.head for item in others if status is None or item.head.get("status") == status]
        for head in heads:
            metrics = head.get("metrics")
            for key in metrics if isinstance(metrics, dict) else ():
                counts[str(key)] = counts.get(str(key), 0) + 1
        return len(rows) + len(heads), {name: count for name, count in counts.items() if count}

    def flagged(self) -> list[Item]:
        """The runs whose head says `baseline: true`."""
        rows = self.summary.rows_with(b'"baseline":true')
        found = [self.item(i) for i in rows if i not in self.excluded] + self.extra
        return [item for item in found if item.head.get("baseline") is True]

    def named(self, ref: str) -> list[Item]:
        """The runs whose id or name is `ref` exactly."""
        spelled = json.dumps(ref, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        rows = {*self.summary.find([ref]), *self.summary.rows_with(b'"name":' + spelled)}
        found = [self.item(i) for i in sorted(rows) if i not in self.excluded] + self.extra
        return [item for item in found if ref in (item.head.get("id"), item.head.get("name"))]

    def best(
        self, metric: str, direction: str, n: int, *, shown: Callable[[Item], Item] | None = None,
        having: bool = False,
    ) -> list[Item]:  # fmt: skip
        """`query.best` of the runs (with `having`, only those that have the metric; each as
        `shown` shows it), ranking from the metric's column: only runs that can reach the
        top n are decoded and ranked in full."""
        try:
            column = self.summary.column(metric)
            if column is None:
                return _best(self.items(), metric, direction, n, shown, having)
            candidates = self._candidates(column, direction, n, shown, having)
            self._warn()
        except treeindex.Damaged:
            return _best(self.fallback(), metric, direction, n, shown, having)
        return _best(candidates, metric, direction, n, None, having)

    def _candidates(
        self, column: list[float | None], direction: str, n: int, shown: Callable[[Item], Item] | None,
        having: bool,
    ) -> list[Item]:  # fmt: skip
        """A set of runs that holds the top n whatever the ties on start time and id decide.

        `query.rank_key` ranks (missing, status tier, score): finished runs before running
        ones before the rest, NaN and missing last. The key of a committed run that is not
        `running` is known from its columns; a `running` run may be shown as crashed, with
        what its journal holds, so every such run is a candidate. With n runs of known key,
        the n-th best of them bounds the top n: runs ranked after it cannot be in it; with
        fewer, every run is a candidate (with `having`, every run with the metric)."""
        excluded = self.excluded
        statuses = self.summary.statuses()
        sign = -1.0 if direction == "max" else 1.0
        tier = {status: query.status_tier({"status": status}) for status in set(statuses)}
        running = [i for i, s in enumerate(statuses) if s == "running" and i not in excluded]
        known = [
            (tier[statuses[i]], sign * v, i)
            for i, v in enumerate(column)
            if v is not None and v == v and statuses[i] != "running" and i not in excluded
        ]
        extra = [shown(item) if shown is not None else item for item in self.extra]

        def row(i: int) -> Item:
            item = self.item(i)
            return shown(item) if shown is not None else item

        if len(known) >= n:
            bound = heapq.nsmallest(n, known)[-1][:2]
            chosen = [i for tier, score, i in known if (tier, score) <= bound]
        else:
            chosen = [i for i, v in enumerate(column) if (v is not None or not having) and i not in excluded]
        return [row(i) for i in sorted({*chosen, *running})] + extra


class Newest(Sequence[Item]):
    """The runs of a view newest first (start time, then id, both descending), each Item
    made when it is first asked for: a page of the runs table, or the first runs of
    `ledger.runs()`, reads a few rows of the summary, not every head."""

    def __init__(self, view: View, shown: Callable[[Item], Item] | None = None):
        self.view = view
        self.shown = shown
        summary = view.summary
        self.slots: list[int | Item] = [i for i in summary.order() if i not in view.excluded]
        if view.extra:
            started = summary.started()

            def key(slot: int | Item) -> tuple[str, str]:
                if isinstance(slot, int):
                    return started[slot], treebuild.run_id(summary.row(slot)[0])
                return _newest_key(slot)

            for item in view.extra:  # few: each put in place by a binary search
                wanted, low, high = _newest_key(item), 0, len(self.slots)
                while low < high:
                    middle = (low + high) // 2
                    if key(self.slots[middle]) > wanted:
                        low = middle + 1
                    else:
                        high = middle
                self.slots.insert(low, item)
        self.made: dict[int, Item] = {}

    def __len__(self) -> int:
        return len(self.slots)

    @overload
    def __getitem__(self, index: int) -> Item: ...
    @overload
    def __getitem__(self, index: slice) -> list[Item]: ...
    def __getitem__(self, index: int | slice) -> Item | list[Item]:
        if isinstance(index, slice):
            return [self[k] for k in range(*index.indices(len(self.slots)))]
        position = range(len(self.slots))[index]
        found = self.made.get(position)
        if found is None:
            slot = self.slots[position]
            found = self.view.item(slot) if isinstance(slot, int) else slot
            if self.shown is not None:
                found = self.shown(found)
            self.made[position] = found
        return found

    def statuses(self) -> list[str | None]:
        """Each run's status as shown (a dead `running` run is crashed), in this order;
        only `running` runs are decoded to tell."""
        recorded = self.view.summary.statuses()
        out: list[str | None] = []
        for position, slot in enumerate(self.slots):
            status = recorded[slot] if isinstance(slot, int) else slot.head.get("status")
            if status == "running" or not isinstance(slot, int):
                status = self[position].head.get("status")
            out.append(status if isinstance(status, str) else None)
        return out


def _newest_key(item: Item) -> tuple[str, str]:
    return str(item.head.get("started_at") or ""), str(item.head["id"])


def _best(items: Iterable[Item], metric: str, direction: str, n: int, shown: Callable[[Item], Item] | None,
          having: bool) -> list[Item]:  # fmt: skip
    """`query.best` of `items` (shown, and with `having`, those with the metric)."""
    found = (shown(item) if shown is not None else item for item in items)
    if having:
        found = (item for item in found if query.metric_value(item.head, metric) is not None)
    return query.best(found, metric, direction, n, key=lambda item: item.head)


def view(ws: Workspace, selection: Selection, progress: Progress | None = None) -> View | None:
    """A View of the selection, or None when it is not one revision's tree (read as before)."""
    if selection.is_range or selection.all_branches or selection.include_deleted:
        return None
    # Git stats the working tree's record files while this process finds the summary (or
    # builds it): on 100,000 runs that is most of a warm query's time.
    listing = start_worktree_listing(ws) if selection.worktree and selection.rev is None else None
    try:
        return _view(ws, selection, progress, listing)
    finally:
        if listing is not None:
            listing()  # waited for in any case: no git process is left behind


def _view(
    ws: Workspace, selection: Selection, progress: Progress | None, listing: Callable[[], list[str]] | None
) -> View | None:
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

    def fallback() -> Iterator[Item]:
        store.drop(tree)
        return scan_entries(ws, [*_tree_entries(ws, source), *worktree], progress)

    worktree: list[Entry] = []
    for attempt in range(2):
        summary = store.load(tree)
        if summary is None:
            summary = treebuild.build(ws, cache, store, source, tree, progress)
            if summary is None:
                return None
        else:
            store.touch(tree)
        if listing is not None and attempt == 0:
            worktree = worktree_entries(ws, listing)
        try:
            return View(ws, cache, summary, source, worktree, progress, fallback)
        except treeindex.Damaged:
            store.drop(tree)
    return None
