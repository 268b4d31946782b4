"""Running git: the hardened subprocess call, repository state, configuration."""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from ledger.errors import LedgerError

# Settings that keep git from running anything of the repository's: no fsmonitor daemon or
# hook, no hooks at all (a branch or a fork can bring `core.hooksPath` targets, and the
# user's own hooks are not ledger's to fire), no untracked cache. Content filters, diff and
# merge drivers are named by `.gitattributes` (which a branch brings) and defined in config:
# `driver_overrides` blanks every one that is defined, so none ever runs.
_SAFE = (
    "-c", "core.fsmonitor=false",
    "-c", "core.untrackedCache=false",
    "-c", "core.hooksPath=/dev/null",
    "-c", "diff.external=",
    "-c", "protocol.ext.allow=never",
)  # fmt: skip


_GIT_ENV_DROP = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_EXTERNAL_DIFF", "GIT_ATTR_SOURCE")

# `filter.<name>.clean|smudge|process` (and `required`), `diff.<name>.command|textconv`,
# `merge.<name>.driver`: the configured commands a `.gitattributes` line can select.
_DRIVER_KEY = re.compile(r"^(filter|diff|merge)\.(.+)\.(clean|smudge|process|required|command|textconv|driver)$")


class GitError(LedgerError):
    """A git command failed unexpectedly."""


def _env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _GIT_ENV_DROP}
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["LC_ALL"] = "C"
    if extra:
        env.update(extra)
    return env


def _config_stamp(root: Path) -> tuple[object, ...]:
    """What the configuration of `root` depends on, cheaply (stat of the config files and
    the config-carrying environment): the driver overrides are recomputed when it changes."""
    home = Path(os.environ.get("HOME", "~")).expanduser()
    xdg = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    candidates = [home / ".gitconfig", xdg / "git" / "config", Path("/etc/gitconfig"), root / ".git" / "config"]
    dotgit = root / ".git"
    if dotgit.is_file():  # a linked worktree: `gitdir: <common>/worktrees/<id>`
        try:
            admin = Path(dotgit.read_text(encoding="utf-8").partition("gitdir:")[2].strip())
            candidates += [admin / "config.worktree", (root / admin).parent.parent / "config"]
        except OSError:
            pass
    stamp: list[object] = [str(root)]
    for path in candidates:
        try:
            info = path.stat()
            stamp.append((info.st_mtime_ns, info.st_size, info.st_ino))
        except OSError:
            stamp.append(None)
    stamp += [os.environ.get(k) for k in ("GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT", "GIT_CONFIG_GLOBAL",
                                          "GIT_CONFIG_SYSTEM", "GIT_CONFIG_NOSYSTEM")]  # fmt: skip
    return tuple(stamp)


@functools.lru_cache(maxsize=64)
def _overrides_for(stamp: tuple[object, ...]) -> tuple[str, ...]:
    root = Path(str(stamp[0]))
    proc = subprocess.run(
        ["git", *_SAFE, "config", "-z", "--get-regexp", r"^(filter|diff|merge)\..*\."],
        cwd=root if root.is_dir() else None, capture_output=True, env=_env(),
    )  # fmt: skip
    found: set[tuple[str, str, str]] = set()
    for item in proc.stdout.split(b"\0"):
        key = item.partition(b"\n")[0].decode("utf-8", "replace")
        match = _DRIVER_KEY.match(key)
        if match:
            found.add((match[1], match[2], match[3]))
    settings: list[str] = []
    for kind, name, _ in sorted(found):
        if kind == "filter":
            settings += [f"filter.{name}.{var}=" for var in ("clean", "smudge", "process")]
            settings.append(f"filter.{name}.required=false")
        elif kind == "diff":
            # Blank: at worst a diff that would have run it fails; ledger's own diffs are
            # plumbing or pass --no-ext-diff --no-textconv, and never need either.
            settings += [f"diff.{name}.command=", f"diff.{name}.textconv="]
        else:
            settings.append(f"merge.{name}.driver=")
    return tuple(arg for setting in dict.fromkeys(settings) for arg in ("-c", setting))


