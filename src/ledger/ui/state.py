"""The repository as the UI sees it: one snapshot of the runs, rebuilt only when the
repository changes.

Each request asks for `snapshot()`. A cheap fingerprint of what the records depend on (the
refs read, the mtimes of the record folders, the git index, the uncommitted and running
record files) decides whether the last snapshot still holds. When it does not, only what
changed is read again, through `ledger.read.api`:
- the committed runs, once per commit: `api.newest`, which over one revision makes each run
  only when it is asked for, so a first page over 100,000 runs reads their order and
  statuses from the tree summary and 50 heads, not 100,000;
- the working tree's new and changed records, each time one changes (a running run
  rewrites its record every few seconds), laid over the committed ones (`layout.py`).
`live_token()` adds the sidecars of running runs, so a page can poll every two seconds for
the price of a few `stat` calls and one `git rev-parse`.

Memory stays bounded: a pass over every run (a filter, a sort, a column) makes each run
for itself and drops it (`peek`, `wholes`); what a snapshot keeps is per-run lists of
values (statuses, sort columns, filter answers), a few memos, and the runs a page of their
own showed.
"""

from __future__ import annotations

import hashlib
import json
import threading
import warnings
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger import gitstore
from ledger.core import record
from ledger.core.workspace import Workspace
from ledger.errors import LedgerWarning
from ledger.read import api, liveness
from ledger.read.api import Item, Selection
from ledger.ui.layout import Layout

MEMO_SIZE = 16  # filter answers, sort orders, columns: each up to a few MB at 100,000 runs


def _newest_key(item: Item) -> tuple[str, str]:
    return str(item.head.get("started_at") or ""), str(item.head["id"])


@dataclass
class Committed:
    """The committed runs of one state of the refs, newest first."""

    key: str
    runs: Sequence[Item]
    statuses: list[str | None]
    skipped: list[str]
    running: list[int] = field(default_factory=list)  # positions of runs shown as running

    def __post_init__(self) -> None:
        self.running = [i for i, status in enumerate(self.statuses) if status == "running"]


