"""Storing artifacts: small files beside the record in git, large ones in DVC's cache.

Where an artifact is found again, by its record entry's `store`:
- `git`: `<sidecar>/artifacts/<name>`, committed with the record;
- `dvc`: DVC's cache (and, after `dvc push`, the DVC remote) under its md5; the run's
  sidecar holds `dvc/<name>.dvc`, so `dvc push`/`dvc pull` move it like any DVC file;
- `workspace`: nowhere but the working tree (no DVC repository): recorded by hash only.

ledger only ever hashes and copies artifact bytes; it never loads or unpickles them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from ledger.core.digest import md5_file
from ledger.core.redact import REDACTED, redactor
from ledger.core.workspace import Workspace
from ledger.errors import LedgerError

GIT_MAX_BYTES = 1024 * 1024  # larger artifacts go to DVC's cache (or stay in the workspace)


def store_artifact(
    ws: Workspace, sidecar: str, path: str | os.PathLike[str], *, kind: str, name: str | None
) -> dict[str, Any]:
    """Hash an artifact and put it where it belongs; returns the record's artifact entry."""
    source = Path(path)
    if not source.is_absolute():
        source = Path.cwd() / source
    if not source.is_file():
        raise LedgerError(f"artifact {path} is not a file: pass the path of a file to log")
    md5, size = md5_file(source)
    name = name or source.name
    if "/" in name or name in ("", ".", "..") or name.startswith("."):
        raise LedgerError(f"artifact name {name!r} must be a plain file name")
    # A secret in a file name would reach the record and git's trees: store it without.
    name = redactor(ws.config.secrets).text(name).replace(REDACTED, "redacted")
    if size <= GIT_MAX_BYTES:
        target = ws.path(f"{sidecar}/artifacts/{name}")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        return {"name": name, "path": ws.relative(target), "hash": md5, "size": size,
                "kind": kind, "store": "git"}  # fmt: skip
    from ledger.dvc import data as dvcdata

    return dvcdata.store_large_artifact(ws, source, sidecar=sidecar, name=name, kind=kind, md5=md5, size=size)


def fetch_artifact(
    ws: Workspace, ref: str, name: str, dest: Path, *, force: bool = False
) -> tuple[dict[str, Any], str]:
    """Bring back the artifact `name` of run `ref` to `dest` (inside the repository) and
    prove it by its md5. Returns (the artifact's record entry, where it came from)."""
    from ledger.read.locate import locate

    found = locate(ws, ref)
    entries = [a for a in found.item.record.get("artifacts") or [] if a.get("name") == name]
    if not entries:
        names = ", ".join(sorted(str(a.get("name")) for a in found.item.record.get("artifacts") or []))
        raise LedgerError(
            f"run {found.item.record['id']} has no artifact {name!r}"
            + (f": it has {names}" if names else ": it logged no artifacts")
        )
    entry = entries[-1]
    dest = ws.path(ws.relative(dest))  # never outside the repository, never into .git
    if dest.exists() and not force:
        raise LedgerError(f"{ws.relative(dest)} exists: pass --force to overwrite it or -o PATH")
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(f".{dest.name}.ledger-partial")
    try:
        origin = copy_entry(ws, found.item, entry, partial)
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)
    return entry, origin


def copy_entry(ws: Workspace, item: Any, entry: dict[str, Any], target: Path) -> str:
    """Write the bytes of one artifact entry to `target` (any path) and prove them by
    their md5; `item` is the record's read-path item (None: an open run's working tree).
    Returns where the bytes came from."""
    from ledger.read.locate import companion_file

    def read(ws: Workspace, item: Any, path: str) -> bytes | None:
        if item is None:
            source = ws.path(path)
            return source.read_bytes() if source.is_file() else None
        return companion_file(ws, item, path)

    origin = _fetch_to(ws, item, entry, target, read)
    got, _ = md5_file(target)
    if got != entry["hash"]:
        raise LedgerError(
            f"artifact {entry['name']} came back with md5 {got}, the record says {entry['hash']}: "
            "the stored copy was changed"
        )
    return origin


def _fetch_to(ws: Workspace, item: Any, entry: dict[str, Any], target: Path, read: Any) -> str:
    store = entry.get("store")
    if store == "git":
        data = read(ws, item, entry["path"])
        if data is None:
            raise LedgerError(f"artifact file {entry['path']} is missing from git: `git fetch` it")
        target.write_bytes(data)
        return "git"
    if store == "dvc":
        from ledger.dvc import data as dvcdata

        return "dvc " + dvcdata.fetch_object(ws.root, entry["hash"], target)
    source = ws.path(entry["path"])
    if not source.is_file():
        raise LedgerError(
            f"artifact {entry['name']} was recorded by hash only (no DVC) and "
            f"{entry['path']} is gone: it cannot be brought back"
        )
    shutil.copyfile(source, target)
    return "workspace"
