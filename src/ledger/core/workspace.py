"""Where the workspace is: the git top level, its settings and the safe paths inside it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from ledger.core import config as _config
from ledger.errors import LedgerError, NotAWorkspace


def find_root(start: Path | None = None) -> Path:
    """The nearest directory at or above `start` that holds `.git` (no git process needed)."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / ".git").exists():
            return candidate
    raise NotAWorkspace(
        f"not a git repository: {here.name or here}: run `git init` (or `ledger init --git`) or cd into your project"
    )


@dataclass(frozen=True)
class Workspace:
    root: Path

    @classmethod
    def find(cls, start: Path | None = None) -> Workspace:
        return cls(find_root(start))

    @cached_property
    def config(self) -> _config.Config:
        return _config.load(self.root)

    def path(self, relpath: str) -> Path:
        """An absolute path for a repository-relative one, refusing anything that escapes."""
        return self.root / safe_relpath(relpath, self.root)

    def relative(self, path: str | os.PathLike[str]) -> str:
        """A user-given path (absolute or relative to cwd) as a repo-relative POSIX path."""
        absolute = Path(os.path.abspath(path))
        try:
            rel = absolute.relative_to(self.root)
        except ValueError:
            raise LedgerError(
                f"{path} is outside the repository {self.root.name}: move it inside the project first"
            ) from None
        return safe_relpath(rel.as_posix(), self.root)

    def cwd_relative(self) -> str:
        try:
            rel = Path.cwd().resolve().relative_to(self.root)
        except ValueError:
            return "."
        return rel.as_posix() or "."


def safe_relpath(relpath: str, root: Path) -> str:
    """Validate a repository-relative path from a record or a user: no escape, no `.git`."""
    if not relpath or "\\" in relpath or "\0" in relpath:
        raise LedgerError(f"unsafe path {relpath!r}: use a relative path inside the repository")
    posix = Path(relpath)
    if posix.is_absolute() or relpath.startswith("~") or ".." in posix.parts:
        raise LedgerError(f"unsafe path {relpath!r}: paths must stay inside the repository")
    if posix.parts and posix.parts[0] == ".git":
        raise LedgerError(f"unsafe path {relpath!r}: ledger never writes into .git")
    # A symlink anywhere along the path could lead outside the repository.
    current = root
    for part in posix.parts:
        current = current / part
        if current.is_symlink():
            target = current.resolve()
            if root.resolve() not in (target, *target.parents):
                raise LedgerError(f"unsafe path {relpath!r}: a symlink leads outside the repository")
    return posix.as_posix()
