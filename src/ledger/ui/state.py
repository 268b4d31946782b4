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

import hashlib
import threading
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
from ledger.read import api
from ledger.read.records import Item
from ledger.ui import live

MEMO_SIZE = 32


@dataclass
class Snapshot:
    """The runs at one repository state, newest first, with their shown status."""

    token: str
    items: list[Item]
    heads: list[dict[str, Any]]  # the small head of each run, status as shown (crashed)
    skipped: list[str]
    index: dict[str, int] = field(default_factory=dict)
    watch: list[Path] = field(default_factory=list)  # files whose change means "read again"
    live: list[Path] = field(default_factory=list)  # sidecars of running runs
    _memo: OrderedDict[Any, Any] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, position: int) -> dict[str, Any]:
        """The whole record at `position`, with the shown status (a dead run is crashed)."""
        rec = self.items[position].record
        shown = self.heads[position].get("status")
        if rec.get("status") != shown:
            rec = {**rec, "status": shown}
        return rec

    def find(self, ref: str) -> int | None:
        """The position of a run by id (or unique id prefix, or unique name)."""
        if ref in self.index:
            return self.index[ref]
        matches = [i for run_id, i in self.index.items() if run_id.startswith(ref)]
        if not matches:
            matches = [i for i, head in enumerate(self.heads) if head.get("name") == ref]
        return matches[0] if len(matches) == 1 else None

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


class Repo:
    """One repository, read-only, as the app serves it (`rev` / `all_branches` as `ledger ls`)."""

    def __init__(self, ws: Workspace, rev: str | None = None, all_branches: bool = False):
        self.ws = ws
        self.rev = rev
        self.all_branches = all_branches
        self._git_dir = gitstore.git_dir(ws.root)
        self._snapshot: Snapshot | None = None
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

    def records_token(self) -> str:
        parts = [gitstore.ref_tips(self.root, self.rev, self.all_branches), _stat(self._git_dir / "index")]
        if self.rev is None:  # the working tree counts too
            parts += [_stat(p) for p in self._folders()]
            snap = self._snapshot
            parts += [_stat(p) for p in (snap.watch if snap else [])]
        return hashlib.sha1("\n".join(parts).encode()).hexdigest()

    def live_token(self) -> str:
        """Changes when the runs change or a running run logs something."""
        snap = self.snapshot()
        extra = [_stat(p) for p in snap.live]
        return hashlib.sha1("\n".join([snap.token, *extra]).encode()).hexdigest()[:16]

    # ------------------------------------------------------------------ the snapshot

    def snapshot(self) -> Snapshot:
        token = self.records_token()
        snap = self._snapshot
        if snap is not None and snap.token == token:
            return snap
        with self._lock:
            snap = self._snapshot
            if snap is not None and snap.token == token:
                return snap
            snap = self._read(token)
            self._snapshot = snap
            return snap

    def _read(self, token: str) -> Snapshot:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", LedgerWarning)
            runs = api.runs(rev=self.rev, all=self.all_branches, path=self.root)
        skipped = [str(w.message) for w in caught if issubclass(w.category, LedgerWarning)]
        items = runs.items
        heads = []
        watch: list[Path] = []
        running: list[Path] = []
        for item in items:
            head = item.head
            if item.origin == "worktree":
                watch.append(self.root / item.path)
            if head.get("status") == "running":
                shown = live.shown_status(item.record)
                if shown != "running":
                    head = {**head, "status": shown}
                else:
                    sidecar = self.root / record.sidecar_dir(str(head["id"]))
                    running += [sidecar / "series.tsv", sidecar / "events.jsonl"]
            heads.append(head)
        index = {str(h["id"]): i for i, h in enumerate(heads)}
        return Snapshot(token, items, heads, skipped, index, watch, running)
