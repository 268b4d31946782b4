"""Which runs a review compares, read through the library face (`ledger.read.api`).

The runs under review are the records added or changed between the merge base of BASE and
HEAD and HEAD itself (the files `git diff BASE...HEAD` shows: `api.changed_since_fork`), so
runs that landed on BASE after the branch was cut are not mistaken for the branch's own.
They are untrusted: each is checked as the read path checks any record, and one that cannot
be read is reported with why. BASE's runs come from the read path's one reader: what the
review asks of them (their metrics, the best finished run, the baseline) is answered from
BASE's tree summary, so a review costs about what a leaderboard does, however many runs
BASE has; whole records are read only for the best run and the baseline.

The settings (primary metric, directions, baseline) come from BASE's ledger.yaml when it has
them: the branch under review cannot move the goalposts it is judged by.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledger.core import record
from ledger.core.config import Config
from ledger.core.workspace import Workspace
from ledger.errors import LedgerError
from ledger.read import api
from ledger.read.api import Selection


@dataclass(frozen=True)
class Compared:
    """BASE, HEAD and the runs between them."""

    base_commit: str
    head_commit: str
    fork: str | None  # the merge base; None when the two share no history
    settings: Config  # BASE's ledger.yaml, or the working tree's
    new: dict[str, dict[str, Any]]  # path -> record at HEAD, for each run added or changed
    old: dict[str, dict[str, Any]]  # path -> record at the fork, for each run changed
    changed: frozenset[str]  # paths of the records the fork had already (the rest are added)
    invalid: dict[str, str]  # path -> why it cannot be read, for the branch's unreadable records
    removed: tuple[str, ...]  # run ids of the records the branch deleted
    base: api.RevisionRuns  # BASE's runs, asked about as a whole (its tree summary answers)


def compared(ws: Workspace, base: str, head: str) -> Compared:
    """Look BASE and HEAD up and read what a review of `head` against `base` compares."""
    base_commit, _ = api.resolve_revision(
        ws, base, what="BASE", hint=" (in CI, check out with fetch-depth: 0)", error=LedgerError
    )
    head_commit, _ = api.resolve_revision(ws, head, what="HEAD", hint="", error=LedgerError)
    changes = api.changed_since_fork(ws, base_commit, head_commit)
    settings = settings_at_base(ws, base_commit)
    touched = {path: blob for path, blob in changes.changed.items() if record.run_id_from_path(path)}
    before = {path: changes.before[path] for path in touched if path in changes.before}
    removed = sorted(run_id for run_id in map(record.run_id_from_path, changes.removed) if run_id)
    new, invalid = api.read_records(ws, touched, head, rev=head_commit)
    old, _ = api.read_records(ws, before, "base")
    base_runs = api.RevisionRuns(ws, Selection(rev=base_commit, worktree=False))
    return Compared(
        base_commit, head_commit, changes.fork, settings, new, old, frozenset(before), invalid,
        tuple(removed), base_runs,
    )  # fmt: skip


def settings_at_base(ws: Workspace, base_commit: str) -> Config:
    """ledger.yaml as BASE has it (trusted), else the working tree's."""
    found = api.settings_at(ws, base_commit)
    return found if found is not None and found.primary_metric else ws.config
