"""Pure functions over records: metric lookup, ranking, leaderboards."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any


def metric_value(rec: dict[str, Any], name: str) -> float | None:
    """A run's value for a metric (final value), None when missing or not a number."""
    value = (rec.get("metrics") or {}).get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def rank_key(metric: str, direction: str) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """Best first; NaN and missing last; ties by newest start, then id (deterministic)."""

    def key(rec: dict[str, Any]) -> tuple[Any, ...]:
        value = metric_value(rec, metric)
        missing = value is None or math.isnan(value)
        score = 0.0 if missing else (-value if direction == "max" else value)  # type: ignore[operator]
        started = rec.get("started_at") or ""
        return (missing, score, _desc(started), rec.get("id", ""))

    return key


def _desc(text: str) -> tuple[int, ...]:
    return tuple(-ord(c) for c in text)


def leaderboard(
    records: Iterable[dict[str, Any]], metric: str, direction: str, limit: int | None = None
) -> list[dict[str, Any]]:
    ranked = sorted(records, key=rank_key(metric, direction))
    return ranked[:limit] if limit is not None else ranked
