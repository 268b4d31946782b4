"""The one place DVC is touched, imported lazily (it costs about a second to load).

What ledger asks of DVC:
- the md5 of workspace paths as DVC computes it, through DVC's state cache, so large data is
  not re-hashed every run (`workspace_hashes`);
- storing a large artifact in DVC's cache, with a small `.dvc` file in the run's sidecar so
  that `dvc push` / `dvc pull` move it like any DVC-tracked file (`store_large_artifact`);
- bringing one object back by its md5, from the cache or the default remote (`fetch_object`);
- restoring recorded data in a reproduction worktree (`configure_worktree`, `restore`).

No DVC object leaves this module: callers get paths, hashes and LedgerErrors.
"""

from __future__ import annotations

import logging
import os
import shutil
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ledger.core import yamlio
from ledger.core.workspace import Workspace
from ledger.errors import LedgerError, LedgerWarning


class DataError(LedgerError):
    """Recorded data cannot be restored or found (missing object, changed content)."""


def init(root: Path) -> None:
    """`dvc init` in a git repository (for `ledger init --dvc`)."""
    from dvc.exceptions import DvcException
    from dvc.repo import Repo

    try:
        with _quiet():
            Repo.init(str(root))
    except DvcException as exc:
        raise LedgerError(f"dvc init failed: {exc}: fix that, or run `dvc init` yourself") from None


def is_dvc_repo(root: Path) -> bool:
    """Whether `dvc init` was run here (no import needed to know)."""
    return (root / ".dvc").is_dir()


