"""Writing autologged files (models, plot data) and handing them to `Run.log_artifact`.

Files are written to a staging folder inside the workspace (under `experiments/`, which
ledger owns and never counts as code), logged, and removed once the run holds its own copy.
A large model that stays where it was written (no DVC cache) is kept there, because the
record points at it. ledger writes these files; it never loads them.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ledger.core.record import RECORDS_DIR

STAGING = f"{RECORDS_DIR}/.autolog"
PLOT_DATA = "plot-data"
MAX_POINTS = 5000  # per curve/scatter: enough to draw, small enough for git


def log_file(run: Any, name: str, kind: str, write: Callable[[Path], object]) -> dict[str, Any]:
    """Write one file with `write(path)` and log it on `run` as artifact `name`."""
    folder = run.ws.path(f"{STAGING}/{run.id}")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    entry: dict[str, Any] | None = None
    try:
        write(path)
        entry = run.log_artifact(path, kind=kind, name=name)
        return entry
    finally:
        if entry is None or entry.get("path") != run.ws.relative(path):
            path.unlink(missing_ok=True)
            for empty in (folder, folder.parent):
                with contextlib.suppress(OSError):
                    empty.rmdir()


def log_json(run: Any, name: str, data: dict[str, Any]) -> dict[str, Any]:
    """A small JSON artifact of kind `plot-data` (non-finite numbers become null)."""
    text = json.dumps(finite(data), separators=(",", ":"), allow_nan=False) + "\n"
    return log_file(run, name, PLOT_DATA, lambda path: path.write_text(text, encoding="utf-8"))


def finite(value: Any) -> Any:
    """JSON-safe plain values: numpy scalars/arrays to lists, NaN/inf to None."""
    tolist = getattr(value, "tolist", None)
    if callable(tolist) and not isinstance(value, (str, bytes)):
        value = tolist()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return str(value)


def thin(values: list[Any], limit: int = MAX_POINTS) -> list[Any]:
    """At most `limit` evenly spaced items, always keeping the first and the last."""
    if len(values) <= limit:
        return list(values)
    step = (len(values) - 1) / (limit - 1)
    return [values[round(i * step)] for i in range(limit)]
