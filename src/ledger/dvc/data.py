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
                    "run `ledger push` (or `dvc push`) on the machine that made it"
                )
        shutil.copyfile(odb.oid_to_path(md5), dest)
    return origin


def push_objects(root: Path, objects: Mapping[str, str]) -> tuple[int, list[str], str | None]:
    """Push these objects (md5 -> the path they are, for messages) from DVC's cache to the
    default remote. Returns (how many were sent, "path (md5)" of those not in the local
    cache, a note when there is no default remote to push to)."""
    from dvc.config import NoRemoteError
    from dvc.exceptions import DvcException
    from dvc_data.hashfile.hash_info import HashInfo

    with _repo(root) as repo:
        try:
            repo.cloud.get_remote_odb(None, "push")
        except NoRemoteError:
            return (
                0,
                [],
                (
                    "DVC has no default remote, so the runs' DVC outputs stay in your DVC cache: "
                    "add one (`dvc remote add -d NAME URL`) and run `ledger push` again"
                ),
            )
        except DvcException as exc:
            raise DataError(f"cannot push the runs' DVC outputs: {_first_line(exc)}: fix the DVC remote, "
                            "or push the records alone with `ledger push --no-dvc`") from None  # fmt: skip
        odb = repo.cache.local
        present = sorted(md5 for md5 in objects if _complete(odb, md5))
        missing = [f"{objects[md5]} ({md5})" for md5 in sorted(objects) if md5 not in present]
        if not present:
            return 0, missing, None
        try:
            result = repo.cloud.push([HashInfo("md5", md5) for md5 in present])
        except DvcException as exc:
            raise DataError(f"cannot push the runs' DVC outputs: {_first_line(exc)}: fix the DVC remote, "
                            "or push the records alone with `ledger push --no-dvc`") from None  # fmt: skip
        if result.failed:
            failed = sorted(str(h.value) for h in result.failed)
            raise DataError(f"DVC could not push {len(failed)} object(s) ({', '.join(failed[:3])}): "
                            "check the DVC remote, or push the records alone with `ledger push --no-dvc`")  # fmt: skip
        return len(result.transferred), missing, None


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
    return cache_dir(user_root)


def cache_dir(root: Path) -> str:
    """Where this repository's DVC cache is (absolute)."""
    with _repo(root) as repo:
        return str(repo.cache.local_cache_dir)


def checkout(root: Path, dvc_files: list[str]) -> str | None:
    """`dvc checkout` of these `.dvc` files from the cache; None, or what went wrong."""
    from dvc.exceptions import DvcException

    with _repo(root) as repo:
        try:
            repo.checkout(targets=[os.path.join(repo.root_dir, f) for f in dvc_files], force=True)
        except DvcException as exc:
            return _first_line(exc)
    return None


def _complete(odb: Any, md5: str) -> bool:
    """Whether the cache holds the object, and for a folder every file in it."""
    from dvc_data.hashfile.hash_info import HashInfo
    from dvc_data.hashfile.tree import Tree

    if not odb.exists(md5):
        return False
    if not md5.endswith(".dir"):
        return True
    try:
        tree = Tree.load(odb, HashInfo("md5", md5))
    except Exception:  # noqa: BLE001 - an unreadable folder listing is an incomplete object
        return False
    return all(odb.exists(oid.value) for _, _, oid in tree)


def restore(worktree: Path, entries: Mapping[str, str], tracked: frozenset[str] = frozenset()) -> list[str]:
    """Put each path at its recorded md5 (path -> md5), by that hash: paths already there
    with it (code from git) are left alone, the rest come from DVC's cache, else from the
    default remote, whatever the worktree's own `.dvc`/`dvc.lock` files say. `tracked` names
    the paths DVC tracks (their objects are pushed with `dvc push`), for the advice of an
    error. Returns the paths restored; raises DataError naming what is missing."""
    from dvc.exceptions import DvcException
    from dvc_data.hashfile import load
    from dvc_data.hashfile.checkout import checkout
    from dvc_data.hashfile.hash_info import HashInfo

    with _repo(worktree) as repo:
        todo = {path: md5 for path, md5 in entries.items() if _hash(repo, path) != md5}
        if not todo:
            return []
        odb = repo.cache.local
        absent = {path: md5 for path, md5 in todo.items() if not _complete(odb, md5)}
        # Asked before fetching: DVC drops a downloaded copy whose bytes do not match its
        # md5 (and a local remote's bad copy with it), so afterwards it just looks absent.
        on_remote = _on_remote(repo, absent)
        failure: DvcException | None = None
        if absent:
            try:
                repo.cloud.pull([HashInfo("md5", md5) for md5 in sorted(set(absent.values()))])
            except DvcException as exc:
                failure = exc
        missing = {path: md5 for path, md5 in todo.items() if not _complete(odb, md5)}
        if missing:
            raise DataError(_missing_message(missing, on_remote, tracked))
        if failure is not None:
            raise DataError(f"DVC could not fetch the data: {_first_line(failure)}")
        for path, md5 in sorted(todo.items()):
            target = os.path.join(repo.root_dir, path)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            try:
                checkout(target, repo.fs, load(odb, HashInfo("md5", md5)), odb, force=True, quiet=True)
            except (DvcException, OSError) as exc:
                raise DataError(f"DVC could not restore {path}: {_first_line(exc)}") from None
    return sorted(todo)


def _on_remote(repo: Any, objects: dict[str, str]) -> set[str]:
    """The paths whose object the default remote has (empty when it cannot be asked)."""
    if not objects:
        return set()
    try:
        remote = repo.cloud.get_remote_odb(None, "fetch")
        return {path for path, md5 in objects.items() if remote.exists(md5)}
    except Exception:  # noqa: BLE001 - no remote configured, unreachable, ...: "missing"
        return set()


def _missing_message(missing: dict[str, str], on_remote: set[str], tracked: frozenset[str]) -> str:
    """Why objects did not arrive: there with other bytes, absent from the remote, or never
    given to DVC at all (a file neither committed nor tracked)."""
    changed = [f"{p} ({missing[p]})" for p in sorted(set(missing) & on_remote)]
    if changed:
        return (
            f"restored data differs from the record: {', '.join(changed)}: the copy on the "
            "DVC remote does not match its recorded hash (changed or corrupted); push the "
            "original again from where the run was made (`ledger push`, or `dvc push`)"
        )
    untracked = [f"{p} ({missing[p]})" for p in sorted(missing) if p not in tracked and not missing[p].endswith(".dir")]
    absent = [f"{p} ({missing[p]})" for p in sorted(missing) if f"{p} ({missing[p]})" not in untracked]
    if absent:
        return (
            f"data {', '.join(absent)} is neither in your DVC cache nor on the remote: "
            "run `ledger push` (or `dvc push`) where the run was made"
        )
    return (
        f"{', '.join(untracked)}: the run read this version, but it is neither in the run's "
        "commit (and patch) nor in DVC's cache or remote: commit it or track it with "
        "`dvc add`, then record the run again"
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
