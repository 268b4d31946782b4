"""Finding one run for `reproduce`, `env` and `artifact`: trusted history first, then the
other branches, whose records are untrusted input (SPEC §9)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

from ledger import gitstore
from ledger.core.workspace import Workspace, safe_relpath
from ledger.errors import LedgerWarning, RunNotFound
from ledger.read import records as store
from ledger.read.records import Loaded


@dataclass(frozen=True)
class Located:
    item: Loaded
    trusted: bool  # reachable from the current branch (or the user's own uncommitted record)
    ref: str = "HEAD"  # the branch it was found on

    @property
    def where(self) -> str:
        """Where the record was found, for messages: a branch name or HEAD."""
        ref = self.ref
        for prefix in ("refs/heads/", "refs/remotes/"):
            ref = ref.removeprefix(prefix)
        return ref


def locate(ws: Workspace, ref: str) -> Located:
    """The run `ref` names (id, unique prefix or name). RunNotFound when no branch has it."""
    try:
        return Located(store.find(store.load(ws), ref), True)
    except RunNotFound:
        pass
    for branch in gitstore.branch_refs(ws.root):
        with warnings.catch_warnings():
            # Bad records on other branches are not ours to report here.
            warnings.simplefilter("ignore", LedgerWarning)
            items = store.from_revision(ws, branch)
        try:
            item = store.find(items, ref)
        except RunNotFound:
            continue
        return Located(item, False, branch)
    raise RunNotFound(
        f"no run matches {ref!r} on any branch: `ledger ls --all` lists the runs "
        "(`git fetch` to get your teammates' branches)"
    )


def companion_file(ws: Workspace, item: Loaded, relpath: str) -> bytes | None:
    """A file that travels with a record (patch, environment, small artifact), read from
    where the record was found: the working tree for an uncommitted record, else the same
    revision as the record (falling back to HEAD for shared files such as environments)."""
    relpath = safe_relpath(relpath, ws.root)
    if item.origin == "worktree":
        path = ws.path(relpath)
        if path.is_file():
            return path.read_bytes()
        return gitstore.show_blob(ws.root, "HEAD", relpath)
    found = gitstore.show_blob(ws.root, item.origin, relpath)
    return found if found is not None else gitstore.show_blob(ws.root, "HEAD", relpath)
