"""The runs table: columns, filter, sort and one page, over a snapshot.

The default view (newest first, head columns) reads the order and statuses the snapshot
has and the heads of the 50 runs shown, so a first page over 100,000 runs costs about what
50 runs cost. A filter or sort reads every run once per snapshot, each run made for the
pass and dropped (memory stays bounded): a filter on head fields reads heads; one on
params or tags decodes whole records only for the runs that can still match
(`prefilter.py`: head conditions first, then the text the record must hold). Results
(matching positions, sort orders, column values) are memoised per snapshot, dropped when
the repository changes, so paging and re-sorting are instant.
"""

from __future__ import annotations

import functools
import math
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ledger.core.fields import flatten
from ledger.read.api import HEAD_FIELDS
from ledger.read.filter import Filter, compile_filter
from ledger.read.known import Known
from ledger.ui import prefilter
from ledger.ui.state import Snapshot
from ledger.views.plot.data import lookup

ATTRIBUTES = ("name", "status", "started_at", "duration_s", "author", "branch", "experiment", "commit")
HEAD_ATTRIBUTES = {"id", "name", "status", "experiment", "started_at"}
MAX_PAGE = 500
SAMPLE = 5000  # runs whose params and tags name the columns offered


def needs_record(column: str) -> bool:
    return not (column in HEAD_ATTRIBUTES or column.startswith("metrics."))


def value(rec: dict[str, Any], column: str) -> Any:
    """A column of a record (or of its head): an attribute, `metrics.M`, `params.a.b`, `tags.T`."""
    head, _, rest = column.partition(".")
    if head == "metrics" and rest:
        return (rec.get("metrics") or {}).get(rest)
    if head == "params" and rest:
        return lookup(rec, column)
    if head == "tags" and rest:
        return (rec.get("tags") or {}).get(rest)
    if column == "author":
        author = rec.get("author") or {}
        return author.get("name") or author.get("user") if isinstance(author, dict) else None
    if column in ("branch", "commit"):
        code = rec.get("code") or {}
        return code.get(column) if isinstance(code, dict) else None
    return rec.get(column)


def _key(v: Any) -> tuple[int, Any]:
    if isinstance(v, bool):
        return (0, float(v))
    if isinstance(v, (int, float)):
        return (0, float(v))
    return (1, str(v))


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


