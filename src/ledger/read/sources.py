"""Where a query's records come from: which revisions, the working tree, deleted records.

This module only lists record files (path, blob id, where seen) with cheap git plumbing
(`ls-tree`, `diff --raw`, `log --raw`); reading and parsing them is `store`'s job. Paths that
are not record paths (`experiments/YYYY-MM/<id>.yaml`) are never listed, so nothing from a
hostile tree can steer a read outside the records folder.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from ledger import gitstore
from ledger.core import record, yamlio
from ledger.core.workspace import Workspace
from ledger.errors import LedgerError, UsageError

WORKTREE = "worktree"
Progress = Callable[[int, int], None]  # (done, total) of a scan's parsing


@dataclass(frozen=True)
class Source:
    """One place records are read from. `time` orders versions: newer wins."""

    label: str  # what messages name: a commit (or `<commit>^` for deleted records), or "worktree"
    commit: str | None
    time: int


class Entry(NamedTuple):
    """One record file in one source (a tuple: a scan makes one per record file)."""

    path: str
    blob: str
    source: Source
    data: bytes | None = None  # the content, for working-tree files
    run_id: str = ""  # from the path; set by `entry()`

    @property
    def where(self) -> str:
        """`<commit>:<path>` (what `git show` takes), or the path for a working-tree file."""
        if self.source.commit is None:
            return f"{self.path} (working tree)"
        return f"{self.source.label}:{self.path}"


@dataclass(frozen=True)
class Selection:
    """Which records a query reads (the CLI's --rev, --all, --include-deleted)."""

    rev: str | None = None  # a revision, or a range `A..B`; None: HEAD
    all_branches: bool = False  # every local and remote-tracking branch
    worktree: bool = True  # uncommitted records in the working tree
    include_deleted: bool = False  # records deleted in the history of the selected revisions

    @property
    def is_range(self) -> bool:
        return self.rev is not None and ".." in self.rev


def entry(path: str, blob: str, source: Source, data: bytes | None = None) -> Entry | None:
    """An Entry for a record path; None for any other path."""
    run_id = record.run_id_from_path(path)
    return Entry(path, blob, source, data, run_id) if run_id else None


def blob_id(data: bytes) -> str:
    """git's id for a blob with this content (SHA-1 repositories)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def resolve_revision(
    ws: Workspace, rev: str, *, what: str = "", hint: str | None = None, error: type[LedgerError] = UsageError
) -> tuple[str, int]:
    """(commit id, committer time) of the commit `rev` names: the one revision lookup of the
    read path, the review and the checks. A malformed revision (never taken as a git
    option; a range `A..B` is not one revision) or one that names no commit raises `error`;
    `what` ("BASE") and `hint` (None: how to find one) go into its one-line message."""
    for_what = f" for {what}" if what else ""
    if not rev or rev.startswith("-") or ".." in rev or any(c.isspace() or c == "\0" for c in rev):
        raise error(f"bad revision {rev!r}{for_what}: give a branch, tag or commit")
    found = gitstore.commit_time(ws.root, rev)
    if found is None:
        hint = " (see `git log`; a remote branch must be fetched first)" if hint is None else hint
        raise error(f"unknown revision {rev!r}{for_what}: give a branch, tag or commit{hint}")
    return found


EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # what a history with no fork point is compared from


@dataclass(frozen=True)
class Changes:
    """The files under experiments/ that `head` changed since it left `base` (like `git diff
    base...head`); record files and the rest alike (callers pick what they read)."""

    fork: str | None  # the merge base; None when the two share no history
    changed: dict[str, str]  # path -> blob at head, for each file added or modified
    removed: tuple[str, ...]  # paths of the files head deleted
    before: dict[str, str] = field(default_factory=dict)  # path -> blob at the fork, of those it had


def changed_since_fork(ws: Workspace, base: str, head: str) -> Changes:
    """The one "changed between merge-base and HEAD" of ledger (`--rev A..B`, `ledger diff`,
    `ledger check A..B`): commits in, no rename detection, only experiments/."""
    fork = gitstore.merge_base(ws.root, base, head)
    changed: dict[str, str] = {}
    before: dict[str, str] = {}
    removed = []
    for status, path, old, new in gitstore.changed_files(ws.root, fork or EMPTY_TREE, head, record.RECORDS_DIR):
        if old.strip("0"):  # all zeros: the fork had no such file
            before[path] = old
        if status == "D":
            removed.append(path)
        else:
            changed[path] = new
    return Changes(fork, changed, tuple(sorted(removed)), before)


def _tree_entries(ws: Workspace, source: Source) -> list[Entry]:
    assert source.commit is not None
    found = (entry(path, sha, source) for path, sha in gitstore.ls_tree(ws.root, source.commit, record.RECORDS_DIR))
    return [e for e in found if e is not None]


def branch_tips(ws: Workspace) -> list[Source]:
    """Every local and remote-tracking branch tip, once per commit."""
    tips: dict[str, Source] = {}
    for sha, when, _ in gitstore.branch_tips(ws.root):
        if sha not in tips:
            tips[sha] = Source(sha[:12], sha, when)
    return list(tips.values())


def _range_entries(ws: Workspace, spec: str) -> list[Entry]:
    """Records added or changed on B since it left A (`A..B`, like `git log A..B`)."""
    start, _, end = spec.partition("..")
    if not start or not end or end.startswith("."):
        raise UsageError(f"bad range {spec!r}: write --rev A..B (e.g. main..feature)")
    base_commit, _ = resolve_revision(ws, start)
    end_commit, end_time = resolve_revision(ws, end)
    source = Source(end_commit[:12], end_commit, end_time)
    found = []
    for path, blob in changed_since_fork(ws, base_commit, end_commit).changed.items():
        item = entry(path, blob, source)
        if item is not None:
            found.append(item)
    return found


def _deleted_entries(ws: Workspace, commits: list[str]) -> list[Entry]:
    """The last version of every record file deleted in the history of `commits`."""
    found: list[Entry] = []
    sources: dict[str, Source] = {}
    for sha, when, path, blob in gitstore.deleted_files(ws.root, commits, record.RECORDS_DIR):
        source = sources.setdefault(sha, Source(f"{sha[:12]}^", sha, when))
        item = entry(path, blob, source)
        if item is not None:
            found.append(item)
    return found


def read_bounded(path: Path, limit: int) -> bytes:
    """A file's bytes, but never more than `limit` + 1 of them: an oversize record (a 500 MB
    file in experiments/) is refused by its size without being read whole."""
    with open(path, "rb") as fh:
        if os.fstat(fh.fileno()).st_size > limit:
            return fh.read(limit + 1)
        return fh.read()


def worktree_entries(ws: Workspace, listed: Callable[[], list[str]] | None = None) -> list[Entry]:
    """Record files that are new or changed in the working tree (not yet committed);
    `listed` answers which files those are when the listing was started earlier
    (`start_worktree_listing`)."""
    source = Source(WORKTREE, None, sys.maxsize)
    found = []
    paths = listed() if listed is not None else gitstore.untracked_and_modified(ws.root, record.RECORDS_DIR)
    for path in paths:
        if not record.run_id_from_path(path):
            continue
        try:
            data = read_bounded(ws.path(path), yamlio.MAX_BYTES)
        except (OSError, LedgerError):
            continue  # vanished meanwhile, or a symlink leading out: not a record
        item = entry(path, blob_id(data), source, data)
        if item is not None:
            found.append(item)
    return found


def start_worktree_listing(ws: Workspace) -> Callable[[], list[str]]:
    """Start listing the working tree's new and changed record files (for
    `worktree_entries`): git stats every record file meanwhile."""
    return gitstore.start_untracked_and_modified(ws.root, record.RECORDS_DIR)


def entries(ws: Workspace, selection: Selection) -> list[Entry]:
    """Every record file the selection covers (several versions of a run are all listed)."""
    if selection.is_range:
        assert selection.rev is not None
        return _range_entries(ws, selection.rev)
    tips: list[Source] = []
    if selection.all_branches:
        tips = branch_tips(ws)
    try:
        sha, when = resolve_revision(ws, selection.rev or "HEAD")
    except UsageError:
        if selection.rev is not None:
            raise
        sha, when = "", 0  # an unborn HEAD: no commits yet
    if sha and all(t.commit != sha for t in tips):
        tips.insert(0, Source(sha[:12], sha, when))
    found: list[Entry] = []
    for tip in tips:
        found.extend(_tree_entries(ws, tip))
    if selection.include_deleted and tips:
        present = {e.run_id for e in found}
        deleted = _deleted_entries(ws, [t.commit for t in tips if t.commit])
        found.extend(e for e in deleted if e.run_id not in present)
    if selection.worktree and selection.rev is None:
        found.extend(worktree_entries(ws))
    return found
