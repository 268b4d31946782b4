"""Storing artifacts: small files beside the record in git, large ones in DVC's cache.

ledger only ever hashes and copies artifact bytes; it never loads or unpickles them.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

from ledger.errors import LedgerError
from ledger.workspace import Workspace

GIT_MAX_BYTES = 1024 * 1024  # larger artifacts go to DVC's cache (or stay in the workspace)


def md5_file(path: Path) -> tuple[str, int]:
    digest = hashlib.md5(usedforsecurity=False)
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def store_artifact(
    ws: Workspace, sidecar: str, path: str | Path, *, kind: str, name: str | None
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
    if size <= GIT_MAX_BYTES:
        target = ws.path(f"{sidecar}/artifacts/{name}")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        return {"name": name, "path": ws.relative(target), "hash": md5, "size": size,
                "kind": kind, "store": "git"}  # fmt: skip
    from ledger import dvcdata  # only large artifacts pay for DVC

    return dvcdata.store_large_artifact(ws, source, name=name, kind=kind, md5=md5, size=size)