class Query:
    """One table request: which runs (filter), in which order, which columns."""

    def __init__(self, snap: Snapshot):
        self.snap = snap

    def matching(self, where: str | None) -> Sequence[int]:
        """Positions of the runs that pass `where` (FilterError on a bad expression; a
        metric, param or tag no run has is an UnknownField naming the close matches, as
        for `ledger ls --where`)."""
        if not where or not where.strip():
            return range(len(self.snap))
        found = compile_filter(where)

        def compute() -> array[int]:
            seen = Known()
            rows = self._passing(found, seen)
            self.check_names(found.refs, seen)
            return array("q", rows)  # positions, 8 bytes each

        result: array[int] = self.snap.memo(("where", where.strip()), compute)
        return result

    def _passing(self, found: Filter, seen: Known) -> list[int]:
        """The positions that pass `found`; `seen` learns the names the runs read had (until
        it knows every name `found` refers to)."""
        snap = self.snap
        everyone: Iterable[int] = range(len(snap))
        metrics = {ref for ref in found.refs if ref[0] == "metric"}
        others = set(found.refs - metrics)
        if found.fields <= HEAD_FIELDS:
            return self._on_heads(everyone, found, metrics, seen)
        plan = prefilter.plan(found)
        if plan.on_head:
            everyone = self._on_heads(everyone, lambda head: all(part(head) for part in plan.on_head), metrics, seen)
        rows = []
        for i, rec in snap.wholes(everyone, plan.may_match if plan.needles else None):
            if others:
                seen.add_record(rec)
                others = {ref for ref in others if not seen.has(*ref)}
            if found(rec):
                rows.append(i)
        return rows

    def _on_heads(
        self, positions: Iterable[int], keep: Callable[[dict[str, Any]], bool], metrics: set[tuple[str, str]],
        seen: Known,
    ) -> list[int]:  # fmt: skip
        """The positions whose head `keep` takes; `seen` learns the metric names the heads
        have until it knows all of `metrics`."""
        rows = []
        for i, head in self.snap.heads(positions):
            if metrics:
                seen.add_head(head)
                metrics = {ref for ref in metrics if not seen.has(*ref)}
            if keep(head):
                rows.append(i)
        return rows

    def check_names(self, refs: frozenset[tuple[str, str]], seen: Known | None = None) -> None:
        """A metric, param or tag that no run has is an error naming the close matches, as
        for `--where` on the command line (the library's `Known`). A name the runs read so
        far had is known; another is looked for run by run (usually the first has it); the
        names of every run are gathered only to tell a typo's close matches."""
        if not refs or not len(self.snap):
            return
        for kind, name in sorted(refs):
            if seen is not None and seen.has(kind, name):
                continue
            if not self.snap.memo(("has", kind, name), functools.partial(self._somewhere, kind, name)):
                self._everything(kind != "metric").check(kind, name)

    def _somewhere(self, kind: str, name: str) -> bool:
        """Whether any run has the metric, param or tag (newest first, stopping at the first)."""
        known = Known()
        if kind == "metric":
            for _, head in self.snap.heads(range(len(self.snap))):
                known.add_head(head)
                if known.has(kind, name):
                    return True
            return False
        for _, rec in self.snap.wholes(range(len(self.snap))):
            known.add_record(rec)
            if known.has(kind, name):
                return True
        return False

    def _everything(self, whole: bool) -> Known:
        """The names every run has (for a typo's close matches)."""

        def compute() -> Known:
            known = Known()
            for _, head in self.snap.heads(range(len(self.snap))):
                known.add_head(head)
            if whole:
                for _, rec in self.snap.wholes(range(len(self.snap))):
                    known.add_record(rec)
            return known

        known: Known = self.snap.memo(("known", whole), compute)
        return known

    def column(self, column: str) -> list[Any]:
        """Every run's value of one column (memoised per snapshot: the values, not the runs)."""

        def compute() -> list[Any]:
            if not needs_record(column):
                return [value(head, column) for _, head in self.snap.heads(range(len(self.snap)))]
            values: list[Any] = [None] * len(self.snap)
            for i, rec in self.snap.wholes(range(len(self.snap))):
                values[i] = value(rec, column)
            return values

        result: list[Any] = self.snap.memo(("column", column), compute)
        return result

    def ordered(self, where: str | None, sort: str | None, descending: bool) -> Sequence[int]:
        rows = self.matching(where)
        if not sort or sort == "started_at" and descending:
            return rows  # the snapshot is newest first already
        if sort == "started_at":
            return rows[::-1]

        def compute() -> array[int]:
            values = self.column(sort)
            present = [i for i in rows if not _missing(values[i])]
            absent = [i for i in rows if _missing(values[i])]
            present.sort(key=lambda i: _key(values[i]), reverse=descending)
            return array("q", present + absent)  # missing values last either way

        result: array[int] = self.snap.memo(("order", where, sort, descending), compute)
        return result

    def page(
        self, where: str | None, sort: str | None, descending: bool, columns: list[str], offset: int, limit: int
    ) -> dict[str, Any]:
        rows = self.ordered(where, sort, descending)
        limit = max(1, min(limit, MAX_PAGE))
        offset = max(0, min(offset, max(0, len(rows) - 1)))
        shown = list(rows[offset : offset + limit])
        whole = dict(self.snap.wholes(shown)) if any(needs_record(c) for c in columns) else {}
        out = []
        for i in shown:
            head = self.snap.head(i)
            rec = whole.get(i, head)
            out.append({"id": head["id"], "status": self.snap.statuses[i], "cells": [value(rec, c) for c in columns]})
        return {"total": len(rows), "runs": len(self.snap), "offset": offset, "limit": limit,
                "columns": columns, "rows": out, "counts": self.counts(where)}  # fmt: skip

    def counts(self, where: str | None) -> dict[str, int]:
        if not where or not where.strip():
            return self.snap.counts

        def compute() -> dict[str, int]:
            return dict(sorted(Counter(str(self.snap.statuses[i]) for i in self.matching(where)).items()))

        result: dict[str, int] = self.snap.memo(("counts", where), compute)
        return result


def available_columns(snap: Snapshot) -> dict[str, list[str]]:
    """The columns a user can pick: attributes, every metric, and the params and tags of the
    newest SAMPLE runs (any other `params.x` can be typed in)."""

    def compute() -> dict[str, list[str]]:
        metrics: set[str] = set()
        for _, head in snap.heads(range(len(snap))):
            metrics.update((head.get("metrics") or {}).keys())
        params: set[str] = set()
        tags: set[str] = set()
        for _, rec in snap.wholes(range(min(SAMPLE, len(snap)))):
            params.update(flatten(rec.get("params") or {}).keys())
            tags.update((rec.get("tags") or {}).keys())
        return {
            "attributes": list(ATTRIBUTES),
            "metrics": sorted(f"metrics.{m}" for m in metrics),
            "params": sorted(f"params.{p}" for p in params),
            "tags": sorted(f"tags.{t}" for t in tags),
        }

    result: dict[str, list[str]] = snap.memo("available-columns", compute)
    return result
