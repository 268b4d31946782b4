"""ledger plot"""

from __future__ import annotations

import argparse
from pathlib import Path

from ledger.cli import output
from ledger.cli.commands._common import load_records
from ledger.core.workspace import Workspace
from ledger.errors import LedgerError, UsageError
from ledger.read import api, query
from ledger.read.api import Loaded
from ledger.views.plot import data as plot_data
from ledger.views.report import build as report

HELP = "charts from the records: curves, scatter, progress, top, artifact (PNG or SVG)"
KINDS = ("curves", "scatter", "progress", "top", "artifact")


def _common(parser: argparse.ArgumentParser, kind: str) -> None:
    parser.add_argument(
        "-o", "--output", default=f"{kind}.png", metavar="FILE", help=f"image file; .png or .svg (default: {kind}.png)"
    )


def _metric(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--metric", "-m", help="the metric (default: ledger.yaml's primary_metric)")
    direction = parser.add_mutually_exclusive_group()
    direction.add_argument("--max", dest="direction", action="store_const", const="max", help="higher is better")
    direction.add_argument("--min", dest="direction", action="store_const", const="min", help="lower is better")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="kind", metavar="KIND", help="the chart to draw")
    sub.required = True
    p = sub.add_parser(
        "curves",
        help="step series (learning curves) of chosen runs",
        description="Step series of one or more metrics for chosen runs (train vs validation).",
    )
    p.add_argument("runs", nargs="*", metavar="ID", help="runs (id, prefix or name); default: the 5 best with series")
    p.add_argument(
        "--metric",
        "-m",
        action="append",
        dest="metrics",
        metavar="M",
        help="a series metric to draw (repeatable); default: every series metric",
    )
    _common(p, "curves")
    p = sub.add_parser(
        "scatter",
        help="a metric against a parameter, coloured by another",
        description="A metric against a parameter, optionally coloured by another parameter.",
    )
    p.add_argument("--x", required=True, metavar="PARAM", help="parameter on the x axis, e.g. lr or params.model.depth")
    p.add_argument("--y", metavar="METRIC", help="metric on the y axis (default: the primary metric)")
    p.add_argument("--color", metavar="PARAM", help="parameter that colours the points")
    _common(p, "scatter")
    p = sub.add_parser(
        "progress",
        help="every run's metric over time, best so far, baseline",
        description="Every run's metric over time with the best-so-far line and the baseline.",
    )
    _metric(p)
    _common(p, "progress")
    p = sub.add_parser(
        "top",
        help="leaderboard bars with the baseline",
        description="The leaderboard as bars, best on top, with the baseline.",
    )
    _metric(p)
    p.add_argument("-n", type=int, default=10, help="how many runs (default 10)")
    _common(p, "top")
    p = sub.add_parser(
        "artifact",
        help="a run's plot data: confusion matrix, ROC, residuals, importance",
        description="Draw one of a run's plot-data artifacts (written by autologging).",
    )
    p.add_argument("run", metavar="ID", help="run id, unique prefix or name")
    p.add_argument("name", nargs="?", help="which artifact (e.g. roc_curve); needed when the run has several")
    _common(p, "artifact")


def _format(path: Path) -> str:
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg"):
        raise UsageError(f"cannot write {path.name}: name the image .png or .svg")
    return fmt


def _metric_of(ws: Workspace, args: argparse.Namespace, name: str | None) -> tuple[str, str]:
    metric = name or ws.config.primary_metric
    if not metric:
        raise UsageError("which metric? pass --metric NAME or set primary_metric in ledger.yaml")
    return metric, getattr(args, "direction", None) or ws.config.direction(metric)


def _baseline(ws: Workspace, items: list[Loaded], metric: str) -> tuple[float | None, str | None]:
    from ledger import registry

    base = registry.resolve_baseline(ws, items)
    if base is None:
        return None, None
    return query.metric_value(base.record, metric), plot_data.display_name(base.record)


def run(args: argparse.Namespace) -> int:
    from ledger.views.plot import charts as plot

    ws = Workspace.find()
    path = Path(args.output)
    fmt = _format(path)
    items = load_records(ws)
    records = [i.record for i in items]
    if args.kind == "curves":
        chosen = [api.find(items, ref) for ref in args.runs] or _default_curve_runs(ws, items)
        image = plot.curves(plot_data.curve_lines(ws, chosen, args.metrics), fmt=fmt)
    elif args.kind == "scatter":
        y, _ = _metric_of(ws, args, args.y)
        points = plot_data.param_points(records, args.x, y, args.color)
        image = plot.scatter(points, x_name=args.x, y_name=y, color_name=args.color, fmt=fmt)
    elif args.kind == "progress":
        metric, direction = _metric_of(ws, args, args.metric)
        value, name = _baseline(ws, items, metric)
        image = plot.progress(
            plot_data.metric_points(records, metric),
            metric=metric,
            direction=direction,
            baseline=value,
            baseline_name=name,
            fmt=fmt,
        )
    elif args.kind == "top":
        metric, direction = _metric_of(ws, args, args.metric)
        finished = [r for r in records if r.get("status") == "finished"]
        ranked = query.leaderboard(finished, metric, direction, args.n)
        bars = list(zip(plot_data.display_names(ranked), (query.metric_value(r, metric) for r in ranked), strict=True))
        value, name = _baseline(ws, items, metric)
        image = plot.top(
            [(n, v) for n, v in bars if v is not None],
            metric=metric,
            direction=direction,
            baseline=value,
            baseline_name=name,
            fmt=fmt,
        )
    else:
        item = api.find(items, args.run)
        image = plot.artifact(_artifact_data(ws, item, args.name), run=plot_data.display_name(item.record), fmt=fmt)
    report.write_file(path, image)
    output.out(f"wrote {path}")
    return 0


def _default_curve_runs(ws: Workspace, items: list[Loaded]) -> list[Loaded]:
    """The five best runs that logged series (by the primary metric), else the five newest
    (a run still running counts: its series is read as far as it is written)."""
    with_series = [
        i for i in items
        if (i.record.get("series") or {}).get("metrics")
        or (i.record.get("status") == "running" and plot_data.run_series(ws, i))
    ]  # fmt: skip
    if not with_series:
        raise LedgerError("no run logged a metric more than once: log step series, or name runs to draw")
    metric = ws.config.primary_metric
    if metric:
        ranked = query.leaderboard([i.record for i in with_series], metric, ws.config.direction(metric), 5)
        order = {r["id"]: n for n, r in enumerate(ranked)}
        return sorted((i for i in with_series if i.record["id"] in order), key=lambda i: order[i.record["id"]])
    return sorted(with_series, key=lambda i: str(i.record.get("started_at")), reverse=True)[:5]


def _artifact_data(ws: Workspace, item: Loaded, name: str | None) -> dict[str, object]:
    arts = plot_data.plot_artifacts(item.record)
    if name:
        arts = [a for a in arts if a.get("name") == name or plot_data.plot_data_type(a) == name]
    if not arts:
        raise LedgerError(
            f"run {item.record['id']} has no plot data{' named ' + repr(name) if name else ''}: "
            "autologging writes it (confusion_matrix.json, roc_curve.json, ...)"
        )
    if len(arts) > 1:
        names = ", ".join(str(a.get("name")) for a in arts)
        raise UsageError(f"run {item.record['id']} has several plot-data artifacts ({names}): name one")
    return plot_data.load_plot_data(ws, item, arts[0])
