"""Reading: trees, blobs in bulk (one `git cat-file --batch`), history and the index."""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ledger.gitstore.core import _env, _git, _git_ok, _text, command, git_dir, rev_parse


def ls_tree(root: Path, rev: str, prefix: str) -> list[tuple[str, str]]:
    """(path, blob id) of every file under `prefix` at `rev`."""
    out = _git(root, "ls-tree", "-r", "-z", "--full-tree", rev, "--", prefix, check=False)
    entries = []
    for item in out.split(b"\0"):
        if not item:
            continue
        meta, _, path = item.partition(b"\t")
        parts = meta.split()
        if len(parts) == 3 and parts[1] == b"blob":
            entries.append((path.decode("utf-8", "replace"), parts[2].decode()))
    return entries


def ls_tree_paths(root: Path, rev: str, paths: list[str]) -> list[tuple[str, str]]:
    """(path, blob id) of those of `paths` that are files at `rev` (literal paths)."""
    if not paths:
        return []
    out = _git(root, "--literal-pathspecs", "ls-tree", "-z", "--full-tree", rev, "--", *paths, check=False)
    entries = []
    for item in out.split(b"\0"):
        meta, _, path = item.partition(b"\t")
        parts = meta.split()
        if len(parts) == 3 and parts[1] == b"blob":
            entries.append((path.decode("utf-8", "replace"), parts[2].decode()))
    return entries


def existing_objects(root: Path, names: list[str]) -> set[str]:
    """Those of `names` (full object ids) that the repository has, in one call."""
    wanted = [n for n in names if n and all(c in "0123456789abcdef" for c in n)]
    if not wanted:
        return set()
    out = _git(root, "cat-file", "--batch-check=%(objectname)", input="".join(f"{n}\n" for n in wanted).encode())
    return {line for line in out.decode("ascii", "replace").splitlines() if " " not in line}


def untracked_and_modified(root: Path, prefix: str, *, modified: bool = True) -> list[str]:
    """Files under `prefix` that differ from the index in the working tree: new ones, and
    with `modified` changed (or deleted) ones too (that part stats every tracked file)."""
    return start_untracked_and_modified(root, prefix, modified=modified)()


def start_untracked_and_modified(root: Path, prefix: str, *, modified: bool = True) -> Callable[[], list[str]]:
    """`untracked_and_modified`, started now and answered by the call it returns, so that a
    reader can do other work meanwhile. New files and changed ones are asked of two git
    processes side by side: `ls-files --others` walks the folders while `diff-files` stats
    the tracked files (with git's own threads), about half the time of one `ls-files`."""
    asks: list[tuple[str, ...]] = [("ls-files", "-z", "--others", "--exclude-standard", "--", prefix)]
    if modified:
        asks.append(("diff-files", "--name-only", "-z", "--", prefix))
    procs = [
        subprocess.Popen(command(root, *args), cwd=root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=_env())
        for args in asks
    ]

    found: list[str] = []

    def answer() -> list[str]:
        """The files (asked once; later calls give the same answer)."""
        while procs:
            out, _ = procs.pop().communicate()
            found.extend(p for p in out.decode("utf-8", "replace").split("\0") if p)
        return sorted(set(found))

    return answer


def read_blobs(root: Path, shas: list[str], limit: int) -> Iterator[tuple[str, bytes | None]]:
    """(sha, content) for each blob in order; None for one that is missing or over `limit`."""
    for sha, state, data in iter_blobs(root, shas, limit):
        yield sha, data if state == "ok" else None


def _skip(stream: IO[bytes], count: int) -> None:
    read = stream.read
    while count > 0:
        chunk = read(min(count, 1 << 20))
        if not chunk:
            return
        count -= len(chunk)


def read_file_at(root: Path, rev: str, path: str, limit: int) -> bytes | None:
    """The content of `path` at `rev`, or None when missing or over `limit` bytes."""
    for _, data in read_blobs(root, [f"{rev}:{path}"], limit):
        return data
    return None


def merge_base(root: Path, a: str, b: str) -> str | None:
    """The best common ancestor of two revisions (what `git diff A...B` compares from)."""
    out = _git(root, "merge-base", a, b, check=False).decode().strip()
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
    out = _git(root, *args, env={"GIT_INDEX_FILE": str(index)}).decode("utf-8", "replace")
    parts = out.split("\0")
    return sorted((parts[i][:1], parts[i + 1]) for i in range(0, len(parts) - 1, 2) if parts[i + 1])


def index_blobs(root: Path, index: Path, prefix: str) -> dict[str, str]:
    """path -> blob id of every file staged in `index` under `prefix`."""
    out = _git(root, "ls-files", "-s", "-z", "--", prefix, env={"GIT_INDEX_FILE": str(index)})
    blobs = {}
    for item in out.split(b"\0"):
        meta, _, path = item.partition(b"\t")
        parts = meta.split()
        if len(parts) == 3:
            blobs[path.decode("utf-8", "replace")] = parts[1].decode()
    return blobs


