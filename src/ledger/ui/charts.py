"""Charts over many runs, as data for the browser: metric vs param, parallel coordinates,
progress with best-so-far and the baseline, distributions by a grouping param.

The points come from the same view code as `ledger plot` and the report
(`views.plot.data`: metric_points, param_points, best_so_far), so the three agree.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from typing import Any

from ledger.core.fields import flatten
from ledger.views.plot import data as plot_data

MAX_DIMS = 6
BINS = 5


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def varying_params(records: list[dict[str, Any]], limit: int = MAX_DIMS) -> list[str]:
    """The params that take more than one value, most varied first (ties by name)."""
    values: dict[str, set[str]] = {}
    for rec in records:
        for key, value in flatten(rec.get("params") or {}).items():
            if isinstance(value, (dict, list)):
                continue
            values.setdefault(key, set()).add(repr(value))
    ranked = sorted((k for k, v in values.items() if len(v) > 1), key=lambda k: (-min(len(values[k]), 50), k))
    return [f"params.{k}" for k in ranked[:limit]]


def scatter(records: list[dict[str, Any]], metric: str, param: str, color: str | None) -> dict[str, Any]:
    points = plot_data.param_points(records, param, metric, color)
    keep = [(r, p) for r, p in zip(records, points) if _number(p.y) is not None and p.x is not None]
    return {
        "x": [p.x for _, p in keep], "y": [p.y for _, p in keep],
        "color": [p.color for _, p in keep] if color else None,
        "ids": [r["id"] for r, _ in keep], "names": [p.label for _, p in keep],
        "status": [p.status for _, p in keep],
    }  # fmt: skip


def _axis(name: str, values: list[Any]) -> tuple[list[float | None], list[tuple[float, str]]]:
    """Values on a 0..1 axis, and the axis' tick labels (numbers span their range;
    anything else is a category, placed evenly)."""
    numbers = [_number(v) for v in values]
    present = [n for n in numbers if n is not None]
    if present and len(present) == sum(v is not None for v in values):
        low, high = min(present), max(present)
        span = (high - low) or 1.0
        ticks = [(0.0, f"{low:.4g}"), (1.0, f"{high:.4g}")] if high != low else [(0.5, f"{low:.4g}")]
        return [None if n is None else (n - low) / span for n in numbers], ticks
    labels = sorted({str(v) for v in values if v is not None})
    place = {label: (i / (len(labels) - 1) if len(labels) > 1 else 0.5) for i, label in enumerate(labels)}
    return [None if v is None else place[str(v)] for v in values], [(place[lb], lb) for lb in labels]


def parallel(records: list[dict[str, Any]], metric: str, direction: str, dims: list[str]) -> dict[str, Any]:
    """Each run as a line across the params' axes to the metric's, drawn in BINS colours by
    metric quintile (best bin last, so it is drawn on top)."""
    scored = [r for r in records if _number(plot_data.lookup(r, f"metrics.{metric}")) is not None]
    names = [*dims, f"metrics.{metric}"]
    axes = []
    columns = []
    for name in names:
        placed, ticks = _axis(name, [plot_data.lookup(r, name) for r in scored])
        columns.append(placed)
        axes.append({"name": name, "ticks": ticks})
    order = sorted(range(len(scored)), key=lambda i: columns[-1][i] or 0.0, reverse=direction == "min")
    traces = []
    for b in range(BINS):
        chosen = order[b * len(order) // BINS : (b + 1) * len(order) // BINS]
        xs: list[float | None] = []
        ys: list[float | None] = []
        for i in chosen:
            for axis, column in enumerate(columns):
                xs.append(axis)
                ys.append(column[i])
            xs.append(None)
            ys.append(None)
        traces.append({"bin": b, "x": xs, "y": ys, "runs": len(chosen)})
    return {"axes": axes, "traces": traces, "runs": len(scored)}


def progress(records: list[dict[str, Any]], metric: str, direction: str, baseline: float | None) -> dict[str, Any]:
    points = sorted(
        ((r, p) for r, p in zip(records, plot_data.metric_points(records, metric)) if p.x and _number(p.y) is not None),
        key=lambda rp: rp[1].x,
    )
    finished = [(r, p) for r, p in points if p.status == "finished"] or points
    best = plot_data.best_so_far([float(p.y) for _, p in finished], direction)  # type: ignore[arg-type]
    return {
        "x": [r.get("started_at") for r, _ in points], "y": [p.y for _, p in points],
        "status": [p.status for _, p in points], "names": [p.label for _, p in points],
        "ids": [r["id"] for r, _ in points],
        "best_x": [r.get("started_at") for r, _ in finished], "best_y": best, "baseline": baseline,
    }  # fmt: skip


def distribution(records: list[dict[str, Any]], metric: str, group: str) -> dict[str, Any]:
    """The metric's values per value of a grouping param (e.g. across seeds): mean, spread."""
    groups: dict[str, list[float]] = {}
    for rec in records:
        value = _number(plot_data.lookup(rec, f"metrics.{metric}"))
        if value is not None:
            groups.setdefault(str(plot_data.lookup(rec, group)), []).append(value)
    rows = []
    for key in sorted(groups, key=lambda k: (_number(_float(k)) is None, _float(k) or 0.0, k)):
        values = groups[key]
        rows.append({"group": key, "values": values, "n": len(values), "mean": statistics.fmean(values),
                     "std": statistics.pstdev(values) if len(values) > 1 else 0.0})  # fmt: skip
    return {"groups": rows}


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def common_metrics(records: list[dict[str, Any]], limit: int = 50) -> list[str]:
    counts: Counter[str] = Counter()
    for rec in records:
        counts.update((rec.get("metrics") or {}).keys())
    return [m for m, _ in counts.most_common(limit)]
