"""Keeping the user's index in step with the branch, so that no later `git commit` of the
user's can delete a record ledger committed.

ledger moves a branch only while it holds the index lock (`<index>.lock`, git's own lock
protocol) of every worktree that has that branch checked out: the ref moves and each index
gains the new entries inside the same critical section, as `git commit` itself does. If
another git command holds an index (a `git commit` waiting for its message), ledger does
not move the branch at all: the record waits in the working tree (`ledger status` shows it,
`ledger commit` commits it), and the user's commit lands as if ledger had not been there.

A process killed inside that section leaves a journal (`<common dir>/ledger-index.json`)
naming the locks it took and the entries it meant to write: the next ledger writer (any
commit, `ledger status`) removes exactly those locks and writes the entries that the branch
really holds. No lock that ledger did not create is ever removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from ledger.errors import CommitError
from ledger.gitstore.core import _git, common_dir, git_dir
from ledger.gitstore.read import ls_tree_paths

JOURNAL = "ledger-index.json"
WAIT_S = 10.0  # how long to wait for another git command's index lock


class IndexBusy(CommitError):
    """Another git command holds an index that must move with the branch."""


@dataclass(frozen=True)
class Target:
    """One worktree whose HEAD is the branch being moved: its git directory (where its
    index lives) and, when ledger may write there, its working tree."""

    gitdir: Path
    worktree: Path | None
    fill: bool = False  # write record files missing from the working tree

    @property
    def index(self) -> Path:
        return self.gitdir / "index"


def _head_ref(gitdir: Path) -> str | None:
    try:
        head = (gitdir / "HEAD").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return head[5:].strip() if head.startswith("ref: ") else None


def main_worktree(common: Path) -> Path | None:
    """The main working tree of a repository whose git directory is `common`, when it is
    the usual `<worktree>/.git` (never read from a file anyone could have written)."""
    if common.name != ".git":
        return None
    top = common.parent
    try:
        if (top / ".git").resolve() != common.resolve() or not (top / ".git").is_dir():
            return None
    except OSError:
        return None
    return top


def targets(root: Path, ref: str) -> list[Target]:
    """Every worktree of `root`'s repository whose HEAD is `ref`.

    The committing worktree (`root`) is refreshed in place; the main worktree also gets
    record files it lacks (a sweep point commits from its own worktree: the user's checkout
    must show the record, not a deletion). Other linked worktrees only get index entries:
    their path comes from a file in the git directory, and ledger writes nowhere it names.
    """
    common = common_dir(root)
    own = git_dir(root).resolve()
    found: list[Target] = []
    if _head_ref(common) == ref:
        top = main_worktree(common)
        found.append(Target(common, top, fill=top is not None and own != common.resolve()))
    try:
        admin = sorted((common / "worktrees").iterdir())
    except OSError:
        admin = []
    for entry in admin:
        if _head_ref(entry) == ref:
            found.append(Target(entry, root if entry.resolve() == own else None))
    if not any(t.gitdir.resolve() == own for t in found) and _head_ref(own) == ref:
        found.append(Target(own, root))
    return found


# ---------------------------------------------------------------------------- locks


@dataclass(frozen=True)
class Held:
    path: Path  # <index>.lock
    dev: int
    ino: int


def _try_lock(index: Path) -> Held | None:
    lock = index.with_name(index.name + ".lock")
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return None
    try:
        info = os.fstat(fd)
    finally:
        os.close(fd)
    return Held(lock, info.st_dev, info.st_ino)


def _release(held: Held) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(held.path)


@contextlib.contextmanager
def locked(indexes: list[Path], wait_s: float | None = None) -> Iterator[list[Held]]:
    """Hold the index lock of every index in `indexes` (all or none), waiting up to
    `wait_s` (default WAIT_S) for other git commands to let go; IndexBusy when one does not."""
    give_up = time.monotonic() + (WAIT_S if wait_s is None else wait_s)
    held: list[Held] = []
    try:
        for index in indexes:
            while True:
                got = _try_lock(index)
                if got is not None:
                    held.append(got)
                    break
                if time.monotonic() > give_up:
                    raise IndexBusy(
                        f"another git command holds {index.name}.lock (a `git commit` waiting "
                        "for its message?), so the branch was left alone; the record is kept in "
                        "the working tree: run `ledger commit` when git is done"
                    )
                time.sleep(random.uniform(0.01, 0.05))
        yield held
    finally:
        for item in held:
            _release(item)


# ---------------------------------------------------------------------------- journal


def _journal(root: Path) -> Path:
    return common_dir(root) / JOURNAL


def write_journal(root: Path, ref: str, entries: Mapping[str, str | None], held: list[Held],
                  tgts: list[Target]) -> None:  # fmt: skip
    """What a process killed inside the critical section leaves for the next writer."""
    data = {
        "pid": os.getpid(),
        "ref": ref,
        "entries": dict(entries),
        "locks": [{"path": str(h.path), "dev": h.dev, "ino": h.ino} for h in held],
        "targets": [
            {"gitdir": str(t.gitdir), "worktree": str(t.worktree) if t.worktree else None, "fill": t.fill} for t in tgts
        ],  # fmt: skip
    }
    path = _journal(root)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


def clear_journal(root: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        _journal(root).unlink()


def recover(root: Path) -> list[str]:
    """Finish what a killed ledger process left inside the critical section (call it only
    while holding the commit lock). Returns the paths written into an index."""
    path = _journal(root)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError):
        path.unlink(missing_ok=True)
        return []
    for lock in data.get("locks") or []:
        try:
            info = os.lstat(lock["path"])
        except (OSError, KeyError, TypeError):
            continue
        if (info.st_dev, info.st_ino) == (lock.get("dev"), lock.get("ino")):
            os.unlink(lock["path"])  # the very lock file the dead process created
    ref = str(data.get("ref") or "")
    entries = {str(k): (str(v) if v else None) for k, v in (data.get("entries") or {}).items()}
    # Only what the branch really holds now: the ref may never have moved.
    on_branch = blobs_at(root, ref, list(entries)) if ref else {}
    wanted = {p: sha for p, sha in entries.items() if on_branch.get(p) == sha}
    tgts = []
    for item in data.get("targets") or []:
        gitdir = Path(item["gitdir"])
        if gitdir.is_dir() and _head_ref(gitdir) == ref:
            worktree = Path(item["worktree"]) if item.get("worktree") else None
            tgts.append(Target(gitdir, worktree, bool(item.get("fill"))))
    if wanted and tgts:
        try:
            with locked([t.index for t in tgts]) as held:
                for target, lock in zip(tgts, held):
                    apply(root, target, lock, wanted)
        except IndexBusy:
            return []  # a git command of the user's holds it now: the next writer retries
    path.unlink(missing_ok=True)
    return sorted(wanted)


def stale_entries(root: Path, prefix: str) -> dict[str, str]:
    """Paths under `prefix` where HEAD and the working tree agree but the index does not
    (a staged deletion or an older version, with the committed file right there): what an
    index sync that never happened leaves, and what `git commit` would undo."""
    out = _git(root, "diff-index", "--cached", "--no-renames", "-z", "HEAD", "--", prefix, check=False)
    fields = out.decode("utf-8", "replace").split("\0")
    found: dict[str, str] = {}
    for meta, path in zip(fields[0::2], fields[1::2]):
        parts = meta[1:].split() if meta.startswith(":") else []
        if len(parts) != 5 or parts[4] not in ("D", "M") or parts[0] != "100644":
            continue
        head_sha = parts[2]
        try:
            data = (root / path).read_bytes() if not (root / path).is_symlink() else None
        except OSError:
            continue
        if data is not None and hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest() == head_sha:
            found[path] = head_sha
    return found


def repair(root: Path, prefix: str) -> list[str]:
    """Finish a sync a killed process left (its journal), then put back into `root`'s
    index every path under `prefix` that HEAD and the working tree agree on (call it
    while holding the commit lock). The paths repaired."""
    repaired = set(recover(root))
    stale = stale_entries(root, prefix)
    if stale:
        own = Target(git_dir(root), root)
        try:
            with locked([own.index]) as held:
                apply(root, own, held[0], stale)
        except IndexBusy:
            return sorted(repaired)
        repaired.update(stale)
    return sorted(repaired)


def blobs_at(root: Path, rev: str, paths: list[str]) -> dict[str, str | None]:
    """path -> its blob id at `rev`, None where `rev` has no file there."""
    found: dict[str, str | None] = {p: None for p in paths}
    found.update(ls_tree_paths(root, rev, paths))
    return found


# ---------------------------------------------------------------------------- applying


def index_line(path: str, sha: str | None) -> str:
    return f"0 {'0' * 40}\t{path}" if sha is None else f"100644 {sha}\t{path}"


def apply(root: Path, target: Target, held: Held, entries: Mapping[str, str | None]) -> None:
    """Write `entries` into `target`'s index, whose lock `held` is ours: a private copy is
    changed and renamed over the index (git's own protocol), then the lock goes."""
    index = target.index
    tmp = index.with_name(f"ledger-index-{os.getpid()}-{random.getrandbits(32):08x}")
    try:
        with contextlib.suppress(FileNotFoundError):
            with open(index, "rb") as src, open(tmp, "wb") as dst:
                dst.write(src.read())
        env = {"GIT_INDEX_FILE": str(tmp)}
        lines = "".join(index_line(p, sha) + "\n" for p, sha in entries.items())
        cwd = target.worktree or root
        if target.worktree is not None and target.fill:
            _fill(root, target.worktree, entries)
        _git(cwd, "update-index", "--index-info", input=lines.encode("utf-8"), env=env)
        present = [p for p, sha in entries.items() if sha is not None]
        if target.worktree is not None and present:
            # Stat data for just these paths, so `git status` does not re-hash them.
            _git(cwd, "update-index", "-q", "--refresh", "--", *present, env=env, check=False)
        os.replace(tmp, index)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(str(tmp) + ".lock")
    _release(held)


def _fill(root: Path, worktree: Path, entries: Mapping[str, str | None]) -> None:
    """Write the record files a working tree lacks (never replacing one that is there)."""
    for path, sha in entries.items():
        target = worktree / path
        if sha is None or os.path.lexists(target) or ".." in Path(path).parts:
            continue
        data = _git(root, "cat-file", "blob", sha)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.ledger-tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)


def sync(root: Path, ref: str, entries: Mapping[str, str | None], wait_s: float | None = None) -> None:
    """Write `entries` (already on `ref`) into the index of every worktree on `ref`."""
    tgts = targets(root, ref)
    if not tgts or not entries:
        return
    with locked([t.index for t in tgts], wait_s) as held:
        for target, lock in zip(tgts, held):
            apply(root, target, lock, entries)


def pause_point(name: str) -> None:
    """A place a test can stop this process at (LEDGER_TEST_PAUSE=<name>), to kill it there
    with SIGKILL: writes `LEDGER_TEST_PAUSE_FILE` and waits."""
    if os.environ.get("LEDGER_TEST_PAUSE") != name:
        return
    marker = os.environ.get("LEDGER_TEST_PAUSE_FILE")
    if marker:
        Path(marker).write_text(str(os.getpid()), encoding="utf-8")
    time.sleep(3600)