def grep_paths(root: Path, rev: str, fixed: str, prefix: str) -> list[str]:
    """Paths under `prefix` at `rev` whose content contains the string `fixed`."""
    out = _git(
        root, "grep", "-l", "-z", "-F", "--no-textconv", "-e", fixed, rev, "--", prefix,
        check=False,
    )  # fmt: skip
    found = []
    for item in out.decode("utf-8", "replace").split("\0"):
        if item:
            found.append(item.split(":", 1)[1] if item.startswith(f"{rev}:") else item)
    return sorted(found)


def is_ancestor(root: Path, commit: str, rev: str = "HEAD") -> bool:
    """Whether `commit` is reachable from `rev` (the trusted history)."""
    return _git_ok(root, "merge-base", "--is-ancestor", commit, rev)


def branch_refs(root: Path) -> list[str]:
    """Every local and remote-tracking branch, sorted (where untrusted records may be)."""
    out = _text(root, "for-each-ref", "--format=%(refname)", "refs/heads", "refs/remotes", check=False)
    return sorted(ref for ref in out.splitlines() if ref and not ref.endswith("/HEAD"))


def show_blob(root: Path, rev: str, path: str) -> bytes | None:
    """The bytes of `path` at `rev`, or None when it is not there."""
    if not _git_ok(root, "cat-file", "-e", f"{rev}:{path}"):
        return None
    return _git(root, "cat-file", "blob", f"{rev}:{path}")


@dataclass(frozen=True)
class LogEntry:
    sha: str
    parents: tuple[str, ...]
    message: str
    paths: tuple[str, ...]


def log_entries(root: Path, revision_range: str) -> list[LogEntry]:
    """Commits in `revision_range`, oldest first, with the paths each one changes."""
    out = _git(
        root, "-c", "core.quotePath=false", "log", "--reverse", "--topo-order", "--no-renames",
        "-z", "--name-only", "--format=%x01%H%x02%P%x02%B%x02", revision_range,
    )  # fmt: skip
    entries = []
    for chunk in out.decode("utf-8", "replace").split("\x01")[1:]:
        sha, parents, message, rest = chunk.split("\x02", 3)
        paths = tuple(p for p in rest.strip("\n\0").split("\0") if p.strip("\n"))
        entries.append(LogEntry(sha, tuple(parents.split()), message, tuple(p.strip("\n") for p in paths)))
    return entries


def changed_paths(root: Path, old: str, new: str) -> list[tuple[str, str | None]]:
    """(path, new blob id or None when deleted) for every file that differs."""
    out = _git(root, "diff-tree", "-r", "-z", "--no-renames", old, new)
    fields = out.decode("utf-8", "replace").split("\0")
    changes = []
    for meta, path in zip(fields[0::2], fields[1::2]):
        if meta.startswith(":"):
            parts = meta[1:].split()
            changes.append((path, None if parts[4] == "D" else parts[3]))
    return changes


# Large reads from git's pipe: fewer system calls, and fewer switches between git and us.
_READ_BUFFER = 1 << 20


def iter_blobs(root: Path, shas: list[str], limit: int) -> Iterator[tuple[str, str, bytes | None]]:
    """(sha, state, content) for each blob in order, from one `git cat-file --batch`.

    state is "ok", "oversize" (more than `limit` bytes; content None, never read into
    memory) or "missing" (not in the object database, e.g. a partial clone).
    """
    proc = subprocess.Popen(
        command(root, "cat-file", "--batch", "--buffer"),
        cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        env=_env(), bufsize=_READ_BUFFER,
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


def ref_tips(root: Path, rev: str | None, all_branches: bool) -> str:
    """What the refs a reader looks at point to, in one call: `rev` (default HEAD), plus
    every local and remote-tracking branch when `all_branches` (a cheap change detector)."""
    if all_branches:
        out = _text(
            root, "for-each-ref", "--format=%(objectname) %(refname)", "refs/heads", "refs/remotes", check=False
        )
        return (rev_parse(root, rev or "HEAD") or "") + "\n" + out
    return rev_parse(root, rev or "HEAD") or ""


def code_diff(root: Path, old: str, new: str, limit: int, exclude: str = "experiments") -> bytes | None:
    """The diff of the code between two commits (the ledger's own records left out), at most
    `limit` bytes; None when either is not a commit. No external diff driver or textconv
    filter from the repository runs."""
    a, b = rev_parse(root, old), rev_parse(root, new)
    if a is None or b is None:
        return None
    out = _git(root, "-c", "core.quotePath=false", "diff", "--no-ext-diff", "--no-textconv", "--no-color",
              "--no-renames", a, b, "--", ".", f":(exclude){exclude}")  # fmt: skip
    return out[:limit]
