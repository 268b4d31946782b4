"""The repository as the UI sees it: one snapshot of the runs, rebuilt only when the
repository changes.

Each request asks for `snapshot()`. A cheap fingerprint of what the records depend on (the
refs read, the mtimes of the record folders, the git index, the uncommitted and running
record files) decides whether the last snapshot still holds; when it does not, the runs are
read again through `ledger.runs()` (whose own cache makes that a warm read). `live_token()`
adds the sidecars of running runs, so a page can poll every two seconds for the price of
a few `stat` calls and one `git rev-parse`.
"""

from __future__ import annotations

import gc
import hashlib
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger import gitstore
from ledger.core import record
from ledger.core.workspace import Workspace
from ledger.errors import LedgerWarning
from ledger.read import api, liveness
from ledger.read.records import Item, scan_entries
from ledger.read.sources import Selection, worktree_entries

MEMO_SIZE = 32
# After a snapshot is read, a background thread decodes the whole records of the newest
# WARM_RUNS runs while the app is idle, so a later filter or sort on params does not pay for
# it (the first page never waits for this: it needs only the small heads).
WARM_RUNS = 20_000
QUIET_S = 0.25


@dataclass
class Snapshot:
    """The runs at one repository state, newest first, with their shown status."""

    token: str
    items: list[Item]
    heads: list[dict[str, Any]]  # the small head of each run, status as shown (crashed)
    skipped: list[str]
    _index: dict[str, int] | None = None
    watch: list[Path] = field(default_factory=list)  # files whose change means "read again"
    live: list[Path] = field(default_factory=list)  # sidecars of running runs
    running: list[int] = field(default_factory=list)  # positions of runs shown as running
    statuses: dict[str, int] = field(default_factory=dict)  # runs per shown status
    stale: bool = False  # set when a newer snapshot replaces this one
    warmed: threading.Event = field(default_factory=threading.Event)  # whole records decoded
    _memo: OrderedDict[Any, Any] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, position: int) -> dict[str, Any]:
        """The whole record at `position`, as the read path shows it (a dead run is crashed)."""
        return self.items[position].record

    def find(self, ref: str) -> int | None:
        """The position of a run by id (or unique id prefix, or unique name)."""
        index = self.index
        if ref in index:
            return index[ref]
        matches = [i for run_id, i in index.items() if run_id.startswith(ref)]
        if not matches:
            matches = [i for i, head in enumerate(self.heads) if head.get("name") == ref]
        return matches[0] if len(matches) == 1 else None

    @property
    def index(self) -> dict[str, int]:
        """Position by run id (built on first use: the first page does not need it)."""
        if self._index is None:
            self._index = {str(h["id"]): i for i, h in enumerate(self.heads)}
        return self._index

    def memo(self, key: Any, compute: Callable[[], Any]) -> Any:
        """A small per-snapshot memo (filter results, sort orders, column values)."""
        with self._lock:
            if key in self._memo:
                self._memo.move_to_end(key)
                return self._memo[key]
        value = compute()
        with self._lock:
            self._memo[key] = value
            while len(self._memo) > MEMO_SIZE:
                self._memo.popitem(last=False)
        return value


def _without_gc(build: Callable[[], Snapshot]) -> Snapshot:
    """Build a snapshot with the cyclic collector paused, then freeze what exists: a snapshot
    is tens of thousands of acyclic objects (freed by reference counting when replaced), and
    every collection would walk them all again for nothing (a third of a first page's time)."""
    was = gc.isenabled()
    gc.disable()
    try:
        return build()
    finally:
        if was:
            gc.enable()
        gc.freeze()


def _newest_first(items: list[Item]) -> list[Item]:
    """Newest start first, then by id (as `ledger.runs()` orders them)."""
    return sorted(items, key=lambda i: (i.head.get("started_at") or "", i.head["id"]), reverse=True)


def _warm(repo: Repo, snap: Snapshot) -> None:
    """Decode whole records ahead of need (newest first), only while no request came in the
    last QUIET_S seconds, so it never slows a page; stops when a newer snapshot replaces it."""
    try:
        position = 0
        items = snap.items[:WARM_RUNS]
        while position < len(items):
            if snap.stale:
                return
            if time.monotonic() - repo.last_request < QUIET_S:
                time.sleep(QUIET_S)
                continue
            for item in items[position : position + 64]:
                try:
                    item.record  # noqa: B018 - decoded once, kept on the item
                except Exception:  # noqa: BLE001 - a damaged record is reported when a request reads it
                    continue
            position += 64
    finally:
        snap.warmed.set()


def _stat(path: Path) -> str:
    try:
        st = path.stat()
    except OSError:
        return "-"
    return f"{st.st_mtime_ns}:{st.st_size}"


