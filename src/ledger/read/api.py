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
return (`Item`, `Loaded`, `Selection`, `Changes`). The machinery behind them (`records`,
`sources`, `summary`, `treeindex`, `cache`, `bulkread`, `shapes`, `fastyaml`, `fastschema`)
is private to `ledger.read`: tests/test_architecture.py holds that.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload

from ledger import gitstore
from ledger.core import config as _config
from ledger.core import yamlio
from ledger.core.workspace import Workspace
from ledger.errors import LedgerError, RecordError
from ledger.read import liveness, query
from ledger.read.filter import Filter, compile_filter
from ledger.read.known import Known, check_field, column_kind, lookup
from ledger.read.records import Item, Loaded, candidates, find, parse_record, scan, scan_entries
from ledger.read.sources import (
    Changes,
    Progress,
    Selection,
    changed_since_fork,
    entries,
    resolve_revision,
    worktree_entries,
)

T = TypeVar("T")

if TYPE_CHECKING:
    import pandas

__all__ = [
    "HEAD_FIELDS", "Changes", "Item", "Loaded", "Progress", "Runs", "Selection", "candidates",
    "changed_since_fork", "find", "flat_row", "leaderboard", "load", "parse_record", "read_records",
    "resolve_revision", "run_by_id", "runs", "scan_items", "settings_at", "shown", "top", "uncommitted",
    "validate_record",
    # runs read as asked for (the UI)
    "heads", "newest", "overlay", "peek", "positions", "record_jsons", "start_overlay", "statuses",
]  # fmt: skip

# The fields every scan has without loading whole records (the cache's "head").
HEAD_FIELDS = frozenset({"id", "name", "status", "experiment", "started_at", "metrics"})


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


# ---------------------------------------------------------------------------- workspace-level calls


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
    ws: Workspace, blobs: Mapping[str, str], label: str
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Read the records at the given blobs (path -> blob id, e.g. `Changes.changed`) as
    untrusted input: (path -> record, for each that parses and validates with an id that
    matches its path; path -> one-line problem, for the rest). Messages name `label:path`."""
    parsed: dict[str, dict[str, Any]] = {}
    problems: dict[str, str] = {}
    paths = sorted(blobs)
    if not paths:
        return parsed, problems
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


def settings_at(ws: Workspace, commit: str) -> _config.Config | None:
    """ledger.yaml as a commit has it; None when it has none or it cannot be read."""
    data = gitstore.read_file_at(ws.root, commit, _config.CONFIG_FILE, yamlio.MAX_BYTES)
    if not data:
        return None
    try:
        return _config.from_bytes(data, source=f"{commit[:8]}:{_config.CONFIG_FILE}", root=ws.root)
    except LedgerError:
        return None


# ---------------------------------------------------------------------------- runs read as asked for
#
# What `ledger ui` serves 100,000 runs through: the runs newest first where one revision's
# tree summary allows, without decoding every head (`read.summary.Newest`), read a few at a
# time, with the working tree's records laid over them apart (a running run rewrites its
# record every few seconds; that must not cost a re-read of the committed runs).


def newest(ws: Workspace, selection: Selection | None = None) -> Sequence[Item]:
    """The runs of a selection newest first, as `runs()` lists them (each as shown: a dead
    `running` run is crashed). Over one revision each run is made when it is first asked
    for; ranges, `--all` and `--include-deleted` are scanned now."""
    from ledger.read import summary

    selection = selection or Selection()
    view = summary.view(ws, selection)
    found = view.newest(shown=lambda item: shown(ws, item)) if view is not None else None
    if found is not None:
        return found
    return sorted(scan_items(ws, selection), key=_newest_key, reverse=True)


def _newest_key(item: Item) -> tuple[str, str]:
    return str(item.head.get("started_at") or ""), str(item.head["id"])


def statuses(runs: Sequence[Item]) -> list[str | None]:
    """Each run's status as shown, in order; from `newest` runs, only `running` runs are read."""
    from ledger.read import summary

    if isinstance(runs, summary.Newest):
        return runs.statuses()
    return [s if isinstance(s := item.head.get("status"), str) else None for item in runs]


def peek(runs: Sequence[Item], position: int) -> Item:
    """The run at `position` (0 or more) made for this caller only: `runs` does not keep it,
    so a pass over every run leaves nothing behind (nor does its whole record, once read)."""
    import copy

    from ledger.read import summary

    if not isinstance(runs, summary.Newest):
        return copy.copy(runs[position])  # its record, once read, goes with the copy
    made = runs.made.get(position)
    slot = runs.slots[position]
    if made is not None or not isinstance(slot, int):
        return made if made is not None else runs[position]
    item = runs.view.item(slot)
    return runs.shown(item) if runs.shown is not None else item


def heads(runs: Sequence[Item], positions: Iterable[int]) -> Iterator[dict[str, Any]]:
    """The small head of the run at each position (as shown), each read for this caller only."""
    from ledger.read import summary

    if not isinstance(runs, summary.Newest):
        yield from (runs[position].head for position in positions)
        return
    recorded = runs.view.summary.statuses()
    for position in positions:
        slot = runs.slots[position]
        made = runs.made.get(position)
        if made is not None or not isinstance(slot, int) or recorded[slot] == "running":
            yield (made or runs[position]).head  # as shown (a dead run is crashed)
        else:
            yield runs.view.summary.head(slot)


