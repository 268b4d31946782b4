"""Reading records: from revisions (streamed in bulk), the working tree and history.

The read path, per query:
1. `sources.entries` lists record files (path, blob id, where seen); cheap plumbing.
2. Each distinct blob is parsed and validated once, ever: the cache (`cache.py`, under the
   git directory) answers for blobs seen before; the others are streamed through one
   `git cat-file --batch`, parsed (`fastyaml`, else the safe loader), validated
   (`fastschema`, else jsonschema) and added to the cache. Big cold scans fan out to worker
   processes that write straight into the cache, which the parent reads back.
3. A run id seen in several places is one run: the newest version wins.

Records are untrusted input: a bad one is skipped with a warning naming commit and path,
and never stops a query.
"""

from __future__ import annotations

import copy
import json
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger import gitstore
from ledger.core import record, yamlio
from ledger.core.workspace import Workspace
from ledger.errors import LedgerError, LedgerWarning, RecordError, RunNotFound, UnsupportedVersion
from ledger.read import cache as cache_mod
from ledger.read import treeindex
from ledger.read.sources import Entry, Progress, Selection, entries, worktree_entries


@dataclass(frozen=True)
class Loaded:
    record: dict[str, Any]
    path: str
    origin: str  # a commit (`<sha>^` for a deleted record), or "worktree"
    commit: str | None = None
    blob: str | None = None


class Item:
    """One run found by a scan: rank fields (`head`) now, the full record on first use."""

    __slots__ = ("path", "origin", "commit", "blob", "head", "root", "_data", "_record", "_raw", "_at")

    def __init__(
        self, root: Path, entry: Entry, head: dict[str, Any], rec: dict[str, Any] | None, raw: bytes | None,
        at: tuple[cache_mod.Cache, int] | None = None,
    ):  # fmt: skip
        self.root = root
        self.path = entry.path
        self.origin = entry.source.label
        self.commit = entry.source.commit
        self.blob = entry.blob
        self.head = head
        self._data = entry.data
        self._record = rec
        self._raw = raw  # the cache line, checked and decoded on first use
        self._at = at  # or where that line is (the cache, an offset), checked when read

    @property
    def record(self) -> dict[str, Any]:
        if self._record is None:
            cache = self._at[0] if self._at is not None and self._raw is None else None
            if cache is not None:
                self._raw = cache.line_at(self._at[1], self.blob)  # type: ignore[index]
            rec = cache_mod.full_record(self._raw) if self._raw is not None else None
            self._record = rec if rec is not None else self._reparse(cache)
            if cache is not None and cache.damaged:
                cache.repair()
            self._raw = None
        return self._record

    def _reparse(self, cache: cache_mod.Cache | None = None) -> dict[str, Any]:
        """The cache line's record part is damaged: read and check the blob again (and put
        the line back into `cache`)."""
        data = self._data
        if data is None:
            [(_, _, data)] = list(gitstore.iter_blobs(self.root, [self.blob], yamlio.MAX_BYTES))
        from ledger.read.bulkread import analyze  # the parsers: only when something is parsed

        payload = analyze(data)
        if "r" not in payload:
            raise _error(payload, f"{self.origin}:{self.path}")
        if cache is not None and "x" not in payload:
            cache.append([cache_mod.encode(self.blob, payload)])
        rec: dict[str, Any] = payload["r"]
        return rec

    def loaded(self) -> Loaded:
        return Loaded(self.record, self.path, self.origin, self.commit, self.blob)

    def shown_as(self, rec: dict[str, Any]) -> Item:
        """The same run, shown with a record derived on read (a dead run as `crashed`)."""
        item = copy.copy(self)
        item.head = {**self.head, **{k: rec.get(k) for k in ("status", "metrics") if k in self.head or k in rec}}
        item._record, item._raw = rec, None  # noqa: SLF001 - a copy of this same class
        return item


# ---------------------------------------------------------------------------- one blob