@contextmanager
def _quiet() -> Iterator[None]:
    """DVC logs and draws progress bars; ledger reports through its own errors instead."""
    loggers = [logging.getLogger(name) for name in ("dvc", "dvc_data", "dvc_objects")]
    saved = [(logger.level, logger.propagate) for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
        logger.propagate = False
    try:
        yield
    finally:
        for logger, (level, propagate) in zip(loggers, saved):
            logger.setLevel(level)
            logger.propagate = propagate


@contextmanager
def _repo(root: Path) -> Iterator[Any]:
    from dvc.exceptions import DvcException
    from dvc.repo import Repo

    with _quiet():
        try:
            repo = Repo(str(root))
        except DvcException as exc:
            raise DataError(f"DVC cannot open {root.name}: {exc}: check `dvc doctor`") from None
        try:
            yield repo
        finally:
            repo.close()


def _hash(repo: Any, path: str) -> str | None:
    from dvc_data.hashfile.build import build

    target = os.path.join(repo.root_dir, path)
    if not os.path.lexists(target):
        return None
    # dry_run: hash only (through the state cache), never copy the data into the cache.
    _, _, obj = build(repo.cache.local, target, repo.fs, "md5", dry_run=True,
                      ignore=repo.dvcignore)  # fmt: skip
    return str(obj.hash_info.value)


def workspace_hashes(root: Path, paths: list[str]) -> dict[str, str | None]:
    """DVC's md5 of each repository-relative path as it is now (None when it is missing).

    DVC's state cache remembers the hash of unchanged files (by inode, mtime and size), so
    asking again for large, unchanged data costs a stat, not a re-read.
    """
    with _repo(root) as repo:
        return {path: _hash(repo, path) for path in sorted(set(paths))}


# ---------------------------------------------------------------------------- artifacts


def _dvc_file_text(name: str, md5: str, size: int) -> str:
    return yamlio.dumps({"outs": [{"md5": md5, "size": size, "hash": "md5", "path": name}]})


def store_large_artifact(
    ws: Workspace, source: Path, *, sidecar: str, name: str, kind: str, md5: str, size: int
) -> dict[str, Any]:
    """A large artifact goes into DVC's cache; its `.dvc` file goes into the run's sidecar.

    The `.dvc` file (committed with the record) is what makes `dvc push` upload the object
    and `dvc pull` bring it back (to `<sidecar>/dvc/<name>`). The bytes are not copied
    into the sidecar, so nothing large ever reaches git. Without `dvc init` the artifact is
    recorded by hash where it lies (a git-only workflow still works).
    """
    if not is_dvc_repo(ws.root):
        warnings.warn(
            f"artifact {name} ({size} bytes) is too large for git and this is not a DVC "
            "repository: recorded by hash only (run `dvc init` to store large artifacts)",
            LedgerWarning,
            stacklevel=3,
        )
        return {"name": name, "path": ws.relative(source), "hash": md5, "size": size,
                "kind": kind, "store": "workspace"}  # fmt: skip
    from dvc.exceptions import DvcException

    with _repo(ws.root) as repo:
        odb = repo.cache.local
        try:
            if not odb.exists(md5):
                odb.add(str(source), repo.fs, md5)
        except (DvcException, OSError) as exc:
            raise DataError(f"could not add artifact {name} to DVC's cache: {exc}") from None
    # Apart from git-stored artifacts, so one .gitignore rule can cover pulled copies.
    relpath = f"{sidecar}/dvc/{name}"
    dvc_file = ws.path(f"{relpath}.dvc")
    dvc_file.parent.mkdir(parents=True, exist_ok=True)
    yamlio.write_atomic(dvc_file, _dvc_file_text(name, md5, size).encode("utf-8"))
    return {"name": name, "path": relpath, "hash": md5, "size": size, "kind": kind,
            "store": "dvc"}  # fmt: skip


def fetch_object(root: Path, md5: str, dest: Path) -> str:
    """Copy the object with this md5 to `dest`, from DVC's cache or else its default remote.

    Returns where it came from: "cache" or "remote".
    """
    if not is_dvc_repo(root):
        raise DataError("this is not a DVC repository: run `dvc init` and `dvc pull` first")
    from dvc.exceptions import DvcException
    from dvc_data.hashfile.hash_info import HashInfo

    with _repo(root) as repo:
        odb = repo.cache.local
        origin = "cache"
        if not odb.exists(md5):
            origin = "remote"
            try:
                repo.cloud.pull([HashInfo("md5", md5)])
            except DvcException as exc:
                raise DataError(
                    f"object {md5} is not in DVC's cache and cannot be fetched: {_first_line(exc)}"
                ) from None
            if not odb.exists(md5):
                raise DataError(
                    f"object {md5} is neither in DVC's cache nor on the remote: "
                    "run `dvc push` on the machine that made it"
                )
        shutil.copyfile(odb.oid_to_path(md5), dest)
    return origin


# ---------------------------------------------------------------------------- reproduction


def configure_worktree(user_root: Path, worktree: Path) -> None:
    """Point a reproduction worktree's DVC at the user's cache and current remotes.

    Written to the worktree's `.dvc/config.local` (never committed, gone with the worktree),
    so data found in the user's cache is not downloaded again and the remote the user has
    configured today is used even if the recorded commit named another.
    """
    from dvc.config import Config

    with _quiet():
        user = Config(dvc_dir=str(user_root / ".dvc"), validate=False).read()  # all levels
        cache_dir = _user_cache_dir(user_root)
        config = Config(dvc_dir=str(worktree / ".dvc"), validate=False)
        with config.edit("local", validate=False) as local:
            # Plain strings: DVC keeps absolute paths as they are (its own path types would
            # be rewritten relative to the worktree).
            local.setdefault("cache", {})["dir"] = str(cache_dir)
            if (user.get("core") or {}).get("remote"):
                local.setdefault("core", {})["remote"] = str(user["core"]["remote"])
            for name, settings in (user.get("remote") or {}).items():
                local.setdefault("remote", {})[name] = {
                    key: str(value) if isinstance(value, str) else value for key, value in settings.items()
                }


def _user_cache_dir(user_root: Path) -> str:
    with _repo(user_root) as repo:
        return str(repo.cache.local_cache_dir)


def restore(worktree: Path, entries: Mapping[str, str]) -> list[str]:
    """Bring DVC-tracked data (path -> recorded md5) into the worktree, cache first, then
    the remote. Returns the paths DVC restored; raises DataError naming what is missing."""
    from dvc.exceptions import DvcException

    with _repo(worktree) as repo:
        outs = {
            Path(os.path.relpath(out.fs_path, repo.root_dir)).as_posix()
            for stage in repo.index.stages
            for out in stage.outs
        }
        targets = sorted(path for path in entries if path in outs)
        if not targets:
            return []
        # DVC reads relative targets from the process's cwd: give it absolute paths.
        absolute = [os.path.join(repo.root_dir, path) for path in targets]
        # Asked before fetching: DVC drops a downloaded copy whose bytes do not match its
        # md5 (and a local remote's bad copy with it), so afterwards it just looks absent.
        on_remote = _on_remote(repo, {p: entries[p] for p in targets
                                      if not repo.cache.local.exists(entries[p])})  # fmt: skip
        failure: DvcException | None = None
        try:
            repo.fetch(targets=absolute)
        except DvcException as exc:
            failure = exc
        missing = [path for path in targets if not repo.cache.local.exists(entries[path])]
        if missing:
            raise DataError(_missing_message({p: entries[p] for p in missing}, on_remote))
        if failure is not None:
            raise DataError(f"DVC could not fetch the data: {_first_line(failure)}")
        try:
            repo.checkout(targets=absolute, force=True)
        except DvcException as exc:
            raise DataError(f"DVC could not restore the data: {_first_line(exc)}") from None
    return targets


def _on_remote(repo: Any, objects: dict[str, str]) -> set[str]:
    """The paths whose object the default remote has (empty when it cannot be asked)."""
    if not objects:
        return set()
    try:
        remote = repo.cloud.get_remote_odb(None, "fetch")
        return {path for path, md5 in objects.items() if remote.exists(md5)}
    except Exception:  # noqa: BLE001 - no remote configured, unreachable, ...: "missing"
        return set()


def _missing_message(missing: dict[str, str], on_remote: set[str]) -> str:
    """Why objects did not arrive: absent from the remote, or there with other bytes."""
    changed = [f"{p} ({missing[p]})" for p in sorted(set(missing) & on_remote)]
    absent = [f"{p} ({missing[p]})" for p in sorted(set(missing) - on_remote)]
    if changed:
        return (
            f"restored data differs from the record: {', '.join(changed)}: the copy on the "
            "DVC remote does not match its recorded hash (changed or corrupted); push the "
            "original again from where the run was made"
        )
    return (
        f"data {', '.join(absent)} is neither in your DVC cache nor on the remote: "
        "run `dvc push` where the run was made"
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
