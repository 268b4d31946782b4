"""The runs a selection covers, as every reader shows them: scanned through the cache and
tree summary, filtered with the `--where` grammar (a name no run has is refused with the
close matches), and a `running` run whose process is gone shown as `crashed`."""

from __future__ import annotations

from collections.abc import Iterator

from ledger.core.workspace import Workspace
from ledger.read import liveness
from ledger.read.filter import Filter, compile_filter
from ledger.read.known import Known
from ledger.read.records import Item, scan
from ledger.read.sources import (
    Progress,
    Selection,
)

# The fields every scan has without loading whole records (the cache's "head").
HEAD_FIELDS = frozenset({"id", "name", "status", "experiment", "started_at", "metrics"})


def _filter(where: str | Filter | None) -> Filter | None:
    if where is None or isinstance(where, Filter):
        return where
    return compile_filter(where)


def scan_items(
    ws: Workspace,
    selection: Selection | None = None,
    where: str | Filter | None = None,
    progress: Progress | None = None,
    *,
    known: Known | None = None,
) -> Iterator[Item]:
    """The scanned runs a selection covers that pass `where` (the filter reads the small head
    when it can, else the whole record).

    A metric, parameter or tag that `where` names and no run of the selection has is an
    error (`UnknownField`, naming the close matches), raised once the scan is done. Pass
    `known` to collect the names seen (metric names of every run in the selection)."""
    found = _filter(where)
    items = (shown(ws, item) for item in scan(ws, selection, progress))
    if found is None and known is None:
        return items
    return _checked(items, found, known or Known())


def _checked(items: Iterator[Item], found: Filter | None, known: Known) -> Iterator[Item]:
    refs = found.refs if found is not None else frozenset()
    whole = any(kind != "metric" for kind, _ in refs)  # params and tags are not in the head
    on_head = found is None or found.fields <= HEAD_FIELDS
    for item in items:
        known.add_head(item.head)
        if whole:
            known.add_record(item.record)
        if found is None or found(item.head if on_head else item.record):
            yield item
    for kind, name in sorted(refs):
        known.check(kind, name)


def shown(ws: Workspace, item: Item) -> Item:
    """The run as a reader shows it: a `running` run whose process is gone is shown as
    `crashed`, with what its journal holds (derived, not written)."""
    if item.head.get("status") != "running" or not liveness.is_dead(item.record):
        return item
    return item.shown_as(liveness.crashed_view(ws, item.record))
