"""One revision's runs asked about as a whole (what `ledger diff` asks of BASE)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from ledger.core.workspace import Workspace
from ledger.read import query
from ledger.read.records import Item
from ledger.read.selected import scan_items, shown
from ledger.read.sources import (
    Selection,
)

T = TypeVar("T")


class RevisionRuns:
    """The runs of one revision, for questions about all of them at once (which metrics they
    have, the best finished run, a run by id or name, the flagged baselines). Answered from
    the revision's tree summary when it has one (a metric's column, a few rows: not every
    head), else from every run's head; either way each run as a reader shows it (a dead run
    is crashed). `ledger diff` asks these of BASE."""

    def __init__(self, ws: Workspace, selection: Selection):
        from ledger.read import summary, treeindex

        self.ws = ws
        self.selection = selection
        self._damaged = treeindex.Damaged
        self._view = summary.view(ws, selection)
        self._items: list[Item] | None = None

    def _shown(self, item: Item) -> Item:
        return shown(self.ws, item)

    def items(self) -> list[Item]:
        """Every run, by id (what the questions fall back to)."""
        if self._items is None:
            self._items = sorted(scan_items(self.ws, self.selection), key=lambda item: str(item.head["id"]))
        return self._items

    def _ask(self, question: Callable[[Any], T | None]) -> T | None:
        """`question` of the summary's view; None when there is none, it cannot tell or a
        part of it is damaged (then the caller asks the heads)."""
        if self._view is None:
            return None
        try:
            return question(self._view)
        except self._damaged:
            self._view = None
            return None

    def metric_counts(self, status: str | None = None) -> tuple[int, dict[str, int]]:
        """(how many runs, how many of them have each metric), of one status when given."""
        found = self._ask(lambda view: view.metric_counts(status, self._shown))
        if found is not None:
            return found
        heads = [item.head for item in self.items() if status is None or item.head.get("status") == status]
        counts: dict[str, int] = {}
        for head in heads:
            for name in head.get("metrics") or {}:
                counts[str(name)] = counts.get(str(name), 0) + 1
        return len(heads), counts

    def best_finished(self, metric: str, direction: str) -> Item | None:
        """The best finished run on `metric` with a usable value (`ledger top`'s ranking)."""
        ranked = self._ask(lambda view: view.best(metric, direction, 1, shown=self._shown, having=True))
        if ranked is None:
            finished = [item for item in self.items() if item.head.get("status") == "finished"]
            ranked = query.best(finished, metric, direction, 1, key=lambda item: item.head)
        if not ranked or ranked[0].head.get("status") != "finished":
            return None
        value = query.metric_value(ranked[0].head, metric)
        return ranked[0] if value is not None and value == value else None

    def named(self, ref: str) -> list[Item]:
        """The runs whose id or name is `ref`, by id."""
        found = self._ask(lambda view: [self._shown(item) for item in view.named(ref)])
        if found is None:
            found = [item for item in self.items() if ref in (item.head["id"], item.head.get("name"))]
        return sorted(found, key=lambda item: str(item.head["id"]))

    def flagged(self) -> list[Item]:
        """The runs flagged `baseline: true`."""
        found = self._ask(lambda view: [self._shown(item) for item in view.flagged()])
        if found is None:
            found = [item for item in self.items() if item.head.get("baseline") is True]
        return found