def driver_overrides(root: Path) -> tuple[str, ...]:
    """`-c` settings that blank every filter, diff and merge driver the configuration of
    `root` defines, so that nothing a `.gitattributes` names ever runs."""
    return _overrides_for(_config_stamp(root))


def command(root: Path, *args: str) -> list[str]:
    """The argv that runs `git ARGS` in `root` with nothing of the repository's running."""
    return ["git", *_SAFE, *driver_overrides(root), *args]


def hooks_dir(root: Path) -> Path:
    """Where git runs this repository's hooks from (`core.hooksPath` honoured). Asked
    without ledger's own `core.hooksPath=/dev/null`, which only keeps hooks from firing
    under ledger's git calls; `rev-parse` runs nothing."""
    safe = [arg for pair in zip(_SAFE[::2], _SAFE[1::2]) if pair[1] != "core.hooksPath=/dev/null" for arg in pair]
    proc = subprocess.run(
        ["git", *safe, "rev-parse", "--git-path", "hooks"], cwd=root, capture_output=True, env=_env(), check=False
    )
    if proc.returncode != 0:
        raise GitError(f"git could not say where hooks live: {proc.stderr.decode('utf-8', 'replace').strip()}")
    where = Path(proc.stdout.decode("utf-8").strip())
    return where if where.is_absolute() else root / where


def _git(
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
        command(root, *args),
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


def _git_ok(root: Path, *args: str) -> bool:
    return (
        subprocess.run(
            command(root, *args),
            cwd=root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=_env(),
        ).returncode
        == 0
    )


def _text(root: Path, *args: str, check: bool = True, env: Mapping[str, str] | None = None) -> str:
    return _git(root, *args, check=check, env=env).decode("utf-8", "replace").strip()


def git_dir(root: Path) -> Path:
    return Path(_text(root, "rev-parse", "--absolute-git-dir"))


@functools.lru_cache(maxsize=16)
def common_dir(root: Path) -> Path:
    """The git directory all worktrees of `root`'s repository share (where ledger keeps
    its cache and its notes: nothing in it comes from a branch). Asked once per process."""
    return (root / _text(root, "rev-parse", "--git-common-dir")).resolve()


def rev_parse(root: Path, rev: str) -> str | None:
    out = _git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
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


def _head_ref(root: Path) -> str | None:
    """The branch HEAD names, or None when it is detached. `symbolic-ref -q` exits 1 for a
    detached HEAD and 128 when git could not answer at all (a transient failure under load
    must not read as "detached", which made concurrent writers give up): those are retried,
    then raised."""
    for attempt in range(5):
        proc = subprocess.run(command(root, "symbolic-ref", "-q", "HEAD"), cwd=root,
                              capture_output=True, env=_env())  # fmt: skip
        if proc.returncode == 0:
            return proc.stdout.decode().strip() or None
        if proc.returncode == 1:
            return None
        time.sleep(0.05 * (attempt + 1))
    detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
    raise GitError(f"git symbolic-ref failed: {detail[-1] if detail else proc.returncode}")


def head_state(root: Path) -> HeadState:
    ref = _head_ref(root)
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
    value = _git(root, "config", "--get", key, check=False).decode("utf-8", "replace").strip()
    return value or None


def user_identity(root: Path) -> tuple[str | None, str | None]:
    return config_get(root, "user.name"), config_get(root, "user.email")


@contextlib.contextmanager
def private_index(copy_of: Path | None = None) -> Iterator[dict[str, str]]:
    """A throwaway index file, as the environment that points git at it, so plumbing can
    build trees without touching the user's index. With `copy_of`, it starts as a copy of
    that index (mtime kept: git's racy-clean check compares entry times with it)."""
    fd, index = tempfile.mkstemp(prefix="ledger-index-")
    os.close(fd)
    try:
        if copy_of is not None and copy_of.exists():
            shutil.copy2(copy_of, index)
        else:
            os.unlink(index)  # git creates it, empty
        yield {"GIT_INDEX_FILE": index}
    finally:
        for leftover in (index, index + ".lock"):
            try:
                os.unlink(leftover)
            except FileNotFoundError:
                pass


def init_repository(path: Path) -> None:
    """`git init` in `path` (for `ledger init --git`)."""
    _git(path, "init", "-q")
