"""History questions asked by name: a revision's commit, branch tips, what changed between
two commits under a folder, what was deleted, the upstream and its unpushed trailers."""

from __future__ import annotations

from pathlib import Path

from ledger.gitstore.core import _text


def commit_time(root: Path, rev: str) -> tuple[str, int] | None:
    """(full commit id, committer time) of the commit `rev` names; None when it names none.
    `rev` must not start with `-` (callers check: it is never taken as an option)."""
    out = _text(root, "log", "-1", "--format=%H %ct", f"{rev}^{{commit}}", "--", check=False)
    parts = out.split()
    if len(parts) != 2 or len(parts[0]) < 40 or not parts[1].isdigit():
        return None
    return parts[0], int(parts[1])


def branch_tips(root: Path) -> list[tuple[str, int, str]]:
    """(commit id, committer time, short ref name) of every local and remote-tracking branch
    tip that is a commit, in ref order (a commit at several tips appears once per tip)."""
    out = _text(
        root, "for-each-ref", "--format=%(objectname) %(objecttype) %(committerdate:unix) %(refname:short)",
        "refs/heads", "refs/remotes",
    )  # fmt: skip
    tips = []
    for line in out.splitlines():
        parts = line.split(" ", 3)
        if len(parts) == 4 and parts[1] == "commit":
            tips.append((parts[0], int(parts[2] or 0), parts[3]))
    return tips


def changed_files(root: Path, old: str, new: str, prefix: str) -> list[tuple[str, str, str, str]]:
    """(status letter A/M/D/T..., path, blob id at `old`, blob id at `new`) for each file under
    `prefix` that differs between two commits (no rename detection: a rename is a D and an
    A). The blob id of a side without the file is all zeros."""
    out = _text(root, "diff", "--raw", "--no-renames", "--no-abbrev", old, new, "--", prefix)
    found = []
    for line in out.splitlines():
        meta, _, path = line.partition("\t")
        fields = meta.split()
        if len(fields) == 5:
            found.append((fields[4], path, fields[2], fields[3]))
    return found


def deleted_files(root: Path, commits: list[str], prefix: str) -> list[tuple[str, int, str, str]]:
    """(commit id, committer time, path, blob id before) for each file under `prefix` deleted
    by a commit in the history of `commits`, newest commit first."""
    out = _text(
        root, "log", "--format=%x01%H %ct", "--raw", "--no-renames", "--no-abbrev",
        "--diff-filter=D", *commits, "--", prefix,
    )  # fmt: skip
    found: list[tuple[str, int, str, str]] = []
    commit: tuple[str, int] | None = None
    for line in out.splitlines():
        if line.startswith("\x01"):
            sha, _, when = line[1:].partition(" ")
            commit = (sha, int(when or 0))
        elif line.startswith(":") and commit is not None:
            meta, _, path = line.partition("\t")
            fields = meta.split()
            if len(fields) == 5 and fields[4] == "D":
                found.append((commit[0], commit[1], path, fields[2]))
    return found


def upstream(root: Path) -> str | None:
    """The current branch's upstream (`origin/main`), or None when it has none."""
    name = _text(root, "rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{u}", check=False)
    return None if not name or name.startswith("fatal") else name


def trailer_values(root: Path, revision_range: str, key: str, prefix: str) -> list[str]:
    """The values of trailer `key` (e.g. `Ledger-Run`) in the commits of `revision_range`
    that touch `prefix`, in log order, repeats kept."""
    out = _text(
        root, "log", f"--format=%(trailers:key={key},valueonly,separator=%x2C)", revision_range, "--", prefix,
        check=False,
    )  # fmt: skip
    return [value.strip() for line in out.splitlines() for value in line.split(",") if value.strip()]


def author_ident(root: Path) -> str:
    """git's effective author, `Name <email> time zone` (config or GIT_AUTHOR_* variables);
    empty when git has none."""
    return _text(root, "var", "GIT_AUTHOR_IDENT", check=False)


def tree_id(root: Path, rev: str, path: str) -> str | None:
    """The id of the tree at `path` in commit `rev` (`experiments/` of a revision), or None
    when the commit has no such folder."""
    found = _text(root, "rev-parse", "--verify", "-q", f"{rev}:{path}", check=False)
    return found if len(found) in (40, 64) else None


def tree_changes(root: Path, old_tree: str, new_tree: str) -> list[tuple[str, str, str]]:
    """(status letter, path relative to the trees, blob id in `new_tree`) for each file that
    differs between two trees (no rename detection); a line git writes in another shape is
    given as ("?", line, "")."""
    out = _text(root, "diff-tree", "-r", "--raw", "--no-renames", "--no-abbrev", old_tree, new_tree, check=False)
    found = []
    for line in out.splitlines():
        meta, _, rel = line.partition("\t")
        fields = meta.split()
        found.append((fields[4], rel, fields[3]) if len(fields) == 5 else ("?", line, ""))
    return found
