"""The library face of the read path: `ledger.runs()` and `ledger.top()`.

Every consumer (the CLI, the report, the review, plots, the UI, the MLflow shim and store)
reads through these two calls, so a filter, a ranking or a revision means the same thing
everywhere:

    import ledger

    finished = ledger.runs(where="status = 'finished' and params.model.type = 'xgb'")
    best = ledger.top("auc", n=5)
    frame = best.to_pandas()      # one row per run: params.*, metrics.*, tags.* columns

Reading is a pure function of the repository: nothing here writes to refs, the index, the
working tree or the stash (only the disposable parse cache under the git directory). A run
whose process died is shown as `crashed` (`read.liveness`); recording it is left to the
write commands.

Beside them, the few workspace-level calls the rest of ledger needs (the records of a
selection, one run by id or reference, the working tree's records, one record's bytes
checked, a revision looked up, what a branch changed since its fork) and the types they
return (`Item`, `Loaded`, `Selection`, `Changes`), one revision's runs asked about as a whole
(`RevisionRuns`, for `ledger diff`) and the runs read as they are asked for (the UI). They
live in `selected`, `lookups`, `revision` and `pages` and are re-exported here. The
machinery behind them (`records`, `sources`, `summary`, `treeindex`, `cache`, `bulkread`,
`shapes`, `fastyaml`, `fastschema`) is private to `ledger.read`: tests/test_architecture.py
holds that.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from ledger.core.workspace import Workspace
from ledger.read import query
from ledger.read.filter import Filter
from ledger.read.known import Known, check_field, column_kind, lookup
from ledger.read.lookups import load, read_records, run_by_id, settings_at, uncommitted, validate_record
from ledger.read.pages import heads, newest, overlay, peek, positions, record_jsons, start_overlay, statuses
from ledger.read.records import Item, Loaded, candidates, find, parse_record, scan
from ledger.read.revision import RevisionRuns
from ledger.read.selected import HEAD_FIELDS, scan_items, shown
from ledger.read.sources import (
    Changes,
    Progress,
    Selection,
    changed_since_fork,
    resolve_revision,
)

if TYPE_CHECKING:
    import pandas

__all__ = [
    "HEAD_FIELDS", "Changes", "Item", "Loaded", "Progress", "Runs", "Selection", "candidates",
    "changed_since_fork", "find", "flat_row", "leaderboard", "load", "parse_record", "read_records",
    "resolve_revision", "run_by_id", "runs", "scan_items", "settings_at", "shown", "top", "uncommitted",
    "validate_record", "RevisionRuns",
    # runs read as asked for (the UI)
    "heads", "newest", "overlay", "peek", "positions", "record_jsons", "start_overlay", "statuses",
]  # fmt: skip


class Runs(Sequence[dict[str, Any]]):
    """Records as stored (plain dicts), loaded on first access, in a fixed order."""

    def __init__(self, items: Iterable[Item]):
        # A sequence is kept as it is: the newest-first runs of a summary make each item
        # only when it is asked for.
        self._items: Sequence[Item] = items if isinstance(items, Sequence) else list(items)

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> Runs: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | Runs:
        if isinstance(index, slice):
            return Runs(self._items[index])
        return self._items[index].record

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (item.record for item in self._items)

    def __repr__(self) -> str:
        return f"<Runs: {len(self)} runs>"

    @property
    def items(self) -> list[Item]:
        """The scanned items (the record's where-found: path, origin, commit, blob)."""
        return list(self._items)

    @property
    def heads(self) -> list[dict[str, Any]]:
        """The small head of each record (id, name, status, experiment, started_at, metrics),
        without loading whole records."""
        return [item.head for item in self._items]

    @property
    def ids(self) -> list[str]:
        return [str(item.head["id"]) for item in self._items]

    def to_pandas(self) -> pandas.DataFrame:
        """One row per run, like `mlflow.search_runs`: the run's scalar fields plus
        flattened `params.*`, `metrics.*` and `tags.*` columns (pandas is imported only now)."""
        from ledger.read.frames import data_frame

        return data_frame([flat_row(rec) for rec in self])


def flat_row(rec: dict[str, Any]) -> dict[str, Any]:
    """A record as one flat row: scalar top-level fields, `params.a.b`, `metrics.m`, `tags.t`."""
    from ledger.core.fields import flatten

    row: dict[str, Any] = {}
    for key in ("id", "name", "status", "experiment", "started_at", "ended_at", "duration_s", "baseline"):
        if key in rec:
            row[key] = rec[key]
    author = rec.get("author") or {}
    if "name" in author:
        row["author"] = author["name"]
    code = rec.get("code") or {}
    if "commit" in code:
        row["code.commit"] = code["commit"]
    row.update({f"params.{k}": v for k, v in flatten(rec.get("params") or {}).items()})
    row.update({f"metrics.{k}": v for k, v in (rec.get("metrics") or {}).items()})
    row.update({f"tags.{k}": v for k, v in (rec.get("tags") or {}).items()})
    return row


def _workspace(path: str | Path | None) -> Workspace:
    return Workspace.find(Path(path) if path is not None else None)


def runs(
    where: str | None = None,
    rev: str | None = None,
    all: bool = False,  # noqa: A002 - the CLI's --all, by design
    include_deleted: bool = False,
    *,
    path: str | Path | None = None,
) -> Runs:
    """The runs of the repository at `path` (default: the current directory), newest first.

    `where` takes the `--where` grammar; `rev` one revision or a range `A..B`; `all` every
    local and remote-tracking branch; by default HEAD plus uncommitted runs."""
    ws = _workspace(path)
    selection = Selection(rev=rev, all_branches=all, include_deleted=include_deleted)
    if where is None:
        from ledger.read import summary

        view = summary.view(ws, selection)
        newest = view.newest(shown=lambda item: shown(ws, item)) if view is not None else None
        if newest is not None:
            return Runs(newest)
    items = sorted(
        scan_items(ws, selection, where),
        key=lambda item: (str(item.head.get("started_at") or ""), str(item.head["id"])),
        reverse=True,
    )
    return Runs(items)


def top(
    metric: str | None = None,
    n: int | None = 10,
    where: str | None = None,
    direction: str | None = None,
    rev: str | None = None,
    all: bool = False,  # noqa: A002 - the CLI's --all, by design
    *,
    columns: Sequence[str] = (),
    path: str | Path | None = None,
) -> Runs:
    """The leaderboard: the `n` best runs by `metric` (default: ledger.yaml's primary metric),
    ranked as `ledger top` ranks them (direction from ledger.yaml or the metric's name; runs
    without the metric left out, NaN last; ties to the newer run, then the id).

    A metric, parameter or tag that no run has (in `metric`, `where` or `columns`) raises
    `UnknownField` naming the close matches: `ledger.top("acu")` -> did you mean 'auc'?"""
    ws = _workspace(path)
    selection = Selection(rev=rev, all_branches=all)
    return leaderboard(ws, metric, n, where, direction, selection, columns=columns)


def leaderboard(
    ws: Workspace,
    metric: str | None = None,
    n: int | None = 10,
    where: str | Filter | None = None,
    direction: str | None = None,
    selection: Selection | None = None,
    *,
    columns: Sequence[str] = (),
    progress: Progress | None = None,
) -> Runs:
    """`top` on an open workspace and selection (what `ledger top` calls)."""
    name = metric or ws.config.primary_metric
    if not name:
        from ledger.errors import UsageError

        raise UsageError("which metric? pass --metric NAME or set primary_metric in ledger.yaml")
    for column in columns:
        kind, field = column_kind(column)
        if kind == "field":
            check_field(field)
    way = direction or ws.config.direction(name)
    known = Known()
    ranked = _from_summary(ws, selection, where, name, way, n, known, progress)
    if ranked is None:
        items = scan_items(ws, selection, where, progress, known=known)
        having = (item for item in items if query.metric_value(item.head, name) is not None)
        ranked = query.best(having, name, way, n, key=lambda item: item.head)
    known.check("metric", name)
    _check_columns(ws, selection, columns, known, ranked)
    return Runs(ranked)


def _from_summary(
    ws: Workspace, selection: Selection | None, where: str | Filter | None, metric: str, direction: str,
    n: int | None, known: Known, progress: Progress | None,
) -> list[Item] | None:  # fmt: skip
    """The unfiltered leaderboard of one revision from its tree summary (`read.summary`):
    one metric column ranked, only the runs that can make the top read; None otherwise."""
    if where is not None or n is None:
        return None
    from ledger.read import summary

    view = summary.view(ws, selection or Selection(), progress)
    names = view.metric_names() if view is not None else None
    if view is None or names is None:
        return None
    known.runs += view.count()
    known.names["metric"].update(names)
    return view.best(metric, direction, n, shown=lambda item: shown(ws, item), having=True)


def _check_columns(
    ws: Workspace, selection: Selection | None, columns: Sequence[str], known: Known, shown: list[Item]
) -> None:
    """Refuse a column no run has. Metric names are known from the scan; a parameter or tag
    that none of the shown runs has is looked for in every run (only then: it costs a
    second, whole-record scan)."""
    everywhere: Known | None = None
    for column in columns:
        kind, name = column_kind(column)
        if kind == "metric":
            known.check(kind, name)
        elif kind in ("param", "tag") and not any(lookup(item.record, column) is not None for item in shown):
            if everywhere is None:
                everywhere = Known()
                for item in scan(ws, selection):
                    everywhere.add_head(item.head)
                    everywhere.add_record(item.record)
            everywhere.check(kind, name)
