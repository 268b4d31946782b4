"""The working tree as git sees it, for capturing a run's code: file lists, and a tree built
in a private index (`core.private_index`), never the user's own."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from ledger.gitstore.core import _git, _text


def ls_files(root: Path, pathspecs: Iterable[str], *, untracked: bool = False) -> list[str]:
    """Tracked files matching `pathspecs` (with `untracked`, also untracked files that are
    not ignored), as git lists them (repeats possible, order git's)."""
    which = ["--cached", "--others", "--exclude-standard"] if untracked else []
    out = _git(root, "ls-files", "-z", *which, "--", *pathspecs, check=False)
    return [p for p in out.decode("utf-8", "replace").split("\0") if p]


def untracked_files(root: Path, env: Mapping[str, str] | None = None) -> list[str]:
    """Untracked files that are not ignored."""
    out = _git(root, "ls-files", "-z", "--others", "--exclude-standard", env=env)
    return [p for p in out.decode("utf-8", "replace").split("\0") if p]


def modified_files(root: Path, env: Mapping[str, str]) -> list[str]:
    """Tracked files whose working-tree content differs from the index in `env`."""
    out = _git(root, "diff-files", "-z", "--name-only", env=env, check=False)
    return [p for p in out.decode("utf-8", "surrogateescape").split("\0") if p]


def stage_tracked(root: Path, env: Mapping[str, str], leave_out: Iterable[str] = ()) -> None:
    """Stage every change to tracked files (`git add -u`) but the paths in `leave_out`."""
    _git(root, "add", "-u", "--", ".", *[f":(exclude,literal){p}" for p in leave_out], env=env, check=False)


def stage_paths(root: Path, paths: list[str], env: Mapping[str, str]) -> None:
    """Stage these files as they are, ignored or not (`git add -f`)."""
    if paths:
        _git(root, "add", "-f", "--", *paths, env=env)


def stage_contents(root: Path, files: Mapping[str, tuple[bytes, bool]], env: Mapping[str, str]) -> None:
    """Stage `path -> (content, executable)` in place of the files' own content."""
    lines = []
    for path, (data, executable) in files.items():
        sha = _git(root, "hash-object", "-w", "--stdin", input=data).decode().strip()
        lines.append(f"{'100755' if executable else '100644'} {sha}\t{path}\n")
    if lines:
        _git(root, "update-index", "--add", "--index-info", input="".join(lines).encode(), env=env)


def write_tree(root: Path, env: Mapping[str, str]) -> str:
    """The tree id of the index in `env`."""
    return _text(root, "write-tree", env=env)


def staged_patch(root: Path, against: str | None, leave_out: Iterable[str], env: Mapping[str, str]) -> bytes:
    """The binary patch from commit `against` (None: an unborn branch, so everything is new)
    to the index in `env`, without the paths in `leave_out`."""
    base = [against] if against else []
    return _git(
        root, "diff", "--cached", "--binary", "--no-ext-diff", "--no-textconv", "--no-color",
        "--full-index", *base, "--", ".", *[f":(exclude){p}" for p in leave_out], env=env,
    )  # fmt: skip
