"""`ledger push`: share the branch's records with a remote, however many clones push.

Records are the only thing ledger commits, each in a commit that touches nothing but
`experiments/` and carries a `Ledger-Run:` trailer. So when the remote moved since the last
fetch, those commits can be re-made on the remote's new tip with no conflict (every run
has its own files; environment files are content-addressed) and pushed again, as a plain
fast-forward: never a force push. Anything else unpushed (the user's own commits) is the
user's to push: ledger says so instead of guessing.

After a push, the local branch follows the remote when the difference is only records
(those files are written into the working tree and index); otherwise it is left alone
and the user is told to pull.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from ledger import gitstore
from ledger.core.record import RECORDS_DIR
from ledger.core.workspace import Workspace
from ledger.errors import LedgerError

TRAILER = "Ledger-Run:"
_RETRYABLE = ("fetch first", "non-fast-forward", "rejected", "lock", "stale info")


class PushError(LedgerError):
    """The records could not be pushed; the message says what to do."""


@dataclass(frozen=True)
class PushResult:
    remote: str
    branch: str
    pushed: int  # ledger commits the remote did not have
    replayed: bool  # they were re-made on a newer remote tip
    attempts: int
    local_updated: bool  # the local branch now equals the remote
    note: str | None = None  # what the user may want to do next


def is_ledger_commit(entry: gitstore.LogEntry) -> bool:
    """A commit of ledger's: one parent, only `experiments/` paths, a `Ledger-Run:` trailer."""
    return (
        len(entry.parents) == 1
        and bool(entry.paths)
        and all(p.startswith(f"{RECORDS_DIR}/") for p in entry.paths)
        and any(line.startswith(TRAILER) for line in entry.message.splitlines())
    )


def _target(ws: Workspace, remote: str | None) -> tuple[str, str, str]:
    state = gitstore.head_state(ws.root)
    if state.pending_reason or state.branch is None:
        raise PushError(f"cannot push: {state.pending_reason or 'no branch'}: check out your branch first")
    branch = state.branch
    remote = remote or gitstore.config_get(ws.root, f"branch.{branch}.remote") or "origin"
    named = gitstore.config_get(ws.root, f"remote.{remote}.url") is not None
    if not named and not any(c in remote for c in "/:"):
        raise PushError(f"no remote named {remote!r}: add one with `git remote add {remote} URL`")
    merge = gitstore.config_get(ws.root, f"branch.{branch}.merge") if named else None
    remote_branch = merge.removeprefix("refs/heads/") if merge else branch
    return branch, remote, remote_branch


_MOVED, _FOREIGN, _RACED = "moved", "foreign", "raced"


def _advance_local(ws: Workspace, ref: str, old: str, new: str) -> str:
    """Move the checked-out branch from `old` to `new` when they differ only in records,
    bringing those files into the working tree and index. `_FOREIGN` when they differ in
    more than records; `_RACED` when the branch is no longer at `old` (a run committed, or
    another `ledger push` of this clone advanced it, meanwhile): a lost local race, which
    says nothing about the remote."""
    changes = gitstore.changed_paths(ws.root, old, new)
    if any(not path.startswith(f"{RECORDS_DIR}/") for path, _ in changes):
        return _FOREIGN
    if not gitstore.advance_branch(ws.root, ref, old, new, dict(changes)):
        return _RACED
    for path, sha in changes:
        gitstore.write_worktree_file(ws.root, ws.path(path).relative_to(ws.root).as_posix(), sha)
    return _MOVED


def push(
    ws: Workspace,
    remote: str | None = None,
    *,
    deadline_s: float = 300.0,
    before: Callable[[list[gitstore.LogEntry]], None] | None = None,
) -> PushResult:
    """Push the current branch's records to `remote` (default: the branch's upstream remote,
    else origin), replaying ledger's commits on the remote tip as often as it moves.

    `before` gets the ledger commits about to be pushed, before git pushes them (to share
    what they point at, e.g. their DVC outputs, first); an error it raises stops the push."""
    branch, remote, remote_branch = _target(ws, remote)
    ref = f"refs/heads/{branch}"
    give_up = time.monotonic() + deadline_s
    attempt = pushed = 0
    replayed = False
    shared: set[str] = set()
    while True:
        attempt += 1
        local = gitstore.rev_parse(ws.root, ref)
        if local is None:
            raise PushError(f"branch {branch} has no commits: nothing to push")
        tip = gitstore.fetch_branch(ws.root, remote, remote_branch)
        if tip is None:
            raise PushError(
                f"{remote} has no branch {remote_branch} yet: publish it once with "
                f"`git push -u {remote} {branch}`, then use `ledger push`"
            )
        if local == tip or gitstore.is_ancestor(ws.root, local, tip):
            outcome = _MOVED if local == tip else _advance_local(ws, ref, local, tip)
        else:
            entries = gitstore.log_entries(ws.root, f"{tip}..{local}")
            foreign = [e for e in entries if not is_ledger_commit(e)]
            if foreign:
                first = foreign[0]
                subject = first.message.strip().splitlines()[0] if first.message.strip() else ""
                raise PushError(
                    f"{len(foreign)} unpushed commit(s) are not ledger records (first: "
                    f"{first.sha[:8]} {subject!r}): push them yourself (`git pull --rebase && "
                    "git push`), then run `ledger push` again"
                )
            replay = not gitstore.is_ancestor(ws.root, tip, local)
            if before is not None:
                fresh = [entry for entry in entries if entry.sha not in shared]
                if fresh:
                    before(fresh)
                    shared.update(entry.sha for entry in fresh)
            candidate, made = local, len(entries)
            if replay:
                candidate, made = tip, 0
                for entry in entries:  # a record the remote has already replays to nothing
                    after = gitstore.replay_commit(ws.root, candidate, entry.sha)
                    made += after != candidate
                    candidate = after
            if candidate == tip:  # every record is on the remote already
                outcome = _advance_local(ws, ref, local, tip)
            else:
                ok, reason = gitstore.push_branch(ws.root, remote, candidate, remote_branch)
                if not ok:
                    if not any(word in reason for word in _RETRYABLE):
                        raise PushError(f"git push to {remote} failed: {reason}")
                    _wait(give_up, deadline_s, remote, attempt)  # someone pushed first
                    continue
                pushed += made
                replayed = replayed or replay
                outcome = _MOVED if candidate == local else _advance_local(ws, ref, local, candidate)
        if outcome == _RACED and time.monotonic() < give_up:
            # The branch moved under us: a run committed (push it too) or another push of
            # this clone got there first. Look again; that is no news about the remote.
            continue
        return PushResult(remote, remote_branch, pushed, replayed, attempt, outcome == _MOVED, _NOTES.get(outcome))


def _wait(give_up: float, deadline_s: float, remote: str, attempt: int) -> None:
    if time.monotonic() > give_up:
        raise PushError(f"{remote} kept moving for {deadline_s:.0f} s: run `ledger push` again later")
    # Back off a little (more each time) before replaying on the new tip.
    time.sleep(backoff(attempt))


def backoff(attempt: int) -> float:
    """Seconds to wait before attempt `attempt + 1`: jittered, growing by 0.1 s, at most 1 s.
    (A back-off doubling up to 5 s was measured against it with 32 and 64 pushers at once:
    no clear gain; benchmarks/RESULTS.md.)"""
    return random.uniform(0.05, min(0.1 * attempt, 1.0))


_NOTES = {
    _FOREIGN: "the remote also has changes besides records: `git pull --rebase` brings them in",
    _RACED: "this branch kept moving while pushing (runs finishing): run `ledger push` again",
}
