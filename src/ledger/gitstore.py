"""The one place git is touched.

Everything goes through git's own plumbing as subprocesses: it is several times faster than
GitPython's index/commit path and its object streaming (see benchmarks/RESULTS.md), and it
lets ledger commit without touching the user's index or working tree.

Writing: `commit_files` builds a tree from the branch tip plus ledger's files in a private
index, writes a commit and moves the branch with a compare-and-swap `update-ref`; if another
writer moved the branch first, it rebuilds on the new tip. Only then are ledger's own paths
added to the user's index (never anything else), so `git status` stays clean.

Reading: `BlobStream` keeps one `git cat-file --batch` process and pulls blobs through it.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from ledger.errors import CommitError, LedgerError

# Settings that keep git from running anything of the repository's while ledger reads it.
_SAFE = ("-c", "core.fsmonitor=false", "-c", "core.untrackedCache=false")
_GIT_ENV_DROP = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_EXTERNAL_DIFF")


class GitError(LedgerError):
    """A git command failed unexpectedly."""


def _env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _GIT_ENV_DROP}
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["LC_ALL"] = "C"
    if extra:
        env.update(extra)
    return env


def git(
    root: Path,
    *args: str,
    input: bytes | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> bytes:
    """Run one git command in `root` and return its stdout."""
    if shutil.which("git") is None:
        raise LedgerError("git is not installed: install git and try again")
    proc = subprocess.run(
        ["git", *_SAFE, *args],
        cwd=root,
        input=input,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(env),
    )
    if check and proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = message[-1] if message else f"exit code {proc.returncode}"
        raise GitError(f"git {args[0]} failed: {detail}")
    return proc.stdout


def git_ok(root: Path, *args: str) -> bool:
    return (
        subprocess.run(
            ["git", *_SAFE, *args],
            cwd=root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=_env(),
        ).returncode
        == 0
    )


def text(root: Path, *args: str, check: bool = True, env: Mapping[str, str] | None = None) -> str:
    return git(root, *args, check=check, env=env).decode("utf-8", "replace").strip()


# ---------------------------------------------------------------------------- repository state


def git_dir(root: Path) -> Path:
    return Path(text(root, "rev-parse", "--absolute-git-dir"))


def rev_parse(root: Path, rev: str) -> str | None:
    out = git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
    sha = out.decode().strip()
    return sha or None


@dataclass(frozen=True)
class HeadState:
    branch_ref: str | None  # refs/heads/... or None when detached / unborn elsewhere
    commit: str | None  # None on an unborn branch
    busy: str | None  # "rebase", "merge", "cherry-pick", "revert", "bisect" in progress

    @property
    def branch(self) -> str | None:
        return self.branch_ref.removeprefix("refs/heads/") if self.branch_ref else None

    @property
    def pending_reason(self) -> str | None:
        """Why an automatic commit must wait, or None when it can happen now."""
        if self.busy:
            return f"a {self.busy} is in progress"
        if self.branch_ref is None:
            return "HEAD is detached"
        return None


def head_state(root: Path) -> HeadState:
    ref = git(root, "symbolic-ref", "-q", "HEAD", check=False).decode().strip() or None
    commit = rev_parse(root, "HEAD")
    gdir = git_dir(root)
    busy = None
    for marker, name in (
        ("rebase-merge", "rebase"),
        ("rebase-apply", "rebase"),
        ("MERGE_HEAD", "merge"),
        ("CHERRY_PICK_HEAD", "cherry-pick"),
        ("REVERT_HEAD", "revert"),
        ("BISECT_LOG", "bisect"),
    ):
        if (gdir / marker).exists():
            busy = name
            break
    return HeadState(ref, commit, busy)


def config_get(root: Path, key: str) -> str | None:
    value = git(root, "config", "--get", key, check=False).decode("utf-8", "replace").strip()
    return value or None


def user_identity(root: Path) -> tuple[str | None, str | None]:
    return config_get(root, "user.name"), config_get(root, "user.email")


# ---------------------------------------------------------------------------- writing


def _hash_blob(root: Path, data: bytes) -> str:
    return git(root, "hash-object", "-w", "--stdin", input=data).decode().strip()


def commit_files(
    root: Path,
    files: Mapping[str, bytes | None],
    message: str,
    *,
    deadline_s: float = 60.0,
) -> str:
    """Commit `files` (repo path -> content, None deletes) onto the current branch.

    Safe against concurrent writers: the branch moves only by compare-and-swap. The user's
    index gains exactly these paths; nothing else in it or in the working tree changes.
    Raises CommitError when HEAD is detached or an operation is in progress.
    """
    state = head_state(root)
    if state.pending_reason:
        raise CommitError(f"cannot commit now: {state.pending_reason}")
    assert state.branch_ref is not None  # narrowed by pending_reason
    blobs = {path: (_hash_blob(root, data) if data is not None else None) for path, data in files.items()}
    give_up = time.monotonic() + deadline_s
    attempt = 0
    while True:
        old = rev_parse(root, state.branch_ref)
        commit = _commit_on(root, old, blobs, message)
        expected = old or "0" * 40
        if commit == old:
            break
        if git_ok(root, "update-ref", "-m", "ledger: record run", state.branch_ref, commit, expected):
            break
        attempt += 1
        if time.monotonic() > give_up:
            raise CommitError(
                f"the branch kept moving for {deadline_s:.0f} s; the record is kept in the "
                "working tree: run `ledger commit` later"
            )
        time.sleep(random.uniform(0.0, min(0.05 * attempt, 0.5)))
    _sync_user_index(root, blobs)
    return commit


def _commit_on(root: Path, parent: str | None, blobs: Mapping[str, str | None], message: str) -> str:
    fd, index = tempfile.mkstemp(prefix="ledger-index-")
    os.close(fd)
    os.unlink(index)  # git wants to create it itself
    env = {"GIT_INDEX_FILE": index}
    try:
        if parent:
            git(root, "read-tree", parent, env=env)
        lines = []
        for path, sha in blobs.items():
            if sha is None:
                lines.append(f"0 {'0' * 40}\t{path}")
            else:
                lines.append(f"100644 {sha}\t{path}")
        git(root, "update-index", "--index-info", input=("\n".join(lines) + "\n").encode(), env=env)
        tree = text(root, "write-tree", env=env)
    finally:
        for leftover in (index, index + ".lock"):
            try:
                os.unlink(leftover)
            except FileNotFoundError:
                pass
    if parent and text(root, "rev-parse", f"{parent}^{{tree}}") == tree:
        return parent  # nothing new (someone committed the same files already)
    args = ["commit-tree", tree, "-F", "-"]
    if parent:
        args[2:2] = ["-p", parent]
    return git(root, *args, input=message.encode("utf-8")).decode().strip()


def _sync_user_index(root: Path, blobs: Mapping[str, str | None]) -> None:
    """Record ledger's own paths in the user's index so `git status` shows them committed."""
    lines = []
    for path, sha in blobs.items():
        lines.append(f"0 {'0' * 40}\t{path}" if sha is None else f"100644 {sha}\t{path}")
    payload = ("\n".join(lines) + "\n").encode()
    for attempt in range(200):
        proc = subprocess.run(
            ["git", *_SAFE, "update-index", "--index-info"],
            cwd=root, input=payload, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(),
        )  # fmt: skip
        if proc.returncode == 0:
            # Refresh stat data for just these paths, so status does not re-hash them.
            present = [p for p, sha in blobs.items() if sha is not None]
            if present:
                subprocess.run(
                    ["git", *_SAFE, "update-index", "-q", "--refresh", "--", *present],
                    cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env(),
                )  # fmt: skip
            return
        if b"index.lock" not in proc.stderr:
            return  # the commit landed; a stale index entry is cosmetic, never data loss
        time.sleep(random.uniform(0.005, 0.05))


# ---------------------------------------------------------------------------- reading


def ls_tree(root: Path, rev: str, prefix: str) -> list[tuple[str, str]]:
    """(path, blob id) of every file under `prefix` at `rev`."""
    out = git(root, "ls-tree", "-r", "-z", "--full-tree", rev, "--", prefix, check=False)
    entries = []
    for item in out.split(b"\0"):
        if not item:
            continue
        meta, _, path = item.partition(b"\t")
        parts = meta.split()
        if len(parts) == 3 and parts[1] == b"blob":
            entries.append((path.decode("utf-8", "replace"), parts[2].decode()))
    return entries


def untracked_and_modified(root: Path, prefix: str) -> list[str]:
    """Files under `prefix` that differ from HEAD in the working tree (new or changed)."""
    out = git(
        root, "ls-files", "-z", "--others", "--modified", "--exclude-standard", "--", prefix,
        check=False,
    )  # fmt: skip
    return sorted({p for p in out.decode("utf-8", "replace").split("\0") if p})


class BlobStream:
    """One long-lived `git cat-file --batch` process to read many blobs cheaply."""

    def __init__(self, root: Path):
        self._proc = subprocess.Popen(
            ["git", *_SAFE, "cat-file", "--batch"],
            cwd=root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=_env(),
        )

    def __enter__(self) -> BlobStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._proc.stdin:
            self._proc.stdin.close()
        self._proc.wait()

    def read_many(self, shas: list[str], limit: int) -> Iterator[tuple[str, bytes | None]]:
        """Yield (sha, content) in order; None for a missing blob or one over `limit` bytes."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        stdin, stdout = self._proc.stdin, self._proc.stdout

        def feed() -> None:
            try:
                for sha in shas:
                    stdin.write(sha.encode() + b"\n")
                stdin.flush()
            except BrokenPipeError:
                pass

        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
        for sha in shas:
            header = stdout.readline().split()
            if len(header) != 3:
                yield sha, None  # "<sha> missing"
                continue
            size = int(header[2])
            if size > limit:
                _skip(stdout, size + 1)
                yield sha, None
                continue
            data = stdout.read(size)
            stdout.read(1)
            yield sha, data
        writer.join()


def _skip(stream: object, count: int) -> None:
    read = getattr(stream, "read")
    while count > 0:
        chunk = read(min(count, 1 << 20))
        if not chunk:
            return
        count -= len(chunk)
