"""The data plots are drawn from: per-step series and plot-data artifacts of a run.

Both live in the run's sidecar, read from git at the record's revision (or from the working
tree for an uncommitted record). They come from records that may be someone else's: sizes
are bounded, bad lines are skipped, and nothing is ever evaluated.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from ledger import gitstore
from ledger.core import fields, record
from ledger.core.workspace import Workspace, safe_relpath
from ledger.errors import LedgerError
from ledger.read import query
from ledger.read.api import Loaded
from ledger.views.plot import charts as plot

SERIES_MAX_BYTES = 64 * 1024 * 1024
PLOT_DATA_MAX_BYTES = 8 * 1024 * 1024
PLOT_DATA_KIND = "plot-data"
# The plot-data shapes this module understands, by file stem (see docs/report.md).
PLOT_DATA_TYPES = ("confusion_matrix", "roc_curve", "feature_importance", "residuals")

Series = dict[str, list[tuple[int, float]]]
SYSTEM_PREFIX = "system/"


def read_sidecar(ws: Workspace, item: Loaded, relpath: str, limit: int) -> bytes | None:
    """A file of a run's sidecar: from git at the record's revision, else the working tree."""
    try:
        path = safe_relpath(relpath, ws.root)
    except LedgerError:
        return None
    if item.origin != "worktree":
        data = gitstore.read_file_at(ws.root, item.origin, path, limit)
        if data is not None:
            return data
    local = ws.root / path
    try:
        if local.is_file() and local.stat().st_size <= limit:
            return local.read_bytes()
    except OSError:
        return None
    return None


def parse_series(data: bytes, wanted: set[str] | None = None) -> Series:
    """`step  metric  value  time` lines into {metric: [(step, value), ...]} sorted by step."""
    series: Series = {}
    for line in data.decode("utf-8", "replace").splitlines():
        fields = line.split("\t")
        if len(fields) < 3 or fields[0] == "step":
            continue
        name = fields[1]
        if wanted is not None and name not in wanted:
            continue
        try:
            step, value = int(fields[0]), float(fields[2])
        except ValueError:
            continue  # a torn or hand-edited line: skip it, keep the rest
        series.setdefault(name, []).append((step, value))
    for points in series.values():
        points.sort(key=lambda p: p[0])
    return series


def series_path(rec: Mapping[str, Any]) -> str | None:
    """Where a run's series is: the record's `series.path`; for a run still running (whose
    record has no summary yet), the series file its sidecar is being written to."""
    info = rec.get("series") or {}
    path = info.get("path") if isinstance(info, dict) else None
    if isinstance(path, str):
        return path
    if rec.get("status") == "running" and isinstance(rec.get("id"), str) and record.is_run_id(rec["id"]):
        return f"{record.sidecar_dir(rec['id'])}/series.tsv"
    return None


def run_series(ws: Workspace, item: Loaded, wanted: set[str] | None = None) -> Series:
    """A run's per-step series (empty when it logged none or its sidecar is gone); a
    running run's series as far as it has been written. The sampled system metrics
    (`system/...`, steps are samples) only when asked for by name."""
    paths = [series_path(item.record)]
    if wanted and any(name.startswith(SYSTEM_PREFIX) for name in wanted):
        info = item.record.get("system") or {}
        paths.append(info.get("path") if isinstance(info, dict) else None)
    series: Series = {}
    for path in paths:
        if not isinstance(path, str):
            continue
        data = read_sidecar(ws, item, path, SERIES_MAX_BYTES)
        if data:
            series.update(parse_series(data, wanted))
    return series


def plot_data_type(artifact: Mapping[str, Any]) -> str | None:
    """Which plot a plot-data artifact feeds, from its file name (`roc_curve.json`, ...)."""
    name = str(artifact.get("name") or "")
    stem = name[:-5] if name.endswith(".json") else name
    for kind in PLOT_DATA_TYPES:
        if stem == kind or stem.endswith(("_" + kind, "-" + kind)):
            return kind
    return None


def plot_artifacts(rec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A record's plot-data artifacts that ledger knows how to draw, by name."""
    found = []
    for art in rec.get("artifacts") or []:
        if isinstance(art, dict) and art.get("kind") == PLOT_DATA_KIND and plot_data_type(art):
            found.append(art)
    return sorted(found, key=lambda a: str(a.get("name")))


def load_plot_data(ws: Workspace, item: Loaded, artifact: Mapping[str, Any]) -> dict[str, Any]:
    """Read and check one plot-data artifact; LedgerError when it is missing or malformed."""
    name = str(artifact.get("name"))
    kind = plot_data_type(artifact)
    if kind is None:
        raise LedgerError(f"artifact {name!r} is not plot data ledger can draw ({', '.join(PLOT_DATA_TYPES)})")
    data = read_sidecar(ws, item, str(artifact.get("path") or ""), PLOT_DATA_MAX_BYTES)
    if data is None:
        raise LedgerError(f"artifact {name!r} of run {item.record['id']} is not in git or the working tree")
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise LedgerError(f"artifact {name!r} is not valid JSON") from None
    if not isinstance(doc, dict):
        raise LedgerError(f"artifact {name!r} must hold a JSON object")
    return {"type": kind, **_CHECKS[kind](doc, name)}


def _numbers(doc: Mapping[str, Any], key: str, name: str, *, required: bool = True) -> list[float] | None:
    value = doc.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, list) or not value or not all(_is_number(v) for v in value):
        raise LedgerError(f"plot data {name!r}: `{key}` must be a non-empty list of numbers")
    return [float(v) for v in value]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _labels(value: Any, count: int) -> list[str]:
    if isinstance(value, list) and len(value) == count:
        return [str(v) for v in value]
    return [str(i) for i in range(count)]


