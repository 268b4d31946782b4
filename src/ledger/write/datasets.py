"""Dataset statistics for `log_dataset`, by duck typing (no pandas or numpy import)."""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from typing import Any


def _target_values(data: Any, target: Any) -> list[Any] | None:
    if target is None:
        return None
    if isinstance(target, str):
        try:
            column = data[target]
        except (KeyError, TypeError, IndexError):
            return None
    else:
        column = target
    tolist = getattr(column, "tolist", None)
    return list(tolist() if callable(tolist) else column)


def _missing(data: Any) -> int | None:
    isna = getattr(data, "isna", None)
    if callable(isna):
        return int(isna().sum().sum())
    try:
        import numpy  # noqa: PLC0415 - present whenever data is an ndarray

        if isinstance(data, numpy.ndarray) and data.dtype.kind == "f":
            return int(numpy.isnan(data).sum())
    except ImportError:
        pass
    return None


def _content_hash(data: Any) -> str | None:
    digest = hashlib.sha256()
    to_numpy = getattr(data, "to_numpy", None)
    array = to_numpy() if callable(to_numpy) else data
    tobytes = getattr(array, "tobytes", None)
    if callable(tobytes) and getattr(array, "dtype", None) is not None and array.dtype.kind != "O":
        digest.update(str(array.shape).encode())
        digest.update(tobytes())
    else:
        digest.update(repr(data).encode("utf-8", "replace"))
    return digest.hexdigest()[:32]


def dataset_stats(data: Any, target: Any = None, context: str | None = None) -> dict[str, Any]:
    """Rows, columns, missing values, class distribution of `target`, and a content hash."""
    shape = getattr(data, "shape", None)
    if shape is not None and len(shape) >= 1:
        rows, columns = int(shape[0]), int(shape[1]) if len(shape) > 1 else 1
    else:
        rows = len(data)
        first = data[0] if rows else None
        columns = len(first) if isinstance(first, (list, tuple)) else 1
    stats: dict[str, Any] = {
        "rows": rows,
        "columns": columns,
        "missing": _missing(data),
        "hash": _content_hash(data),
    }
    values = _target_values(data, target)
    if values is not None:
        counts = Counter(str(v) for v in values if not (isinstance(v, float) and math.isnan(v)))
        if len(counts) <= 100:
            stats["classes"] = dict(sorted(counts.items()))
        stats["target"] = target if isinstance(target, str) else None
    if context:
        stats["context"] = context
    return stats