def _error(payload: dict[str, Any], where: str) -> RecordError:
    cls = UnsupportedVersion if payload.get("v") else RecordError
    return cls(str(payload.get("e")), path=where, pointer=payload.get("p"))


def parse_record(data: bytes, source: str, expected_path: str | None = None) -> dict[str, Any]:
    """Parse and validate one record blob; RecordError on anything wrong with it."""
    from ledger.read.bulkread import analyze

    payload = analyze(data)
    if "e" in payload:
        raise _error(payload, source)
    rec: dict[str, Any] = payload["r"]
    if expected_path is not None and record.run_id_from_path(expected_path) != rec["id"]:
        raise RecordError(f"its id {rec['id']!r} does not match its file name", path=source)
    return rec


def _warn_skip(exc: LedgerError) -> None:
    one_line = " ".join(str(exc).split())  # a message quoting the record stays one line
    warnings.warn(f"skipped a bad record: {one_line}", LedgerWarning, stacklevel=4)


# ---------------------------------------------------------------------------- scans


def _version_key(item: Item, time_of: dict[str, int]) -> tuple[Any, ...]:
    """Which version of a run is the newest: final over running, later end, newer source."""
    rec = item.record
    moment = rec.get("ended_at") or (rec.get("process") or {}).get("heartbeat_at") or rec.get("started_at")
    return (rec.get("status") != "running", str(moment or ""), time_of.get(item.origin, 0))


