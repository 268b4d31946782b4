"""The runs table: columns, filter, sort and one page, over a snapshot.

The default view (newest first, head columns) reads only the small head of each run, so a
first page over 100,000 runs costs one pass over the heads. A filter or a sort on a field
outside the head loads whole records once per snapshot; results are memoised per snapshot
(dropped when the repository changes), so paging and re-sorting are instant.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from ledger.core.fields import flatten
from ledger.read.api import HEAD_FIELDS
from ledger.read.filter import compile_filter
from ledger.read.known import Known
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

    def _source(self, position: int, whole: bool) -> dict[str, Any]:
        return self.snap.record(position) if whole else self.snap.heads[position]

    def matching(self, where: str | None) -> list[int]:
        """Positions of the runs that pass `where` (FilterError on a bad expression)."""
        if not where or not where.strip():
            return list(range(len(self.snap.items)))
        found = compile_filter(where)
        whole = not found.fields <= HEAD_FIELDS
        self.check_names(found.refs)

        def compute() -> list[int]:
            return [i for i in range(len(self.snap.items)) if found(self._source(i, whole))]

        result: list[int] = self.snap.memo(("where", where.strip()), compute)
        return result

    def check_names(self, refs: frozenset[tuple[str, str]]) -> None:
        """A metric, param or tag that no run has is an error naming the close matches, as
        for `--where` on the command line (the library's `Known`, per snapshot)."""
        if not refs:
            return
        whole = any(kind != "metric" for kind, _ in refs)

        def compute() -> Known:
            known = Known()
            for i, head in enumerate(self.snap.heads):
                known.add_head(head)
                if whole:
                    known.add_record(self.snap.record(i))
            return known

        known: Known = self.snap.memo(("known", whole), compute)
        for kind, name in sorted(refs):
            known.check(kind, name)

    def column(self, column: str) -> list[Any]:
        """Every run's value of one column (memoised per snapshot)."""

        def compute() -> list[Any]:
            whole = needs_record(column)
            return [value(self._source(i, whole), column) for i in range(len(self.snap.items))]

        result: list[Any] = self.snap.memo(("column", column), compute)
        return result

    def ordered(self, where: str | None, sort: str | None, descending: bool) -> list[int]:
        rows = self.matching(where)
        if not sort or sort == "started_at" and descending:
            return rows  # the snapshot is newest first already
        if sort == "started_at":
            return rows[::-1]

        def compute() -> list[int]:
            values = self.column(sort)
            present = [i for i in rows if not _missing(values[i])]
            absent = [i for i in rows if _missing(values[i])]
            present.sort(key=lambda i: _key(values[i]), reverse=descending)
            return present + absent  # missing values last either way

        result: list[int] = self.snap.memo(("order", where, sort, descending), compute)
        return result

    def page(
        self, where: str | None, sort: str | None, descending: bool, columns: list[str], offset: int, limit: int
    ) -> dict[str, Any]:
        rows = self.ordered(where, sort, descending)
        limit = max(1, min(limit, MAX_PAGE))
        offset = max(0, min(offset, max(0, len(rows) - 1)))
        out = []
        whole = any(needs_record(c) for c in columns)
        for i in rows[offset : offset + limit]:
            head = self.snap.heads[i]
            rec = self.snap.record(i) if whole else head
            out.append({"id": head["id"], "status": head.get("status"), "cells": [value(rec, c) for c in columns]})
        return {"total": len(rows), "runs": len(self.snap.items), "offset": offset, "limit": limit,
                "columns": columns, "rows": out, "counts": self.counts(where)}  # fmt: skip

    def counts(self, where: str | None) -> dict[str, int]:
        if not where or not where.strip():
            return self.snap.statuses

        def compute() -> dict[str, int]:
            return dict(sorted(Counter(str(self.snap.heads[i].get("status")) for i in self.matching(where)).items()))

        result: dict[str, int] = self.snap.memo(("counts", where), compute)
        return result


def available_columns(snap: Snapshot) -> dict[str, list[str]]:
    """The columns a user can pick: attributes, every metric, and the params and tags of the
    newest SAMPLE runs (any other `params.x` can be typed in)."""

    def compute() -> dict[str, list[str]]:
        metrics: set[str] = set()
        for head in snap.heads:
            metrics.update((head.get("metrics") or {}).keys())
        params: set[str] = set()
        tags: set[str] = set()
        for i in range(min(SAMPLE, len(snap.items))):
            rec = snap.items[i].record
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