@dataclass
class Snapshot:
    """The runs at one repository state, newest first, with their shown status (a dead
    `running` run is crashed). Positions index the table's order."""

    token: str
    committed: Committed
    layout: Layout
    skipped: list[str]
    statuses: list[str | None]  # each run's status as shown
    counts: dict[str, int]  # runs per shown status
    watch: list[Path] = field(default_factory=list)  # files whose change means "read again"
    live: list[Path] = field(default_factory=list)  # sidecars of running runs
    running: list[int] = field(default_factory=list)  # positions of runs shown as running
    _memo: OrderedDict[Any, Any] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __len__(self) -> int:
        return len(self.layout)

    def item(self, position: int) -> Item:
        """The run at `position`, kept by the snapshot (for a run's own page: its record,
        once read, stays with it)."""
        committed, added = self.layout.locate(position)
        return added if added is not None else self.committed.runs[committed]

    def peek(self, position: int) -> Item:
        """The run at `position`, made for the caller only (a pass over every run keeps none)."""
        committed, added = self.layout.locate(position)
        return added if added is not None else api.peek(self.committed.runs, committed)

    def head(self, position: int) -> dict[str, Any]:
        return self.peek(position).head

    def record(self, position: int) -> dict[str, Any]:
        """The whole record at `position`, as the read path shows it (a dead run is crashed)."""
        return self.item(position).record

    def heads(self, positions: Iterable[int]) -> Iterator[tuple[int, dict[str, Any]]]:
        """(position, small head) for each position, read for this caller only."""
        located = [(position, *self.layout.locate(position)) for position in positions]
        found = api.heads(self.committed.runs, [c for _, c, added in located if added is None])
        for position, _, added in located:
            yield position, (next(found) if added is None else added.head)

    def wholes(
        self, positions: Iterable[int], may_match: Callable[[bytes], bool] | None = None
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        """(position, whole record) for each position, decoded for this caller only. With
        `may_match`, a run whose record JSON (as cached) it refuses is skipped undecoded."""
        located = [(position, *self.layout.locate(position)) for position in positions]
        raws = api.record_jsons(self.committed.runs, [c for _, c, added in located if added is None])
        for position, _, added in located:
            raw = next(raws) if added is None else None
            if raw is not None:
                if may_match is not None and not may_match(raw):
                    continue
                rec = json.loads(raw)
                if isinstance(rec, dict):
                    yield position, rec
                    continue
            yield position, self.peek(position).record

    def find(self, ref: str) -> int | None:
        """The position of a run by id (or unique id prefix, or unique name)."""

        def compute() -> int | None:
            for first, _, _, added in self.layout.pieces:
                if added is not None and added.head["id"] == ref:
                    return first
            at = api.positions(self.committed.runs, [ref]).get(ref)
            position = self.layout.position(at) if at is not None else None
            if position is not None:
                return position
            ids, names = self._ids_and_names()
            matches = [i for i, run_id in enumerate(ids) if run_id.startswith(ref)]
            if not matches:
                matches = [i for i, name in enumerate(names) if name == ref]
            return matches[0] if len(matches) == 1 else None

        found: int | None = self.memo(("find", ref), compute)
        return found

    def _ids_and_names(self) -> tuple[list[str], list[Any]]:
        """Every run's id and name (a pass over the heads; only for a ref that is not an id)."""

        def compute() -> tuple[list[str], list[Any]]:
            pairs = [(str(h["id"]), h.get("name")) for _, h in self.heads(range(len(self)))]
            return [p[0] for p in pairs], [p[1] for p in pairs]

        found: tuple[list[str], list[Any]] = self.memo("ids-and-names", compute)
        return found

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


def _stat(path: Path) -> str:
    try:
        st = path.stat()
    except OSError:
        return "-"
    return f"{st.st_mtime_ns}:{st.st_size}"


def _caught(read: Callable[[], Any]) -> tuple[Any, list[str]]:
    """What `read` returns, and the bad records it warned about (shown, not printed)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", LedgerWarning)
        found = read()
    return found, [str(w.message) for w in caught if issubclass(w.category, LedgerWarning)]


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
        self._committed: Committed | None = None
        self.committed_reads = 0  # how often the committed runs were read (for tests, benchmarks)
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

    def _tokens(self) -> tuple[str, str, str]:
        """(the refs read, the liveness of the committed runs shown running, what the
        uncommitted runs depend on)."""
        refs = gitstore.ref_tips(self.root, self.rev, self.all_branches)
        committed = self._committed
        # A committed `running` run whose process died is shown as crashed: ask each time.
        alive = "".join(_dead(committed.runs[i]) for i in committed.running) if committed is not None else ""
        if self.rev is not None:  # a revision: no working tree
            return refs, alive, ""
        parts = [_stat(self._git_dir / "index"), *(_stat(p) for p in self._folders())]
        snap = self._snapshot
        if snap is not None:
            parts += [_stat(p) for p in snap.watch]
            # A process can die without touching a file: ask again each time (a kill(pid, 0)).
            parts += [_dead(snap.item(i)) for i in snap.running if snap.layout.locate(i)[1] is not None]
        return refs, alive, hashlib.sha1("\n".join(parts).encode()).hexdigest()

    def live_token(self, snap: Snapshot | None = None) -> str:
        """Changes when the runs change or a running run logs something."""
        snap = snap or self.snapshot()
        extra = [_stat(p) for p in snap.live]
        return hashlib.sha1("\n".join([snap.token, *extra]).encode()).hexdigest()[:16]

    # ------------------------------------------------------------------ the snapshot

    def snapshot(self) -> Snapshot:
        refs, alive, work = self._tokens()
        token = hashlib.sha1(f"{refs}\n{alive}\n{work}".encode()).hexdigest()
        snap = self._snapshot
        if snap is not None and snap.token == token:
            return snap
        with self._lock:
            snap = self._snapshot
            if snap is not None and snap.token == token:
                return snap
            snap = self._read(token, refs, refs + alive)
            self._snapshot = snap
        return snap

    def _read_committed(self, refs: str) -> Committed:
        selection = Selection(rev=self.rev, all_branches=self.all_branches, worktree=False)

        def read() -> tuple[Sequence[Item], list[str | None]]:
            runs = api.newest(self.ws, selection)
            return runs, api.statuses(runs)

        (runs, statuses), skipped = _caught(read)
        self.committed_reads += 1
        found = Committed(refs, runs, statuses, skipped)
        # As _tokens will see it while its running runs live (they were alive when read;
        # a death found later reads them again).
        found.key = refs + "0" * len(found.running)
        return found

    def _read(self, token: str, refs: str, key: str) -> Snapshot:
        # git lists the working tree's changes (stat-ing every record file) meanwhile.
        finish = api.start_overlay(self.ws) if self.rev is None else None
        try:
            committed = self._committed
            if committed is None or committed.key != key:
                committed = self._committed = self._read_committed(refs)
        except BaseException:
            if finish is not None:
                finish([])  # waited for: no git process is left behind
            raise
        added: list[Item] = []
        replaced: list[int] = []
        skipped = list(committed.skipped)
        if finish is not None:
            (added, replaced), more = _caught(lambda: finish(committed.runs))
            skipped += more
        runs = committed.runs
        layout = Layout(len(runs), added, replaced, lambda c: _newest_key(api.peek(runs, c)), _newest_key)
        statuses = layout.merged(committed.statuses, lambda item: _status(item.head))
        counts = Counter(str(status) for status in statuses)
        snap = Snapshot(token, committed, layout, skipped, statuses, dict(sorted(counts.items())))
        snap.watch = [self.root / item.path for item in added]
        snap.running = [i for i, status in enumerate(statuses) if status == "running"]
        for i in snap.running:
            sidecar = self.root / record.sidecar_dir(str(snap.item(i).head["id"]))
            snap.live += [sidecar / "series.tsv", sidecar / "events.jsonl"]
        return snap


def _dead(item: Item) -> str:
    return "1" if liveness.is_dead(item.record) else "0"


def _status(head: dict[str, Any]) -> str | None:
    status = head.get("status")
    return status if isinstance(status, str) else None