def record_jsons(runs: Sequence[Item], positions: Iterable[int]) -> Iterator[bytes | None]:
    """For each position, the run's whole record as JSON, as the records cache holds it
    (checksum verified), for a caller that can skip a run by its bytes before decoding it;
    None where the record is not read from there (a run of the working tree, a `running`
    run, a line gone from the cache): read that one with `peek(...).record`."""
    from ledger.read import summary

    if not isinstance(runs, summary.Newest):
        yield from (None for _ in positions)
        return
    view = runs.view
    recorded = view.summary.statuses()
    try:
        fh = open(view.cache.path, "rb")  # noqa: SIM115 - closed below; generator
    except OSError:
        yield from (None for _ in positions)
        return
    with fh:
        for position in positions:
            slot = runs.slots[position]
            if not isinstance(slot, int) or recorded[slot] == "running":
                yield None
                continue
            _, blob, offset = view.summary.row(slot)
            yield _full_json(fh, offset, blob)


def _full_json(fh: Any, offset: int, blob: str) -> bytes | None:
    """The whole-record JSON of `blob`'s line at `offset` of the records cache (its layout:
    `<blob> <crc of head> <crc of full> <head> TAB <full>`), if it is still there, intact."""
    import zlib

    from ledger.core import yamlio

    if offset < 0:
        return None
    fh.seek(offset)
    line = fh.readline(yamlio.MAX_BYTES * 8)
    first = len(blob)
    if not line.startswith(blob.encode("ascii") + b" "):
        return None
    tab = line.find(b"\t", first)
    if tab < 0:
        return None
    full = line[tab + 1 :].rstrip(b"\n")
    if line[first + 10 : first + 18] != b"%08x" % zlib.crc32(full) or full == b"null":
        return None
    return full


def positions(runs: Sequence[Item], run_ids: Iterable[str]) -> dict[str, int]:
    """Where the runs with these ids are in `runs` (those it has), found without decoding
    every head where the tree summary allows."""
    from ledger.core.record import run_id_from_path
    from ledger.read import summary

    wanted = set(run_ids)
    found: dict[str, int] = {}
    if not wanted:
        return found
    if not isinstance(runs, summary.Newest):
        for position, item in enumerate(runs):
            if str(item.head["id"]) in wanted:
                found[str(item.head["id"])] = position
        return found
    rows = runs.view.summary.find(wanted)
    for position, slot in enumerate(runs.slots):
        if isinstance(slot, int):
            if slot in rows:
                found[str(run_id_from_path(runs.view.summary.row(slot)[0]))] = position
        elif str(slot.head["id"]) in wanted:
            found[str(slot.head["id"])] = position
    return found


def start_overlay(ws: Workspace) -> Callable[[Sequence[Item]], tuple[list[Item], list[int]]]:
    """`overlay`, started now: git lists the working tree's new and changed record files
    (it stats every one: most of the time on 100,000 runs) while the caller reads the
    committed runs, then calls the function returned with them (always: it waits for git)."""
    from ledger.read.sources import start_worktree_listing

    listing = start_worktree_listing(ws)
    return lambda runs: overlay(ws, runs, listing)


def overlay(
    ws: Workspace, runs: Sequence[Item], listed: Callable[[], list[str]] | None = None
) -> tuple[list[Item], list[int]]:
    """The working tree's new and changed records laid over committed `runs` (from `newest`
    with `worktree=False`): the runs to add, each as shown, and the positions in `runs`
    whose run they replace. Of a run in both, the newest version wins, as one scan decides
    (so the answer is `newest` with the working tree, read without re-reading `runs`).
    `listed` answers which files changed when that was asked earlier (`start_overlay`)."""
    from ledger.read import summary
    from ledger.read.sources import WORKTREE, Entry, Source, entry

    found = worktree_entries(ws, listed)
    if not found:
        return [], []
    at = positions(runs, {e.run_id for e in found})
    committed: list[Entry] = []
    cache_from = 0
    for position in at.values():
        if isinstance(runs, summary.Newest) and isinstance(slot := runs.slots[position], int):
            path, blob, _ = runs.view.summary.row(slot)
            made = entry(path, blob, runs.view.source)
        else:  # a scanned run: the working tree (newer than any commit) wins a tie on time
            item = peek(runs, position)
            made = entry(item.path, str(item.blob), Source(item.origin, item.commit, 0))
        if made is not None:
            committed.append(made)
    if isinstance(runs, summary.Newest):
        cache_from = runs.view.summary.cache_end  # what was added since: not every run's line
    added: list[Item] = []
    replaced: list[int] = []
    for item in scan_entries(ws, [*found, *committed], cache_from=cache_from):
        if item.origin == WORKTREE:
            added.append(shown(ws, item))
            if str(item.head["id"]) in at:
                replaced.append(at[str(item.head["id"])])
    return sorted(added, key=_newest_key, reverse=True), sorted(replaced)
