"""Tags and remotes: annotated tags (the model registry), fetch and fast-forward push."""

from __future__ import annotations

import random
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from ledger.gitstore.core import GitError, _env, _git, _git_ok, command, config_get, rev_parse


@dataclass(frozen=True)
class TagInfo:
    name: str
    target: str  # the commit the tag points to
    annotated: bool
    tagger: str | None
    date: str | None  # ISO-8601 (strict) of the tagger date
    message: str


def create_annotated_tag(root: Path, name: str, target: str, message: str) -> None:
    """Create an annotated tag (never moving an existing one); touches no index or worktree."""
    if _git_ok(root, "rev-parse", "--verify", "--quiet", f"refs/tags/{name}"):
        raise GitError(f"tag {name} already exists: pick another version or delete the tag")
    _git(root, "tag", "-a", "-F", "-", name, target, input=message.encode("utf-8"))


def list_tags(root: Path, pattern: str = "*") -> list[TagInfo]:
    """Tags matching a `git for-each-ref` pattern, sorted by name."""
    fmt = "%(refname:strip=2)%00%(objecttype)%00%(*objectname)%00%(objectname)%00" \
          "%(taggername) %(taggeremail)%00%(taggerdate:iso-strict)%00%(contents)%00%01"  # fmt: skip
    out = _git(root, "for-each-ref", f"--format={fmt}", f"refs/tags/{pattern}", check=False)
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


def fetch_branch(root: Path, remote: str, branch: str) -> str | None:
    """Fetch `branch` from `remote`; its tip, or None when the remote has no such branch."""
    if not _git_ok(root, "ls-remote", "--exit-code", "--heads", remote, f"refs/heads/{branch}"):
        return None
    tracking = f"refs/remotes/{remote}/{branch}"
    if config_get(root, f"remote.{remote}.url"):
        _fetch(root, remote, f"+refs/heads/{branch}:{tracking}")
        return rev_parse(root, tracking)
    _fetch(root, remote, f"refs/heads/{branch}")
    return rev_parse(root, "FETCH_HEAD")


_LOST_RACE = ("cannot lock ref", "unable to update local ref", "but expected")


def _fetch(root: Path, remote: str, refspec: str, attempts: int = 8) -> None:
    """`git fetch`, again when another fetch in this clone (a second `ledger push`) updated
    the remote-tracking ref at the same moment: git refuses the loser rather than rewind."""
    for attempt in range(1, attempts + 1):
        try:
            _git(root, "fetch", "--quiet", "--no-tags", remote, refspec)
            return
        except GitError as exc:
            if attempt == attempts or not any(word in str(exc) for word in _LOST_RACE):
                raise
        time.sleep(random.uniform(0.01, 0.05 * attempt))


def push_branch(root: Path, remote: str, commit: str, branch: str) -> tuple[bool, str]:
    """Push `commit` to `remote`'s `branch`, fast-forward only (never forced).
    (True, "") on success; (False, git's reason) when the remote refused it."""
    proc = subprocess.run(
        command(root, "push", "--porcelain", "--quiet", remote, f"{commit}:refs/heads/{branch}"),
        cwd=root, capture_output=True, env=_env(),
    )  # fmt: skip
    if proc.returncode == 0:
        return True, ""
    lines = (proc.stdout + proc.stderr).decode("utf-8", "replace").strip().splitlines()
    # With --porcelain, the refused ref's line starts with "!"; else git's own error.
    reasons = [x for x in lines if x.startswith(("!", "error:", "fatal:"))] or lines
    return False, " ".join(reasons).replace("\t", " ") if reasons else f"exit code {proc.returncode}"


def remote_url(root: Path, remote: str) -> str | None:
    """The URL of a named remote; a local path made absolute, so another process can use it."""
    url = config_get(root, f"remote.{remote}.url")
    if url is None:
        return None
    if "://" not in url and not url.startswith("/") and ":" not in url.split("/")[0]:
        return str((root / url).resolve())  # a path relative to the repository
    return url


def clone_at(url: str, path: Path, branch: str, commit: str) -> None:
    """A fresh clone of `url` with `branch` checked out at `commit` (tracking the remote's
    branch, so `ledger push` knows where to push)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _git(path.parent, "clone", "--quiet", "--no-tags", "--branch", branch, url, str(path))
    _git(path, "checkout", "--quiet", "-B", branch, commit)
    _git(path, "branch", "--quiet", f"--set-upstream-to=origin/{branch}", branch)
