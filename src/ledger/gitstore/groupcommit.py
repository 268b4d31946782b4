"""Committing records with many writers at once: group commit.

A writer puts its request (paths -> blob ids, message) in a queue under the git directory
and takes the commit lock (`flock`, released by the kernel when its holder dies: no stale
lock). Whoever holds the lock commits *every* waiting request, one commit per run chained
on the branch tip, moves the branch once (compare-and-swap) and the indexes with it
(`indexsync`), answers each request, and lets go. Waiters usually find their answer
without ever holding the lock, so throughput grows with contention instead of collapsing
into retries; and since only one process builds trees at a time, lost races (which left a
tree and a commit behind each) only happen against non-ledger writers.

A writer killed while its request waits leaves the request in the queue (its record in
the working tree). The next writer on that branch serves it with its own; any write
command's tidy step serves it too (`serve_orphaned`), so the record does not wait for the
next run.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import random
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from ledger.core import processes
from ledger.errors import CommitError, PathExists
from ledger.gitstore import indexsync
from ledger.gitstore.core import _git, _git_ok, _text, common_dir, head_state, private_index, rev_parse

QUEUE = "ledger-queue"
LOCK = "ledger-commit.lock"
_STALE_ANSWER_S = 3600.0


@dataclass(frozen=True)
class Request:
    token: str
    ref: str
    blobs: dict[str, str | None]
    message: str
    create_only: bool
    root: str
    queued_at: float
    owner: str = ""  # the writer, as `processes.owner()` names it ("" from older versions)

    def to_json(self) -> str:
        return json.dumps(self.__dict__)

    @classmethod
    def from_json(cls, text: str) -> Request:
        data = json.loads(text)
        return cls(
            str(data["token"]), str(data["ref"]), {str(k): v for k, v in data["blobs"].items()},
            str(data["message"]), bool(data["create_only"]), str(data["root"]), float(data["queued_at"]),
            str(data.get("owner") or ""),
        )  # fmt: skip

    def writer_gone(self) -> bool:
        """Whether the process that queued this request has ended (so nobody waits for it)."""
        if self.owner:
            return processes.owner_gone(self.owner)
        pid = self.token.split("-", 1)[0]
        return pid.isdigit() and processes.gone(int(pid), self.queued_at)


def _queue(root: Path) -> Path:
    path = common_dir(root) / QUEUE
    path.mkdir(exist_ok=True)
    return path


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


@contextlib.contextmanager
def commit_lock(root: Path, *, block: bool = True) -> Iterator[bool]:
    """The commit lock of `root`'s repository; yields whether it is held (with `block`
    False it may not be). A dead holder's lock is free at once."""
    fd = os.open(common_dir(root) / LOCK, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if block else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            indexsync.recover(root)
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def submit(root: Path, ref: str, blobs: Mapping[str, str | None], message: str, *,
           create_only: bool, deadline_s: float) -> str:  # fmt: skip
    """Queue one commit of `blobs` onto `ref` and wait until some writer (maybe this one)
    has committed it; its commit id. PathExists / CommitError as `commit_files` says."""
    queue = _queue(root)
    token = f"{os.getpid()}-{time.time_ns()}-{random.getrandbits(32):08x}"
    request = Request(token, ref, dict(blobs), message, create_only, str(root), time.time(), processes.owner())
    _write_atomic(queue / f"{token}.json", request.to_json())
    give_up = time.monotonic() + deadline_s
    pause = 0.002
    while True:
        answer = _take_answer(queue, token)
        if answer is None:
            with commit_lock(root, block=False) as held:
                if held:
                    _serve(root, ref)
                    answer = _take_answer(queue, token)
        if answer is not None:
            return _result(answer)
        if time.monotonic() > give_up and _withdraw(queue, token):
            raise CommitError(
                f"the commit queue did not move for {deadline_s:.0f} s; the record is kept in "
                "the working tree: run `ledger commit` later"
            )
        time.sleep(random.uniform(pause / 2, pause))
        pause = min(pause * 1.5, 0.05)


def _withdraw(queue: Path, token: str) -> bool:
    try:
        os.unlink(queue / f"{token}.json")
    except FileNotFoundError:
        return False  # a holder took it: its answer comes
    return True


def _take_answer(queue: Path, token: str) -> dict[str, str] | None:
    path = queue / f"{token}.done"
    try:
        answer = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    path.unlink(missing_ok=True)
    return {str(k): str(v) for k, v in answer.items()}


def _result(answer: Mapping[str, str]) -> str:
    if "commit" in answer:
        return answer["commit"]
    if "exists" in answer:
        raise PathExists(f"{answer['exists']} was committed meanwhile by another writer",
                         committed_path=answer["exists"])  # fmt: skip
    if "busy" in answer:
        raise indexsync.IndexBusy(answer["busy"])
    raise CommitError(answer.get("error") or "the commit failed")


# ---------------------------------------------------------------------------- the holder


def _pending(queue: Path, ref: str) -> list[tuple[Path, Request]]:
    """Every request waiting for `ref` (oldest first); the holder claims each by renaming
    it, so a waiter that gives up can tell that its answer is on the way."""
    found = []
    for path in queue.glob("*.json"):
        try:
            request = Request.from_json(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            continue
        except (OSError, ValueError, KeyError, TypeError):
            path.unlink(missing_ok=True)
            continue
        if request.ref != ref:
            continue
        claimed = path.with_suffix(".claimed")
        try:
            os.rename(path, claimed)
        except FileNotFoundError:
            continue  # withdrawn meanwhile
        found.append((claimed, request))
    # A request claimed by a holder that died is served again.
    for path in queue.glob("*.claimed"):
        if all(path != p for p, _ in found):
            try:
                request = Request.from_json(path.read_text(encoding="utf-8"))
            except (OSError, ValueError, KeyError, TypeError):
                path.unlink(missing_ok=True)
                continue
            if request.ref == ref:
                found.append((path, request))
    return sorted(found, key=lambda item: (item[1].queued_at, item[1].token))


def _answer(queue: Path, claimed: Path, token: str, answer: Mapping[str, str]) -> None:
    _write_atomic(queue / f"{token}.done", json.dumps(dict(answer)))
    claimed.unlink(missing_ok=True)


@dataclass(frozen=True)
class Served:
    """A dead writer's request, served: its paths, and the commit that holds them (or why
    there is none: the answer a waiting writer would have raised)."""

    paths: tuple[str, ...]
    commit: str | None
    problem: str | None


def _orphans(queue: Path) -> list[Request]:
    found = []
    for path in [*queue.glob("*.json"), *queue.glob("*.claimed")]:
        try:
            request = Request.from_json(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if request.writer_gone():
            found.append(request)
    return found


def serve_orphaned(root: Path) -> list[Served]:
    """Commit the requests whose writers died while they waited in the queue (SIGKILL,
    out of memory), as any holder of the commit lock would: one commit each, one
    compare-and-swap, the branch never moved while another git command holds an index.
    Nothing when none waits (one directory listing), or while HEAD is detached or a
    rebase or merge is in progress (the records wait in the working tree for `ledger
    commit`)."""
    queue = common_dir(root) / QUEUE
    orphans = _orphans(queue) if queue.is_dir() else []
    if not orphans or head_state(root).pending_reason:
        return []
    served = []
    with commit_lock(root):
        for ref in sorted({r.ref for r in orphans}):
            _serve(root, ref)
        for request in orphans:
            answer = _take_answer(queue, request.token)
            if answer is None:  # withdrawn, or answered and taken meanwhile: not ours to report
                continue
            paths = tuple(sorted(request.blobs))
            if "commit" in answer:
                served.append(Served(paths, answer["commit"], None))
            else:
                try:
                    _result(answer)
                except CommitError as exc:
                    served.append(Served(paths, None, str(exc)))
    return served


def _sweep_answers(queue: Path) -> None:
    """Answers nobody came for (their writer died): gone after an hour."""
    cutoff = time.time() - _STALE_ANSWER_S
    for path in queue.glob("*.done"):
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < cutoff:
                path.unlink()


def _serve(root: Path, ref: str) -> None:
    """Commit every waiting request for `ref` (the caller holds the commit lock)."""
    queue = _queue(root)
    work = _pending(queue, ref)
    if not work:
        return
    try:
        answers = _commit_batch(root, ref, [r for _, r in work])
    except CommitError as exc:
        answers = {r.token: {"busy" if isinstance(exc, indexsync.IndexBusy) else "error": str(exc)}
                   for _, r in work}  # fmt: skip
    except Exception as exc:  # noqa: BLE001 - every waiter must get an answer
        answers = {r.token: {"error": f"{type(exc).__name__}: {exc}"} for _, r in work}
    for claimed, request in work:
        _answer(queue, claimed, request.token, answers[request.token])
    if random.random() < 0.02:
        _sweep_answers(queue)


def _commit_batch(root: Path, ref: str, requests: list[Request]) -> dict[str, dict[str, str]]:
    """One chain of commits (one per request) on `ref`, one compare-and-swap, the indexes
    moved in the same critical section. Retries only when a non-ledger writer moved the ref."""
    while True:
        old = rev_parse(root, ref)
        new, answers, entries = _build_chain(root, old, requests)
        if new is None or new == old:
            return answers
        tgts = indexsync.targets(root, ref)
        with indexsync.locked([t.index for t in tgts]) as held:
            indexsync.write_journal(root, ref, entries, held, tgts)
            if _git_ok(root, "update-ref", "-m", "ledger: record run", ref, new, old or "0" * 40):
                indexsync.pause_point("after-ref-update")
                for target, lock in zip(tgts, held):
                    indexsync.apply(root, target, lock, entries)
                indexsync.clear_journal(root)
                return answers
            indexsync.clear_journal(root)
        time.sleep(random.uniform(0.0, 0.02))  # the user (or git) moved the branch: rebuild


def _build_chain(
    root: Path, tip: str | None, requests: list[Request]
) -> tuple[str | None, dict[str, dict[str, str]], dict[str, str | None]]:
    """Commits for `requests` chained on `tip`, in a private index: (new tip, answers by
    token, every path -> blob the chain changed)."""
    answers: dict[str, dict[str, str]] = {}
    entries: dict[str, str | None] = {}
    paths = sorted({p for r in requests for p in r.blobs})
    at_tip = indexsync.blobs_at(root, tip, paths) if tip else {p: None for p in paths}
    current = dict(at_tip)
    parent = tip
    with private_index() as env:
        if tip:
            _git(root, "read-tree", tip, env=env)
        parent_tree = _text(root, "rev-parse", f"{tip}^{{tree}}") if tip else None
        for request in requests:
            if request.create_only:
                clash = [p for p, sha in request.blobs.items() if current.get(p) not in (None, sha)]
                if clash:
                    answers[request.token] = {"exists": clash[0]}
                    continue
            lines = "".join(indexsync.index_line(p, sha) + "\n" for p, sha in request.blobs.items())
            _git(root, "update-index", "--index-info", input=lines.encode("utf-8"), env=env)
            tree = _text(root, "write-tree", env=env)
            if tree != parent_tree:
                args = ["commit-tree", tree, "-F", "-"]
                if parent:
                    args[2:2] = ["-p", parent]
                parent = _git(root, *args, input=request.message.encode("utf-8")).decode().strip()
                parent_tree = tree
            current.update(request.blobs)
            entries.update(request.blobs)
            answers[request.token] = {"commit": parent or ""}
    return parent, answers, entries


def move_branch(root: Path, ref: str, old: str, new: str, entries: Mapping[str, str | None]) -> bool:
    """Compare-and-swap `ref` from `old` to `new` (whose difference is `entries`, ledger's
    paths only) under the commit lock, the indexes of the worktrees on it moved in the same
    critical section; False when the ref had moved."""
    with commit_lock(root):
        tgts = indexsync.targets(root, ref)
        with indexsync.locked([t.index for t in tgts]) as held:
            indexsync.write_journal(root, ref, entries, held, tgts)
            if not _git_ok(root, "update-ref", "-m", "ledger: push", ref, new, old):
                indexsync.clear_journal(root)
                return False
            for target, lock in zip(tgts, held):
                indexsync.apply(root, target, lock, entries)
            indexsync.clear_journal(root)
            return True