class Repo:
    """One repository, read-only, as the app serves it (`rev` / `all_branches` as `ledger ls`).

    Committed runs and uncommitted ones are read apart: a running run rewrites its record
    every few seconds, and that must not cost a re-read of 100,000 committed runs."""

    def __init__(self, ws: Workspace, rev: str | None = None, all_branches: bool = False):
        self.ws = ws
        self.rev = rev
        self.all_branches = all_branches
        self._git_dir = gitstore.git_dir(ws.root)
        self._snapshot: Snapshot | None = None
        self._committed: tuple[str, list[Item], list[str]] | None = None
        self.committed_reads = 0  # how often the committed runs were read (for tests, benchmarks)
        self.last_request = 0.0  # monotonic time of the last snapshot() call
        self._lock = threading.Lock()

    @property
    def root(self) -> Path:
        return self.ws.root

    # ------------------------------------------------------------------ fingerprints

    def _folders(self) -> list[Path]:
        top = self.root / record.RECORDS_DIR
        try:
            return [top, *sorted(p for p in top.iterdir() if p.is_dir() and not p.is_symlink())]
        except OSError:
            return [top]

    def _tokens(self) -> tuple[str, str]:
        """(what the committed runs depend on, what the uncommitted ones depend on)."""
        refs = gitstore.ref_tips(self.root, self.rev, self.all_branches)
        if self.rev is not None:  # a revision: no working tree
            return refs, ""
        parts = [_stat(self._git_dir / "index"), *(_stat(p) for p in self._folders())]
        snap = self._snapshot
        if snap is not None:
            parts += [_stat(p) for p in snap.watch]
            # A process can die without touching a file: ask again each time (a kill(pid, 0)).
            parts += [str(liveness.is_dead(snap.items[i].record)) for i in snap.running]
        return refs, hashlib.sha1("\n".join(parts).encode()).hexdigest()

    def live_token(self, snap: Snapshot | None = None) -> str:
        """Changes when the runs change or a running run logs something."""
        snap = snap or self.snapshot()
        extra = [_stat(p) for p in snap.live]
        return hashlib.sha1("\n".join([snap.token, *extra]).encode()).hexdigest()[:16]

    # ------------------------------------------------------------------ the snapshot

    def snapshot(self) -> Snapshot:
        self.last_request = time.monotonic()
        refs, work = self._tokens()
        token = hashlib.sha1(f"{refs}\n{work}".encode()).hexdigest()
        snap = self._snapshot
        if snap is not None and snap.token == token:
            return snap
        with self._lock:
            snap = self._snapshot
            if snap is not None and snap.token == token:
                return snap
            if snap is not None:
                snap.stale = True
            snap = _without_gc(lambda: self._read(token, refs))
            self._snapshot = snap
        threading.Thread(target=_warm, args=(self, snap), name="ledger-ui-warm", daemon=True).start()
        return snap

    def _scan(self, selection: Selection | None, found: list[Any] | None = None) -> tuple[list[Item], list[str]]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", LedgerWarning)
            if found is not None:
                items = [self._shown(item) for item in scan_entries(self.ws, found)] if found else []
            else:
                items = list(api.scan_items(self.ws, selection))
        return items, [str(w.message) for w in caught if issubclass(w.category, LedgerWarning)]

    def _shown(self, item: Item) -> Item:
        """A dead `running` run as the read path shows it: `crashed`, with what its journal holds
        (`ledger.runs()` does the same for the runs it scans)."""
        if item.head.get("status") != "running" or not liveness.is_dead(item.record):
            return item
        return item.shown_as(liveness.crashed_view(self.ws, item.record))

    def _read(self, token: str, refs: str) -> Snapshot:
        if self._committed is None or self._committed[0] != refs:
            selection = Selection(rev=self.rev, all_branches=self.all_branches, worktree=False)
            found, problems = self._scan(selection)
            self._committed = (refs, _newest_first(found), problems)
            self.committed_reads += 1
        _, committed, skipped = self._committed
        uncommitted: list[Item] = []
        if self.rev is None:
            uncommitted, more = self._scan(None, worktree_entries(self.ws))
            skipped = [*skipped, *more]
        items = committed
        if uncommitted:
            by_id = {str(item.head["id"]): item for item in committed}
            for item in uncommitted:  # the newest version of a run wins, as one scan decides
                run_id = str(item.head["id"])
                old = by_id.get(run_id)
                if old is None or not (item.head.get("status") == "running" and old.head.get("status") != "running"):
                    by_id[run_id] = item
            items = _newest_first(list(by_id.values()))
        heads = []
        watch: list[Path] = []
        running: list[Path] = []
        alive: list[int] = []
        statuses: dict[str, int] = {}
        for position, item in enumerate(items):
            head = item.head
            status = str(head.get("status"))
            if item.origin == "worktree":
                watch.append(self.root / item.path)
            if status == "running":
                sidecar = self.root / record.sidecar_dir(str(head["id"]))
                running += [sidecar / "series.tsv", sidecar / "events.jsonl"]
                alive.append(position)
            heads.append(head)
            statuses[status] = statuses.get(status, 0) + 1
        return Snapshot(
            token, items, heads, skipped, watch=watch, live=running, running=alive,
            statuses=dict(sorted(statuses.items())),
        )  # fmt: skip
