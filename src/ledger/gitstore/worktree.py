"""Temporary worktrees (reproduce, sweeps) and working-tree files."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from ledger.gitstore.core import GitError, _git, common_dir, rev_parse


def worktree_add(root: Path, path: Path, commit: str, owner: str | None = None) -> None:
    """A detached worktree of `commit` at `path`; the user's checkout is not touched.

    Hooks, filters and fsmonitor are off (as for every git call). With `owner`, the worktree
    is locked with that reason from the start (`--lock --reason`), so git never prunes it
    while its owner lives.
    """
    lock = ["--lock", "--reason", owner] if owner else []
    _git(root, "worktree", "add", "--detach", "--force", *lock, str(path), commit)


# Temporary worktrees (reproductions, sweep points) live in directories of ledger's own temp
# root, each holding a random token; a note in the git directory names the directory, the
# token and the owning process. Cleanup starts from those notes, never from git's
# `worktrees/*/gitdir` (a file anyone with the repository could have forged): it removes a
# directory only when it sits right under ledger's temp root and holds the very token the
# note names, and forgets the worktree by deleting git's admin entry inside the git dir.
TOKEN_FILE = ".ledger-worktree-token"
NOTES_DIR = "ledger-worktrees"


def temp_root() -> Path:
    """ledger's own directory for temporary worktrees (private to this user)."""
    base = Path(tempfile.gettempdir()) / f"ledger-worktrees-{os.getuid()}"
    with contextlib.suppress(FileExistsError):
        base.mkdir(mode=0o700)
    info = os.lstat(base)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise GitError(f"{base} is not a directory of yours: remove it, then try again")
    return base


def _notes(root: Path) -> Path:
    return common_dir(root) / NOTES_DIR


def temporary_worktree_add(root: Path, kind: str, commit: str, owner: str, branch: str | None = None) -> Path:
    """A worktree of `commit` (or checking out `branch`, see `worktree_add_branch`) in a new
    directory under ledger's temp root, registered so that `remove_orphaned_temporary`
    can clean it up safely if `owner` dies. Returns its root."""
    temp = Path(tempfile.mkdtemp(prefix=f"ledger-{kind}-", dir=temp_root()))
    token = secrets.token_hex(16)
    (temp / TOKEN_FILE).write_text(token, encoding="utf-8")
    path = temp / (root.resolve().name or "worktree")
    notes = _notes(root)
    notes.mkdir(exist_ok=True)
    note = {"path": str(path), "temp": str(temp), "token": token, "owner": owner}
    tmp = notes / f".{token}.tmp"
    tmp.write_text(json.dumps(note), encoding="utf-8")
    os.replace(tmp, notes / f"{token}.json")
    if branch:
        worktree_add_branch(root, path, branch, owner)
    else:
        worktree_add(root, path, commit, owner)
    return path


def _read_notes(root: Path) -> list[tuple[Path, dict[str, str]]]:
    found = []
    try:
        files = sorted(_notes(root).glob("*.json"))
    except (OSError, GitError):
        return []
    for file in files:
        try:
            note = json.loads(file.read_text(encoding="utf-8"))
            found.append((file, {k: str(note[k]) for k in ("path", "temp", "token", "owner")}))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return found


def _ours(temp: Path, token: str) -> bool:
    """Whether `temp` is a directory ledger made: right under its temp root, no symlink on
    the way, holding the token it wrote."""
    try:
        base = temp_root()
        if temp.parent != base or os.path.realpath(temp) != os.path.join(os.path.realpath(base), temp.name):
            return False
        if not stat.S_ISDIR(os.lstat(temp).st_mode):
            return False
        marker = temp / TOKEN_FILE
        if not stat.S_ISREG(os.lstat(marker).st_mode):
            return False
        return marker.read_text(encoding="utf-8") == token
    except (OSError, GitError, ValueError):
        return False


def _forget(root: Path, path: Path) -> None:
    """Delete git's admin entry for the worktree at `path` (inside the git directory only:
    its lock, its stale index.lock, everything), whatever its lock says."""
    try:
        admin = sorted((common_dir(root) / "worktrees").iterdir())
    except (OSError, GitError):
        return
    for entry in admin:
        try:
            gitdir = (entry / "gitdir").read_text(encoding="utf-8").strip()
        except OSError:
            continue
        if gitdir == f"{path}/.git" and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)


def _remove(root: Path, file: Path, note: dict[str, str]) -> bool:
    temp, path = Path(note["temp"]), Path(note["path"])
    removed = False
    if _ours(temp, note["token"]) and path.parent == temp:
        shutil.rmtree(temp, ignore_errors=True)
        removed = True
    if not os.path.lexists(temp) or removed:
        _forget(root, path)
    file.unlink(missing_ok=True)
    return removed


def temporary_worktree_remove(root: Path, path: Path) -> None:
    """Remove a worktree made by `temporary_worktree_add` and forget it."""
    for file, note in _read_notes(root):
        if note["path"] == str(path):
            _remove(root, file, note)


def temporary_worktree_keep(root: Path, path: Path) -> None:
    """Hand a temporary worktree over to the user: unlocked, and no cleanup may take it."""
    _git(root, "worktree", "unlock", str(path), check=False)
    for file, note in _read_notes(root):
        if note["path"] == str(path):
            if _ours(Path(note["temp"]), note["token"]):
                (Path(note["temp"]) / TOKEN_FILE).unlink()
            file.unlink(missing_ok=True)


def remove_orphaned_temporary(root: Path, gone: Callable[[str], bool]) -> list[Path]:
    """Remove the temporary worktrees whose owner is `gone`: the roots removed."""
    removed = []
    for file, note in _read_notes(root):
        if gone(note["owner"]):
            if _remove(root, file, note):
                removed.append(Path(note["path"]))
    return removed


def apply_patch(root: Path, patch: bytes) -> None:
    """Apply a recorded code patch (tracked changes and new files) to a worktree."""
    _git(root, "apply", "--binary", "--whitespace=nowarn", "-", input=patch)


def worktree_add_branch(root: Path, path: Path, branch: str, owner: str | None = None) -> None:
    """A worktree at `path` whose HEAD is the user's own branch (checked out twice, on
    purpose), so that runs there commit to that branch through the shared refs.

    It is made detached first and pointed at the branch afterwards: checking the branch
    out directly would make git reset the branch ref itself, racing the runs of other
    worktrees that are committing to it. Hooks are off.
    """
    tip = rev_parse(root, f"refs/heads/{branch}")
    if tip is None:
        raise GitError(f"branch {branch} has no commit yet: commit your code first")
    worktree_add(root, path, tip, owner)
    _git(path, "symbolic-ref", "HEAD", f"refs/heads/{branch}")


def write_worktree_file(root: Path, path: str, sha: str | None) -> None:
    """Make one ledger path in the working tree match a blob (None removes it)."""
    target = root / path
    if sha is None:
        target.unlink(missing_ok=True)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    data = _git(root, "cat-file", "blob", sha)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.ledger-tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)
