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
from typing import IO

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
        capture_output=True,
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
    for _ in range(200):
        proc = subprocess.run(
            ["git", *_SAFE, "update-index", "--index-info"],
            cwd=root, input=payload, capture_output=True, env=_env(),
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
        if self._proc.stdout:
            self._proc.stdout.close()

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


def _skip(stream: IO[bytes], count: int) -> None:
    read = stream.read
    while count > 0:
        chunk = read(min(count, 1 << 20))
        if not chunk:
            return
        count -= len(chunk)


# ---------------------------------------------------------------------------- tags and files at a rev


@dataclass(frozen=True)
class TagInfo:
    name: str
    target: str  # the commit the tag points to
    annotated: bool
    tagger: str | None
    date: str | None  # ISO-8601 (strict) of the tagger date
    message: str


def read_file_at(root: Path, rev: str, path: str, limit: int) -> bytes | None:
    """The content of `path` at `rev`, or None when missing or over `limit` bytes."""
    with BlobStream(root) as stream:
        for _, data in stream.read_many([f"{rev}:{path}"], limit):
            return data
    return None


def create_annotated_tag(root: Path, name: str, target: str, message: str) -> None:
    """Create an annotated tag (never moving an existing one); touches no index or worktree."""
    if git_ok(root, "rev-parse", "--verify", "--quiet", f"refs/tags/{name}"):
        raise GitError(f"tag {name} already exists: pick another version or delete the tag")
    git(root, "tag", "-a", "-F", "-", name, target, input=message.encode("utf-8"))


def list_tags(root: Path, pattern: str = "*") -> list[TagInfo]:
    """Tags matching a `git for-each-ref` pattern, sorted by name."""
    fmt = "%(refname:strip=2)%00%(objecttype)%00%(*objectname)%00%(objectname)%00" \
          "%(taggername) %(taggeremail)%00%(taggerdate:iso-strict)%00%(contents)%00%01"  # fmt: skip
    out = git(root, "for-each-ref", f"--format={fmt}", f"refs/tags/{pattern}", check=False)
    tags = []
    for chunk in out.decode("utf-8", "replace").split("\x01"):
        fields = chunk.lstrip("\n").split("\0")
        if len(fields) < 7 or not fields[0]:
            continue
        name, kind, peeled, obj, tagger, date, message = fields[:7]
        annotated = kind == "tag"
        tags.append(TagInfo(
            name=name, target=peeled if annotated else obj, annotated=annotated,
            tagger=tagger.strip() or None, date=date or None, message=message.strip(),
        ))  # fmt: skip
    return sorted(tags, key=lambda t: t.name)


# ---------------------------------------------------------------------------- review and gates


def merge_base(root: Path, a: str, b: str) -> str | None:
    """The best common ancestor of two revisions (what `git diff A...B` compares from)."""
    out = git(root, "merge-base", a, b, check=False).decode().strip()
    return out or None


def active_index(root: Path) -> Path:
    """The index a commit is being made from: the one git hands its hooks (GIT_INDEX_FILE,
    a temporary index for `commit -a` or `commit PATH`), else the repository's own."""
    named = os.environ.get("GIT_INDEX_FILE")
    if named:
        path = Path(named)
        return path if path.is_absolute() else root / path
    return git_dir(root) / "index"


def staged_paths(root: Path, index: Path, prefix: str | None = None) -> list[tuple[str, str]]:
    """(status letter, path) of every change staged in `index` against HEAD."""
    args = ["diff", "--cached", "--name-status", "--no-renames", "-z"]
    if rev_parse(root, "HEAD") is None:
        args.append("4b825dc642cb6eb9a060e54bf8d69288fbee4904")  # the empty tree
    args += ["--", prefix] if prefix else []
    out = git(root, *args, env={"GIT_INDEX_FILE": str(index)}).decode("utf-8", "replace")
    parts = out.split("\0")
    return sorted(
        (parts[i][:1], parts[i + 1]) for i in range(0, len(parts) - 1, 2) if parts[i + 1]
    )


def index_blobs(root: Path, index: Path, prefix: str) -> dict[str, str]:
    """path -> blob id of every file staged in `index` under `prefix`."""
    out = git(root, "ls-files", "-s", "-z", "--", prefix, env={"GIT_INDEX_FILE": str(index)})
    blobs = {}
    for item in out.split(b"\0"):
        meta, _, path = item.partition(b"\t")
        parts = meta.split()
        if len(parts) == 3:
            blobs[path.decode("utf-8", "replace")] = parts[1].decode()
    return blobs


def tree_without(root: Path, tree: str, excluded: Iterable[str]) -> str:
    """`tree` with the top-level entries `excluded` left out (the id git would give the same
    content without them)."""
    names = {name.encode() for name in excluded}
    kept = [
        item for item in git(root, "ls-tree", "-z", tree).split(b"\0")
        if item and item.partition(b"\t")[2] not in names
    ]  # fmt: skip
    return git(root, "mktree", "-z", input=b"".join(i + b"\0" for i in kept)).decode().strip()


def index_tree_without(root: Path, index: Path, excluded: Iterable[str]) -> str:
    """The tree id of `index` with the top-level folders `excluded` left out, built from a
    private copy so neither the user's index nor the one being committed changes.

    Dropping the entries from the top-level tree (`mktree`) gives the same id as removing
    them from an index, without `git rm --cached`, which is quadratic in the files removed.
    """
    fd, private = tempfile.mkstemp(prefix="ledger-guard-index-")
    os.close(fd)
    env = {"GIT_INDEX_FILE": private}
    try:
        if index.exists():
            shutil.copyfile(index, private)
        else:
            os.unlink(private)
        return tree_without(root, text(root, "write-tree", env=env), excluded)
    finally:
        for leftover in (private, private + ".lock"):
            try:
                os.unlink(leftover)
            except FileNotFoundError:
                pass


def grep_paths(root: Path, rev: str, fixed: str, prefix: str) -> list[str]:
    """Paths under `prefix` at `rev` whose content contains the string `fixed`."""
    out = git(
        root, "grep", "-l", "-z", "-F", "--no-textconv", "-e", fixed, rev, "--", prefix,
        check=False,
    )  # fmt: skip
    found = []
    for item in out.decode("utf-8", "replace").split("\0"):
        if item:
            found.append(item.split(":", 1)[1] if item.startswith(f"{rev}:") else item)
    return sorted(found)


# ---------------------------------------------------------------------------- reproduce support


def is_ancestor(root: Path, commit: str, rev: str = "HEAD") -> bool:
    """Whether `commit` is reachable from `rev` (the trusted history)."""
    return git_ok(root, "merge-base", "--is-ancestor", commit, rev)


def branch_refs(root: Path) -> list[str]:
    """Every local and remote-tracking branch, sorted (where untrusted records may be)."""
    out = text(root, "for-each-ref", "--format=%(refname)", "refs/heads", "refs/remotes", check=False)
    return sorted(ref for ref in out.splitlines() if ref and not ref.endswith("/HEAD"))


def show_blob(root: Path, rev: str, path: str) -> bytes | None:
    """The bytes of `path` at `rev`, or None when it is not there."""
    if not git_ok(root, "cat-file", "-e", f"{rev}:{path}"):
        return None
    return git(root, "cat-file", "blob", f"{rev}:{path}")


def worktree_add(root: Path, path: Path, commit: str) -> None:
    """A detached worktree of `commit` at `path`; the user's checkout is not touched.

    Hooks are off: nothing of the repository's runs just because ledger checked it out.
    """
    git(root, "-c", "core.hooksPath=/dev/null", "worktree", "add", "--detach", "--force",
        str(path), commit)  # fmt: skip


def worktree_remove(root: Path, path: Path) -> None:
    """Remove a worktree made by `worktree_add` and forget it, whatever state it is in."""
    git(root, "worktree", "remove", "--force", "--force", str(path), check=False)
    shutil.rmtree(path, ignore_errors=True)
    git(root, "worktree", "prune", check=False)


def apply_patch(root: Path, patch: bytes) -> None:
    """Apply a recorded code patch (tracked changes and new files) to a worktree."""
    git(root, "apply", "--binary", "--whitespace=nowarn", "-", input=patch)


# ---------------------------------------------------------------------------- sweeps and push


def worktree_add_branch(root: Path, path: Path, branch: str) -> None:
    """A worktree at `path` whose HEAD is the user's own branch (checked out twice, on
    purpose), so that runs there commit to that branch through the shared refs.

    It is made detached first and pointed at the branch afterwards: checking the branch
    out directly would make git reset the branch ref itself, racing the runs of other
    worktrees that are committing to it. Hooks are off.
    """
    tip = rev_parse(root, f"refs/heads/{branch}")
    if tip is None:
        raise GitError(f"branch {branch} has no commit yet: commit your code first")
    worktree_add(root, path, tip)
    git(path, "symbolic-ref", "HEAD", f"refs/heads/{branch}")


def stage_files(root: Path, files: Mapping[str, bytes]) -> None:
    """Put ledger's own files, already committed on the branch, into the user's index."""
    _sync_user_index(root, {path: _hash_blob(root, data) for path, data in files.items()})


@dataclass(frozen=True)
class LogEntry:
    sha: str
    parents: tuple[str, ...]
    message: str
    paths: tuple[str, ...]


def log_entries(root: Path, revision_range: str) -> list[LogEntry]:
    """Commits in `revision_range`, oldest first, with the paths each one changes."""
    out = git(
        root, "-c", "core.quotePath=false", "log", "--reverse", "--topo-order", "--no-renames",
        "-z", "--name-only", "--format=%x01%H%x02%P%x02%B%x02", revision_range,
    )  # fmt: skip
    entries = []
    for chunk in out.decode("utf-8", "replace").split("\x01")[1:]:
        sha, parents, message, rest = chunk.split("\x02", 3)
        paths = tuple(p for p in rest.strip("\n\0").split("\0") if p.strip("\n"))
        entries.append(LogEntry(sha, tuple(parents.split()), message, tuple(p.strip("\n") for p in paths)))
    return entries


def replay_commit(root: Path, onto: str, commit: str) -> str:
    """`commit`'s changes (to its first parent) re-made on top of `onto`, keeping its
    author and message; `onto` itself when they are there already. Never touches the
    user's index or working tree."""
    diff = git(root, "diff-tree", "-r", "-z", "--no-renames", "--no-commit-id", "--root", commit)
    fields = diff.decode("utf-8", "replace").split("\0")
    lines = []
    for meta, path in zip(fields[0::2], fields[1::2]):
        if not meta.startswith(":"):
            continue
        _, new_mode, _, new_sha, status = meta[1:].split()
        lines.append(f"0 {'0' * 40}\t{path}" if status == "D" else f"{new_mode} {new_sha}\t{path}")
    fd, index = tempfile.mkstemp(prefix="ledger-replay-index-")
    os.close(fd)
    os.unlink(index)
    env = {"GIT_INDEX_FILE": index}
    try:
        git(root, "read-tree", onto, env=env)
        if lines:
            git(root, "update-index", "--index-info", input=("\n".join(lines) + "\n").encode(), env=env)
        tree = text(root, "write-tree", env=env)
    finally:
        for leftover in (index, index + ".lock"):
            try:
                os.unlink(leftover)
            except FileNotFoundError:
                pass
    if text(root, "rev-parse", f"{onto}^{{tree}}") == tree:
        return onto
    ident = text(root, "log", "-1", "--format=%an%x00%ae%x00%aI", commit).split("\0")
    author = {"GIT_AUTHOR_NAME": ident[0], "GIT_AUTHOR_EMAIL": ident[1], "GIT_AUTHOR_DATE": ident[2]}
    message = git(root, "log", "-1", "--format=%B", commit)
    return git(root, "commit-tree", tree, "-p", onto, "-F", "-", input=message, env=author).decode().strip()


def changed_paths(root: Path, old: str, new: str) -> list[tuple[str, str | None]]:
    """(path, new blob id or None when deleted) for every file that differs."""
    out = git(root, "diff-tree", "-r", "-z", "--no-renames", old, new)
    fields = out.decode("utf-8", "replace").split("\0")
    changes = []
    for meta, path in zip(fields[0::2], fields[1::2]):
        if meta.startswith(":"):
            parts = meta[1:].split()
            changes.append((path, None if parts[4] == "D" else parts[3]))
    return changes


def fetch_branch(root: Path, remote: str, branch: str) -> str | None:
    """Fetch `branch` from `remote`; its tip, or None when the remote has no such branch."""
    if not git_ok(root, "ls-remote", "--exit-code", "--heads", remote, f"refs/heads/{branch}"):
        return None
    tracking = f"refs/remotes/{remote}/{branch}"
    if config_get(root, f"remote.{remote}.url"):
        git(root, "fetch", "--quiet", "--no-tags", remote, f"+refs/heads/{branch}:{tracking}")
        return rev_parse(root, tracking)
    git(root, "fetch", "--quiet", "--no-tags", remote, f"refs/heads/{branch}")
    return rev_parse(root, "FETCH_HEAD")


def push_branch(root: Path, remote: str, commit: str, branch: str) -> tuple[bool, str]:
    """Push `commit` to `remote`'s `branch`, fast-forward only (never forced).
    (True, "") on success; (False, git's reason) when the remote refused it."""
    proc = subprocess.run(
        ["git", *_SAFE, "push", "--porcelain", "--quiet", remote, f"{commit}:refs/heads/{branch}"],
        cwd=root, capture_output=True, env=_env(),
    )  # fmt: skip
    if proc.returncode == 0:
        return True, ""
    lines = (proc.stdout + proc.stderr).decode("utf-8", "replace").strip().splitlines()
    # With --porcelain, the refused ref's line starts with "!"; else git's own error.
    reasons = [x for x in lines if x.startswith(("!", "error:", "fatal:"))] or lines
    return False, " ".join(reasons).replace("\t", " ") if reasons else f"exit code {proc.returncode}"


def write_worktree_file(root: Path, path: str, sha: str | None) -> None:
    """Make one ledger path in the working tree match a blob (None removes it)."""
    target = root / path
    if sha is None:
        target.unlink(missing_ok=True)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    data = git(root, "cat-file", "blob", sha)
    tmp = target.with_name(f".{target.name}.ledger-tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)


def update_ref(root: Path, ref: str, new: str, old: str) -> bool:
    """Compare-and-swap a ref: move `ref` from `old` to `new`; False if it had moved."""
    return git_ok(root, "update-ref", "-m", "ledger: push", ref, new, old)


def sync_index_entries(root: Path, entries: Mapping[str, str | None]) -> None:
    """Record ledger paths (path -> blob id, None removes) in the user's index."""
    _sync_user_index(root, entries)


def tree_with(root: Path, tree: str, files: Mapping[str, bytes]) -> str:
    """The id of `tree` with some files' content replaced (objects written, nothing else)."""
    fd, index = tempfile.mkstemp(prefix="ledger-tree-index-")
    os.close(fd)
    os.unlink(index)
    env = {"GIT_INDEX_FILE": index}
    try:
        git(root, "read-tree", tree, env=env)
        lines = [f"100644 {_hash_blob(root, data)}\t{path}" for path, data in files.items()]
        git(root, "update-index", "--index-info", input=("\n".join(lines) + "\n").encode(), env=env)
        return text(root, "write-tree", env=env)
    finally:
        for leftover in (index, index + ".lock"):
            try:
                os.unlink(leftover)
            except FileNotFoundError:
                pass


# ---------------------------------------------------------------------------- bulk reading


def iter_blobs(root: Path, shas: list[str], limit: int) -> Iterator[tuple[str, str, bytes | None]]:
    """(sha, state, content) for each blob in order, from one `git cat-file --batch`.

    state is "ok", "oversize" (more than `limit` bytes; content None, never read into
    memory) or "missing" (not in the object database, e.g. a partial clone).
    """
    proc = subprocess.Popen(
        ["git", *_SAFE, "cat-file", "--batch", "--buffer"],
        cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        env=_env(),
    )  # fmt: skip
    assert proc.stdin is not None and proc.stdout is not None
    stdin, stdout = proc.stdin, proc.stdout

    def feed() -> None:
        try:
            stdin.write("".join(f"{sha}\n" for sha in shas).encode("ascii"))
            stdin.close()
        except (BrokenPipeError, ValueError):
            pass

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    finished = False
    try:
        for sha in shas:
            header = stdout.readline().split()
            if len(header) != 3:
                yield sha, "missing", None
                continue
            size = int(header[2])
            if header[1] != b"blob" or size > limit:
                _skip(stdout, size + 1)
                yield sha, "oversize" if header[1] == b"blob" else "missing", None
                continue
            data = stdout.read(size)
            stdout.read(1)
            yield sha, "ok", data
        finished = True
    finally:
        if not finished and proc.poll() is None:
            proc.kill()  # the reader stopped early: don't wait for git to drain its output
        stdout.close()
        proc.wait()
        writer.join()