class Recorder:
    """What a scan found, for a summary of it (`summary.py`), kept small: each run's summary
    row (its path, blob, cache line offset and head JSON: `treeindex.row_line`; kept as
    parts until the offset is known, once written), each metric's values (`value(head,
    name)`, in compact columns), its status and start time, and each record skipped and why."""

    def __init__(self, value: Callable[[dict[str, Any], str], Any]) -> None:
        self.value = value
        self.rows: list[bytes | tuple[str, str, int, bytes]] = []
        self.ids: list[str] = []
        self.columns: dict[str, treeindex.Column] = {}
        self.statuses: list[str | None] = []
        self.started: list[str] = []
        self.skipped: list[tuple[str, dict[str, Any]]] = []
        self.offsets: dict[str, int] = {}
        self.complete = True  # False: something transient (a missing blob) was seen

    def add(self, entry: Entry, head: dict[str, Any], at: int, head_json: bytes | None = None) -> None:
        """One run, with its head's JSON when the cache line already holds it."""
        row = len(self.rows)
        if head_json is None:
            head_json = json.dumps(head, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        at = self.offsets.get(entry.blob, at)
        parts = (entry.path, entry.blob, at, head_json)
        self.rows.append(treeindex.row_line(*parts) if at >= 0 else parts)
        self.ids.append(entry.run_id)
        status = head.get("status")
        self.statuses.append(sys.intern(status) if isinstance(status, str) else None)
        started = head.get("started_at")
        self.started.append(str(started or ""))
        metrics = head.get("metrics")
        for name, value in metrics.items() if isinstance(metrics, dict) else ():
            column = self.columns.get(name)
            if column is None:
                column = self.columns[name] = treeindex.Column()
            column.pad(row)
            column.append(value if type(value) is float else self.value(head, name))

    def lines(self) -> list[bytes]:
        """The rows, each with where its cache line landed (known once it was written)."""
        out = []
        for row in self.rows:
            if not isinstance(row, bytes):
                path, blob, at, head_json = row
                row = treeindex.row_line(path, blob, self.offsets.get(blob, at), head_json)
            out.append(row)
        return out


def _grouped(
    found: Iterable[Entry],
) -> tuple[dict[str, list[Entry]], set[str], dict[str, bytes], dict[str, int]]:
    """(entries by blob, run ids seen in several versions, content of working-tree files by
    blob, each source's time) of the entries to scan, one version per (run id, blob)."""
    found = list(found)
    time_of = {entry.source.label: entry.source.time for entry in found}
    one = found[0].source if found else None
    if all(entry.source is one for entry in found) and len({entry.run_id for entry in found}) == len(found):
        # One tree, each run in one file (the common case, 100,000 runs at a time): nothing
        # to group.
        by_blob: dict[str, list[Entry]] = {}
        for entry in found:
            by_blob.setdefault(entry.blob, []).append(entry)
        data = {entry.blob: entry.data for entry in found if entry.data is not None}
        return by_blob, set(), data, time_of
    groups: dict[str, dict[str, Entry]] = {}
    for entry in sorted(found, key=lambda e: -e.source.time):
        groups.setdefault(entry.run_id, {}).setdefault(entry.blob, entry)
    multi = {run_id for run_id, versions in groups.items() if len(versions) > 1}
    by_blob = {}
    data = {}
    for versions in groups.values():
        for entry in versions.values():
            by_blob.setdefault(entry.blob, []).append(entry)
            if entry.data is not None:
                data[entry.blob] = entry.data
    return by_blob, multi, data, time_of


def scan_entries(
    ws: Workspace, found: Iterable[Entry], progress: Progress | None = None, *,
    recorder: Recorder | None = None, cache_from: int = 0,
) -> Iterator[Item]:  # fmt: skip
    """One Item per run id among `found` (newest version wins); bad records warned, skipped.

    Runs come in no particular order: callers sort. Memory stays bounded by the entries
    list, plus the versions of runs that exist in several versions. A `recorder` is told
    about every run and skip; the cache is searched from byte `cache_from` on.
    """
    by_blob, multi, data, time_of = _grouped(found)
    pending: dict[str, list[Item]] = {}

    if recorder is not None and multi:
        recorder.complete = False

    def emit(
        blob: str, head: dict[str, Any], rec: dict[str, Any] | None, raw: bytes | None, at: int = -1
    ) -> Iterator[Item]:
        for entry in by_blob.get(blob, ()):
            if "e" in head and "id" not in head:
                if recorder is not None:
                    recorder.skipped.append((entry.path, head))
                _warn_skip(_error(head, entry.where))
                continue
            if head.get("id") != entry.run_id:
                if recorder is not None:
                    recorder.skipped.append((entry.path, {"m": head.get("id")}))
                _warn_skip(mismatch(head.get("id"), entry.where))
                continue
            if recorder is not None:
                head_json = cache_mod.head_json(raw) if raw is not None else None
                recorder.add(entry, head, at if raw is not None else -1, head_json)
            item = Item(ws.root, entry, head, rec, raw)
            if entry.run_id in multi:
                pending.setdefault(entry.run_id, []).append(item)
            else:
                yield item

    cache = open_cache(ws)
    missing = set(by_blob)
    offsets = recorder.offsets if recorder is not None else None
    if cache is not None:
        for blob, head, raw, at in cache.read(missing, cache_from):
            missing.discard(blob)
            yield from emit(blob, head, None, raw, at)
    # In listing order, not sorted: trees list paths in about the order the pack stores
    # their blobs, and git reads deltas far faster in pack order than at random.
    todo = [blob for blob in by_blob if blob in missing]
    if not todo:
        if cache is not None and cache.damaged:
            cache.repair()
        yield from _newest(pending, time_of)
        return
    from ledger.read import bulkread  # the parsers: a warm scan never imports them

    if cache is not None and bulkread.parallel_worthwhile(len(todo)):
        in_git = [b for b in todo if b not in data]
        for blob, head, worker_raw in bulkread.parse_in_workers(ws, cache, in_git, progress, offsets):
            missing.discard(blob)
            yield from emit(blob, head, None, worker_raw)
        todo = [blob for blob in todo if blob in missing]  # what the workers could not do
    for blob, head, rec in bulkread.parse_here(ws, cache, todo, data, progress, offsets):
        yield from emit(blob, head, rec, None)
    if cache is not None and (cache.damaged or todo):
        cache.repair()
    yield from _newest(pending, time_of)


def _newest(pending: dict[str, list[Item]], time_of: dict[str, int]) -> Iterator[Item]:
    for candidates in pending.values():
        yield max(candidates, key=lambda item: _version_key(item, time_of))


def mismatch(found: Any, where: str) -> RecordError:
    return RecordError(f"its id {found!r} does not match its file name", path=where)


def open_cache(ws: Workspace) -> cache_mod.Cache | None:
    try:
        git_dir = gitstore.common_dir(ws.root)
    except LedgerError:
        return None
    cache = cache_mod.Cache(git_dir)
    return cache if cache.writable() else None


def scan(ws: Workspace, selection: Selection | None = None, progress: Progress | None = None) -> Iterator[Item]:
    """The runs a selection covers (default: HEAD plus the working tree), one per run id."""
    from ledger.read import summary  # it builds on this module

    view = summary.view(ws, selection or Selection(), progress)
    if view is not None:
        return view.items()
    return scan_entries(ws, entries(ws, selection or Selection()), progress)


def _sorted(items: Iterable[Item]) -> list[Loaded]:
    return sorted((item.loaded() for item in items), key=lambda item: item.record["id"])


def load(
    ws: Workspace, rev: str = "HEAD", worktree: bool = True, *,
    selection: Selection | None = None, progress: Progress | None = None,
) -> list[Loaded]:  # fmt: skip
    """Records reachable at `rev`, plus uncommitted ones in the working tree, sorted by id."""
    if selection is not None:
        return _sorted(scan(ws, selection, progress))
    found = [] if gitstore.rev_parse(ws.root, rev) is None else entries(ws, Selection(rev=rev, worktree=False))
    return _sorted(scan_entries(ws, [*found, *(worktree_entries(ws) if worktree else [])], progress))


def from_revision(ws: Workspace, rev: str) -> list[Loaded]:
    """The valid records in one revision's tree."""
    if gitstore.rev_parse(ws.root, rev) is None:
        return []
    return _sorted(scan(ws, Selection(rev=rev, worktree=False)))


def from_worktree(ws: Workspace) -> list[Loaded]:
    """The valid records that are new or changed in the working tree."""
    return _sorted(scan_entries(ws, worktree_entries(ws)))


def _fields(item: Loaded | Item) -> dict[str, Any]:
    return item.head if isinstance(item, Item) else item.record


def _names(run_id: str, ref: str) -> bool:
    """Whether `ref` is a prefix of the id or its random hash suffix (`7f3a9c`, or its end)."""
    tail = run_id.rsplit("-", 1)[-1]
    return run_id.startswith(ref) or (
        len(ref) >= 4 and all(c in "0123456789abcdef" for c in ref) and tail.startswith(ref)
    )


def candidates(items: Iterable[Item], refs: Iterable[str]) -> list[Item]:
    """The items that `find` could pick for any of `refs` (keeps memory small on big scans)."""
    wanted = tuple(refs)
    return [
        item for item in items
        if any(_names(str(item.head.get("id", "")), r) or item.head.get("name") == r for r in wanted)
    ]  # fmt: skip


def find(items: list[Any], ref: str) -> Any:
    """A run by full id, unique id prefix, the id's hash suffix (`7f3a9c`: the random part
    at its end, unique where names repeat), or unique name (Loaded or Item lists)."""
    exact = [i for i in items if _fields(i).get("id") == ref]
    if exact:
        return exact[0]
    matches = [i for i in items if _names(str(_fields(i).get("id", "")), ref)] or [
        i for i in items if _fields(i).get("name") == ref
    ]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise RunNotFound(f"no run matches {ref!r}: `ledger ls` lists the runs")
    ids = sorted(str(_fields(i).get("id")) for i in matches)
    shown = ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")
    suffix = ids[0].rsplit("-", 1)[-1]
    raise LedgerError(
        f"{ref!r} matches {len(matches)} runs ({shown}): give the id, more of it, or its hash suffix (e.g. {suffix})"
    )
