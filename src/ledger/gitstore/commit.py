"""Writing: commits made through plumbing and a compare-and-swap ref update, trees built
in private index files, never touching the user's index beyond ledger's own paths."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from ledger.errors import CommitError
from ledger.gitstore import groupcommit, indexsync
from ledger.gitstore.core import _git, _git_ok, _text, git_dir, head_state, private_index


def _hash_blob(root: Path, data: bytes) -> str:
    return _git(root, "hash-object", "-w", "--stdin", input=data).decode().strip()


def commit_files(
    root: Path,
    files: Mapping[str, bytes | None],
    message: str,
    *,
    deadline_s: float = 600.0,
    create_only: bool = False,
) -> str:
    """Commit `files` (repo path -> content, None deletes) onto the current branch.

    Safe against concurrent writers: requests are committed in groups by whichever writer
    holds the commit lock (`groupcommit`), and the branch moves by compare-and-swap only
    while the index of every worktree on that branch is locked and updated with it
    (`indexsync`): the user's index gains exactly these paths, nothing else in it or in the
    working tree changes, and no later `git commit` can undo the record.
    Raises CommitError when HEAD is detached or an operation is in progress, IndexBusy
    (a CommitError) when another git command keeps the index locked; with `create_only`,
    PathExists (and nothing committed) when a path is already on the branch with other
    content, checked against the very commit the compare-and-swap builds on.
    """
    state = head_state(root)
    if state.pending_reason:
        raise CommitError(f"cannot commit now: {state.pending_reason}")
    assert state.branch_ref is not None  # narrowed by pending_reason
    blobs = {path: (_hash_blob(root, data) if data is not None else None) for path, data in files.items()}
    return groupcommit.submit(root, state.branch_ref, blobs, message, create_only=create_only,
                              deadline_s=deadline_s)  # fmt: skip


def _index_line(path: str, sha: str | None, mode: str = "100644") -> str:
    """One `update-index --index-info` line; no blob id removes the path."""
    return f"0 {'0' * 40}\t{path}" if sha is None else f"{mode} {sha}\t{path}"


def _tree_from(root: Path, base: str | None, lines: list[str]) -> str:
    """The tree id of `base` (a tree-ish, or nothing) with index-info `lines` applied,
    built in a private index."""
    with private_index() as env:
        if base:
            _git(root, "read-tree", base, env=env)
        if lines:
            _git(root, "update-index", "--index-info", input=("\n".join(lines) + "\n").encode(), env=env)
        return _text(root, "write-tree", env=env)


def repair_index(root: Path, prefix: str = "experiments") -> list[str]:
    """Make the user's index agree with the branch on ledger's paths again (after a process
    was killed mid-commit, or an older ledger left a record out of the index): the paths
    put back. `ledger status` and every write command run it."""
    with groupcommit.commit_lock(root):
        return indexsync.repair(root, prefix)


def _sync_user_index(root: Path, entries: Mapping[str, str | None]) -> None:
    """Record ledger's own paths (already on the branch) in the index of every worktree on
    the current branch, under the commit lock and git's index lock."""
    if not entries:
        return
    with groupcommit.commit_lock(root):
        state = head_state(root)
        if state.branch_ref is not None:
            indexsync.sync(root, state.branch_ref, entries)
            return
        own = indexsync.Target(git_dir(root), root)
        with indexsync.locked([own.index]) as held:
            indexsync.apply(root, own, held[0], entries)


def tree_without(root: Path, tree: str, excluded: Iterable[str]) -> str:
    """`tree` with the top-level entries `excluded` left out (the id git would give the same
    content without them)."""
    names = {name.encode() for name in excluded}
    kept = [
        item for item in _git(root, "ls-tree", "-z", tree).split(b"\0")
        if item and item.partition(b"\t")[2] not in names
    ]  # fmt: skip
    return _git(root, "mktree", "-z", input=b"".join(i + b"\0" for i in kept)).decode().strip()


def index_tree_without(root: Path, index: Path, excluded: Iterable[str]) -> str:
    """The tree id of `index` with the top-level folders `excluded` left out, built from a
    private copy so neither the user's index nor the one being committed changes.

    Dropping the entries from the top-level tree (`mktree`) gives the same id as removing
    them from an index, without `git rm --cached`, which is quadratic in the files removed.
    """
    with private_index(copy_of=index) as env:
        return tree_without(root, _text(root, "write-tree", env=env), excluded)


def stage_files(root: Path, files: Mapping[str, bytes]) -> None:
    """Put ledger's own files, already committed on the branch, into the user's index."""
    _sync_user_index(root, {path: _hash_blob(root, data) for path, data in files.items()})


def replay_commit(root: Path, onto: str, commit: str) -> str:
    """`commit`'s changes (to its first parent) re-made on top of `onto`, keeping its
    author and message; `onto` itself when they are there already. Never touches the
    user's index or working tree."""
    diff = _git(root, "diff-tree", "-r", "-z", "--no-renames", "--no-commit-id", "--root", commit)
    fields = diff.decode("utf-8", "replace").split("\0")
    lines = []
    for meta, path in zip(fields[0::2], fields[1::2]):
        if not meta.startswith(":"):
            continue
        _, new_mode, _, new_sha, status = meta[1:].split()
        lines.append(_index_line(path, None if status == "D" else new_sha, new_mode))
    tree = _tree_from(root, onto, lines)
    if _text(root, "rev-parse", f"{onto}^{{tree}}") == tree:
        return onto
    ident = _text(root, "log", "-1", "--format=%an%x00%ae%x00%aI", commit).split("\0")
    author = {"GIT_AUTHOR_NAME": ident[0], "GIT_AUTHOR_EMAIL": ident[1], "GIT_AUTHOR_DATE": ident[2]}
    message = _git(root, "log", "-1", "--format=%B", commit)
    return _git(root, "commit-tree", tree, "-p", onto, "-F", "-", input=message, env=author).decode().strip()


def update_ref(root: Path, ref: str, new: str, old: str) -> bool:
    """Compare-and-swap a ref: move `ref` from `old` to `new`; False if it had moved."""
    return _git_ok(root, "update-ref", "-m", "ledger: push", ref, new, old)


def advance_branch(root: Path, ref: str, old: str, new: str, entries: Mapping[str, str | None]) -> bool:
    """Move the checked-out branch `ref` from `old` to `new`, which differ only in ledger's
    `entries` (path -> blob, None deleted), with the index of every worktree on it in the
    same step; False when the branch had moved meanwhile."""
    return groupcommit.move_branch(root, ref, old, new, entries)


def sync_index_entries(root: Path, entries: Mapping[str, str | None]) -> None:
    """Record ledger paths (path -> blob id, None removes) in the user's index."""
    _sync_user_index(root, entries)


def tree_with(root: Path, tree: str, files: Mapping[str, bytes]) -> str:
    """The id of `tree` with some files' content replaced (objects written, nothing else)."""
    return _tree_from(root, tree, [_index_line(path, _hash_blob(root, data)) for path, data in files.items()])