def _confusion(doc: Mapping[str, Any], name: str) -> dict[str, Any]:
    matrix = doc.get("matrix")
    if (
        not isinstance(matrix, list)
        or not matrix
        or len(matrix) > 200
        or not all(isinstance(row, list) and len(row) == len(matrix) for row in matrix)
        or not all(_is_number(v) for row in matrix for v in row)
    ):
        raise LedgerError(f"plot data {name!r}: `matrix` must be a square list of lists of numbers")
    return {"matrix": [[float(v) for v in row] for row in matrix], "labels": _labels(doc.get("labels"), len(matrix))}


def _roc(doc: Mapping[str, Any], name: str) -> dict[str, Any]:
    raw = doc.get("curves")
    curves = raw if isinstance(raw, list) else [doc]
    out = []
    for i, curve in enumerate(curves[:50]):
        if not isinstance(curve, dict):
            raise LedgerError(f"plot data {name!r}: each curve must be an object with fpr and tpr")
        fpr, tpr = _numbers(curve, "fpr", name), _numbers(curve, "tpr", name)
        assert fpr is not None and tpr is not None
        if len(fpr) != len(tpr):
            raise LedgerError(f"plot data {name!r}: `fpr` and `tpr` must have the same length")
        auc: Any = curve.get("auc")
        out.append(
            {
                "fpr": fpr,
                "tpr": tpr,
                "auc": float(auc) if _is_number(auc) else None,
                "label": str(curve.get("label", "" if len(curves) == 1 else i)),
            }
        )
    return {"curves": out}


def _importance(doc: Mapping[str, Any], name: str) -> dict[str, Any]:
    values = _numbers(doc, "importances", name)
    assert values is not None
    return {"importances": values, "features": _labels(doc.get("features"), len(values))}


def _residuals(doc: Mapping[str, Any], name: str) -> dict[str, Any]:
    y_pred = _numbers(doc, "y_pred", name)
    y_true = _numbers(doc, "y_true", name, required=False)
    residuals = _numbers(doc, "residuals", name, required=False)
    assert y_pred is not None
    if residuals is None:
        if y_true is None:
            raise LedgerError(f"plot data {name!r}: give `y_true` or `residuals` with `y_pred`")
        if len(y_true) != len(y_pred):
            raise LedgerError(f"plot data {name!r}: `y_true` and `y_pred` must have the same length")
        residuals = [t - p for t, p in zip(y_true, y_pred)]
    if len(residuals) != len(y_pred):
        raise LedgerError(f"plot data {name!r}: `residuals` and `y_pred` must have the same length")
    return {"y_pred": y_pred, "residuals": residuals}


_CHECKS = {
    "confusion_matrix": _confusion,
    "roc_curve": _roc,
    "feature_importance": _importance,
    "residuals": _residuals,
}


# ---------------------------------------------------------------------------- records -> chart input


def started(rec: Mapping[str, Any]) -> _dt.datetime | None:
    """A record's start time as an aware UTC datetime (None when unreadable)."""
    text = rec.get("started_at")
    if not isinstance(text, str):
        return None
    try:
        return _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def display_name(rec: Mapping[str, Any]) -> str:
    return str(rec.get("name") or rec.get("id"))


def display_names(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """Names to draw, one per record: a name several of them share gets the id's hash
    suffix (`gb (7f3a9c)`), which `ledger show` also accepts."""
    names = [display_name(r) for r in records]
    return [
        f"{name} ({str(r.get('id', '')).rsplit('-', 1)[-1]})" if names.count(name) > 1 else name
        for name, r in zip(names, records, strict=True)
    ]


def curve_lines(ws: Workspace, items: list[Loaded], metrics: list[str] | None) -> list[plot.Line]:
    """Step series of `metrics` (all series metrics when None) for each run."""
    lines = []
    labels = display_names([item.record for item in items])
    for item, shown in zip(items, labels, strict=True):
        wanted = set(metrics) if metrics else None
        series = run_series(ws, item, wanted)
        for name in metrics or sorted(series):
            if len(series.get(name) or []) > (0 if metrics else 1):  # by default: real series only
                lines.append(plot.Line(shown, name, series[name], key=str(item.record.get("id"))))
    return lines


def metric_points(records: list[dict[str, Any]], metric: str) -> list[plot.Point]:
    """Each run's final `metric` at its start time (for the progress chart)."""
    return [
        plot.Point(display_name(r), started(r), query.metric_value(r, metric), status=str(r.get("status")))
        for r in records
    ]


def param_points(records: list[dict[str, Any]], x: str, y: str, color: str | None) -> list[plot.Point]:
    """Runs as (x, y, colour) for a scatter: `x`/`color` are dotted params, `y` a metric."""
    return [
        plot.Point(
            display_name(r),
            lookup(r, x),
            query.metric_value(r, y),
            lookup(r, color) if color else None,
            str(r.get("status")),
        )
        for r in records
    ]


def best_so_far(values: list[float], direction: str) -> list[float]:
    """The best value up to each point, in the order given (the progress chart's step line,
    drawn by `ledger plot progress`, the report and the UI alike)."""
    best: list[float] = []
    for value in values:
        better = not best or (value > best[-1] if direction == "max" else value < best[-1])
        best.append(value if better else best[-1])
    return best


def lookup(rec: Mapping[str, Any], dotted: str) -> Any:
    """`params.model.depth`, `model.depth` (params implied), `metrics.auc` or `tags.x` of a
    record, spelled as everywhere else (`ledger.core.fields`)."""
    head = fields.split_name(dotted)[:1]
    implied = not head or head[0].lower() not in fields.PREFIXES
    return fields.resolve(rec, f"params.{dotted}" if implied else dotted)
