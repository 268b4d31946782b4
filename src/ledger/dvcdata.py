"""The one place DVC is touched (imported lazily, only by the paths that need it)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from ledger.capture import LedgerWarning
from ledger.workspace import Workspace


def store_large_artifact(
    ws: Workspace, source: Path, *, name: str, kind: str, md5: str, size: int
) -> dict[str, Any]:
    """A large artifact: recorded by hash where it lies in the workspace.

    Moving it into DVC's cache comes with the DVC integration; until then it is recorded
    with its hash so that a later run can prove whether it is the same file.
    """
    warnings.warn(
        f"artifact {name} ({size} bytes) is too large for git; recorded by hash only",
        LedgerWarning,
        stacklevel=3,
    )
    return {"name": name, "path": ws.relative(source), "hash": md5, "size": size,
            "kind": kind, "store": "workspace"}  # fmt: skip
