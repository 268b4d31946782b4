"""Pure functions over records: metric lookup, ranking, leaderboards, comparisons."""

from __future__ import annotations

import heapq
import json
import math
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from ledger.core.fields import flatten

T = TypeVar("T")


def metric_value(rec: dict[str, Any], name: str) -> float | None:
    """A run's value for a metric (final value), None when missing or not a number."""
    value = (rec.get("metrics") or {}).get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


# Finished runs rank first, then running ones (their numbers are not final), then runs that
# failed, were killed or crashed: their numbers describe work that did not complete.
_STATUS_TIER = {"finished": 0, "running": 1}
UNFINISHED_TIER = 2


def status_tier(rec: dict[str, Any]) -> int:
    """Where a run's status puts it in a ranking: 0 finished, 1 running, 2 the rest."""
    return _STATUS_TIER.get(str(rec.get("status", "")).lower(), UNFINISHED_TIER)


def rank_key(metric: str, direction: str) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """Best first; finished runs before running ones, and those before failed, killed and
    crashed runs; NaN and missing last; ties by newest start, then id (deterministic)."""

    def key(rec: dict[str, Any]) -> tuple[Any, ...]:
        value = metric_value(rec, metric)
        missing = value is None or math.isnan(value)
        score = 0.0 if missing else (-value if direction == "max" else value)  # type: ignore[operator]
        started = rec.get("started_at") or ""
        return (missing, status_tier(rec), score, _desc(str(started)), str(rec.get("id", "")))

    return key


# Sorting ascending on the "inverted" text sorts the text descending (newest start first);
# the sentinel puts a prefix after its extensions.
_INVERT = {i: 0xFFFF - i for i in range(0x3000)}
_SENTINEL = "\U0010ffff"


def _desc(text: str) -> str:
    return text.translate(_INVERT) + _SENTINEL


def leaderboard(
    records: Iterable[dict[str, Any]], metric: str, direction: str, limit: int | None = None
) -> list[dict[str, Any]]:
    """Records ranked by `metric` (best first), at most `limit` of them."""
    return best(records, metric, direction, limit, key=lambda rec: rec)


def best(
    items: Iterable[T],
    metric: str,
    direction: str,
    limit: int | None,
    key: Callable[[T], dict[str, Any]],
) -> list[T]:
    """The `limit` best items in rank order; streaming, so memory stays at `limit` items."""
    rank = rank_key(metric, direction)
    if limit is None:
        return sorted(items, key=lambda item: rank(key(item)))
    return heapq.nsmallest(max(limit, 0), items, key=lambda item: rank(key(item)))


# ---------------------------------------------------------------------------- compare


SECTIONS = ("params", "metrics", "data", "env", "code")


def comparable(rec: dict[str, Any]) -> dict[str, Any]:
    """A record as flat `section.key` -> value pairs, the fields `compare` lines up."""
    out: dict[str, Any] = {}
    out.update({f"params.{key}": value for key, value in flatten(rec.get("params") or {}).items()})
    for name, value in (rec.get("metrics") or {}).items():
        out[f"metrics.{name}"] = value
    for item in rec.get("data") or []:
        if isinstance(item, dict):
            out[f"data.{item.get('path')}"] = item.get("hash")
    env = rec.get("env") or {}
    for key in ("id", "python", "implementation", "platform"):
        if key in env:
            out[f"env.{key}"] = env[key]
    code = rec.get("code") or {}
    for key in ("commit", "branch", "dirty", "tree", "patch_hash"):
        if key in code:
            out[f"code.{key}"] = code[key]
    for key in ("name", "status", "experiment", "started_at", "duration_s", "baseline", "seed"):
        if key in rec:
            out[key] = rec[key]
    for key, value in (rec.get("tags") or {}).items():
        out[f"tags.{key}"] = value
    cost = rec.get("cost") or {}
    if "amount" in cost:
        out["cost"] = cost["amount"]
    return out


def _same(values: list[Any]) -> bool:
    def norm(v: Any) -> str:
        if isinstance(v, float) and math.isnan(v):
            return "nan"
        return json.dumps(v, sort_keys=True, default=str)

    return len({norm(v) for v in values}) <= 1


def compare(records: list[dict[str, Any]]) -> list[tuple[str, list[Any], bool]]:
    """(field, value per record, differs) rows: differing params, metrics, data, env and
    code first (in that order), then the other differing fields, then the identical ones."""
    flat = [comparable(rec) for rec in records]
    names: dict[str, None] = {}
    for f in flat:
        names.update(dict.fromkeys(f))
    missing = object()
    rows = []
    for name in names:
        values = [f.get(name, missing) for f in flat]
        differs = not _same([None if v is missing else v for v in values]) or (
            missing in values and any(v is not missing for v in values)
        )
        rows.append((name, [None if v is missing else v for v in values], differs))

    def order(row: tuple[str, list[Any], bool]) -> tuple[int, int, str]:
        section = row[0].split(".", 1)[0]
        rank = SECTIONS.index(section) if section in SECTIONS and "." in row[0] else len(SECTIONS)
        return (0 if row[2] else 1, rank, "")

    return sorted(rows, key=order)
