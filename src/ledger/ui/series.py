"""A run's step series for charts: read from its sidecar (the working tree while it runs),
parsed by the same code as `ledger plot`, reduced to the chart's width."""

from __future__ import annotations

from typing import Any

from ledger.core import record
from ledger.core.workspace import Workspace
from ledger.read.api import Item
from ledger.ui import tsv
from ledger.ui.downsample import m4
from ledger.views.plot import data as plot_data


def _path(rec: dict[str, Any]) -> str:
    info = rec.get("series") or {}
    path = info.get("path") if isinstance(info, dict) else None
    if isinstance(path, str):
        return path
    return f"{record.sidecar_dir(str(rec['id']))}/series.tsv"  # a running run: not in the record yet


def raw(ws: Workspace, item: Item) -> bytes:
    data = plot_data.read_sidecar(ws, item.loaded(), _path(item.record), plot_data.SERIES_MAX_BYTES)
    return data or b""


def names(ws: Workspace, item: Item) -> list[str]:
    """The metrics a run logged as series: from the record's summary, else from the file."""
    info = item.record.get("series") or {}
    found = info.get("metrics") if isinstance(info, dict) else None
    if isinstance(found, dict) and found:
        return sorted(found)
    return sorted(plot_data.parse_series(raw(ws, item)))


def chart(ws: Workspace, item: Item, metrics: list[str], width: int) -> dict[str, Any]:
    """{metric: {steps, values, count}} downsampled to `width` pixel columns."""
    data = raw(ws, item)
    fast = tsv.parse(data, set(metrics)) if metrics else None
    if fast is not None:
        columns = {name: fast[name] for name in metrics if name in fast}
    else:
        parsed = plot_data.parse_series(data, set(metrics) if metrics else None)
        columns = {name: ([p[0] for p in pts], [p[1] for p in pts]) for name, pts in parsed.items()}
    out: dict[str, Any] = {}
    for name in metrics or sorted(columns):
        steps, values = columns.get(name) or ([], [])
        shown_steps, shown_values = m4(steps, values, width)
        out[name] = {"steps": shown_steps, "values": shown_values, "count": len(steps)}
    return out


def latest(ws: Workspace, item: Item) -> dict[str, Any]:
    """What a running run has logged so far: the last step and the last value per metric."""
    parsed = plot_data.parse_series(raw(ws, item))
    last = {name: points[-1][1] for name, points in parsed.items() if points}
    step = max((points[-1][0] for points in parsed.values() if points), default=None)
    return {"step": step, "last": dict(sorted(last.items()))}
