"""Charts: the one place matplotlib is imported (lazily, on the Agg canvas).

Every function takes plain data (labels, numbers, times) and returns the image bytes in the
requested format (`png` or `svg`). Text that comes from records (run names, metric and
parameter names, labels) is shown literally: math parsing is off for every text element, so
a `$x$` in a run name stays `$x$`, and control characters are replaced.
"""

from __future__ import annotations

import datetime as _dt
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ledger.errors import LedgerError

FORMATS = ("png", "svg")
MAX_LABEL = 48
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_RC: Any = {
    "text.parse_math": False,  # record text is never interpreted as mathtext
    "text.usetex": False,
    "svg.fonttype": "none",  # SVG keeps real, searchable text
    "svg.hashsalt": "ledger",  # deterministic ids in SVG output
    "font.size": 10,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.fontsize": 8,
    "legend.framealpha": 0.85,
}
BEST_COLOR = "#1b7837"
BASELINE_COLOR = "#b2182b"
MUTED = "#8c8c8c"


def label(text: Any, limit: int = MAX_LABEL) -> str:
    """Record text made safe to draw: one line, no control characters, bounded length."""
    clean = _CONTROL.sub("?", str(text).replace("\n", " "))
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


@dataclass(frozen=True)
class Line:
    """One learning curve: a run's metric over steps. `key` tells runs apart (the run id:
    two runs may share a name); `run` is the label drawn."""

    run: str
    metric: str
    points: Sequence[tuple[int, float]]
    key: str = ""


@dataclass(frozen=True)
class Point:
    """One run in a scatter or progress chart."""

    label: str
    x: Any  # a number, a category (str) or a datetime
    y: float | None
    color: Any = None
    status: str = "finished"


def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _render(draw: Any, fmt: str, width: float = 8.0, height: float = 4.5) -> bytes:
    if fmt not in FORMATS:
        raise LedgerError(f"unknown image format {fmt!r}: use .png or .svg")
    import matplotlib

    with matplotlib.rc_context(_RC):
        fig = _figure(width, height)
        draw(fig)
        buffer = io.BytesIO()
        metadata = {"Date": None} if fmt == "svg" else {"Software": "ledger"}
        fig.savefig(buffer, format=fmt, metadata=metadata)
    return buffer.getvalue()


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


# ---------------------------------------------------------------------------- run charts


def scale_groups(lines: Sequence[Line]) -> list[list[str]]:
    """Metrics grouped by scale: metrics whose largest values are within a factor of 10 of
    each other share a panel (auc and accuracy), others get their own (a loss in the
    thousands, a learning rate of 1e-4), so no curve is flattened against the axis."""
    peak: dict[str, float] = {}
    for line in lines:
        values = [abs(v) for _, v in line.points if math.isfinite(v)]
        peak[line.metric] = max([peak.get(line.metric, 0.0), *values])
    groups: list[list[str]] = []
    low = 0.0
    for metric in sorted(peak, key=lambda m: (peak[m], m)):
        size = peak[metric]
        if groups and (size <= low * 10 or size == 0.0 or low == 0.0 and size < 1e-12):
            groups[-1].append(metric)
        else:
            groups.append([metric])
            low = size
    order = list(dict.fromkeys(line.metric for line in lines))
    return sorted(([m for m in order if m in g] for g in groups), key=lambda g: order.index(g[0]))


def curves(lines: Sequence[Line], *, title: str | None = None, fmt: str = "png") -> bytes:
    """Learning curves: colour per run (keyed by run id, so two runs with one name never
    share a colour), line style per metric (e.g. train vs validation), one panel per scale
    of metric (see `scale_groups`)."""
    if not lines:
        raise LedgerError("no step series to draw: the runs logged no metric more than once")
    runs = list(dict.fromkeys(line.key or line.run for line in lines))
    metrics = list(dict.fromkeys(line.metric for line in lines))
    panels = scale_groups(lines)
    styles = ["-", "--", ":", "-."]

    def draw(fig: Any) -> None:
        axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
        by_metric = len(runs) == 1  # one run: a colour per metric reads better
        cmap = palette(len(metrics) if by_metric else len(runs))
        for ax, group in zip(axes, panels, strict=True):
            for line in (line for line in lines if line.metric in group):
                xs = [p[0] for p in line.points]
                ys = [p[1] for p in line.points]
                name = label(line.run, 32) + (f" · {label(line.metric, 24)}" if len(metrics) > 1 else "")
                color = cmap[metrics.index(line.metric) if by_metric else runs.index(line.key or line.run)]
                ax.plot(
                    xs,
                    ys,
                    color=color,
                    linestyle=styles[metrics.index(line.metric) % 4],
                    marker="o" if len(xs) < 30 else None,
                    markersize=3,
                    label=name,
                )
            ax.set_ylabel(label(group[0]) if len(group) == 1 else label(", ".join(group), 40))
            ax.legend(loc="best")
        axes[0].set_title(label(title or "Learning curves: " + ", ".join(metrics), 90))
        axes[-1].set_xlabel("step")

    return _render(draw, fmt, height=4.5 if len(panels) == 1 else 2.6 * len(panels) + 0.8)


def scatter(
    points: Sequence[Point], *, x_name: str, y_name: str, color_name: str | None = None, fmt: str = "png"
) -> bytes:
    """A metric against a parameter, optionally coloured by another parameter."""
    usable = [p for p in points if _finite(p.y) and p.x is not None]
    if not usable:
        raise LedgerError(f"no run has both {x_name} and {y_name}: check the names with `ledger show ID`")

    def draw(fig: Any) -> None:
        ax = fig.add_subplot()
        xs = _axis_values(ax, [p.x for p in usable], "x")
        ys = [p.y for p in usable]
        colors = [p.color for p in usable]
        if color_name and all(_is_number(c) for c in colors):
            sc = ax.scatter(
                xs, ys, c=[float(c) for c in colors], cmap="viridis", s=36, edgecolors="black", linewidths=0.3
            )
            fig.colorbar(sc, ax=ax).set_label(label(color_name))
        elif color_name:
            groups = sorted({label(c) for c in colors})
            colours = palette(len(groups))
            for group, color in zip(groups, colours):
                sel = [i for i, c in enumerate(colors) if label(c) == group]
                ax.scatter(
                    [xs[i] for i in sel],
                    [ys[i] for i in sel],
                    color=color,
                    s=36,
                    label=group,
                    edgecolors="black",
                    linewidths=0.3,
                )
            ax.legend(title=label(color_name), loc="best")
        else:
            ax.scatter(xs, ys, s=36, color=palette(1)[0], edgecolors="black", linewidths=0.3)
        numeric = [x for x in xs if isinstance(x, float)]
        if numeric and len(numeric) == len(xs) and min(numeric) > 0 and max(numeric) / min(numeric) >= 100:
            ax.set_xscale("log")
        ax.set_title(label(f"{y_name} vs {x_name}", 90))
        ax.set_xlabel(label(x_name))
        ax.set_ylabel(label(y_name))

    return _render(draw, fmt)


def progress(
    points: Sequence[Point],
    *,
    metric: str,
    direction: str,
    baseline: float | None = None,
    baseline_name: str | None = None,
    fmt: str = "png",
) -> bytes:
    """Every run's metric over time, the best-so-far line and the baseline."""
    timed = sorted((p for p in points if isinstance(p.x, _dt.datetime)), key=lambda p: p.x)
    scored = [p for p in timed if _finite(p.y)]
    if not scored:
        raise LedgerError(f"no run has a value for {metric}: pass --metric or log it in your runs")

    def draw(fig: Any) -> None:
        ax = fig.add_subplot()
        ok = [p for p in scored if p.status == "finished"]
        other = [p for p in scored if p.status != "finished"]
        ax.scatter([p.x for p in ok], [p.y for p in ok], s=28, color=palette(1)[0], alpha=0.8, label="run", zorder=3)
        if other:
            ax.scatter(
                [p.x for p in other],
                [p.y for p in other],
                s=36,
                marker="x",
                color=MUTED,
                label="failed / killed run",
                zorder=3,
            )
        from ledger.views.plot.data import best_so_far

        best = best_so_far([float(p.y) for p in ok or scored], direction)  # type: ignore[arg-type]
        xs = [p.x for p in ok or scored]
        ax.step(xs, best, where="post", color=BEST_COLOR, linewidth=2, label="best so far", zorder=2)
        winner = (ok or scored)[best.index(best[-1])]
        ax.annotate(
            label(winner.label, 32),
            (winner.x, winner.y),
            textcoords="offset points",
            xytext=(6, 6),
            fontsize=8,
            color=BEST_COLOR,
        )
        if _finite(baseline):
            name = f"baseline ({label(baseline_name, 32)})" if baseline_name else "baseline"
            ax.axhline(float(baseline), color=BASELINE_COLOR, linestyle="--", linewidth=1.2, label=name)  # type: ignore[arg-type]
        ax.set_title(
            label(f"Progress: {metric} over time ({'higher' if direction == 'max' else 'lower'} is better)", 90)
        )
        ax.set_xlabel("run start (UTC)")
        ax.set_ylabel(label(metric))
        _date_axis(ax)
        ax.legend(loc="best")

    return _render(draw, fmt)


def top(
    bars: Sequence[tuple[str, float]],
    *,
    metric: str,
    direction: str,
    baseline: float | None = None,
    baseline_name: str | None = None,
    highlight: str | None = None,
    fmt: str = "png",
) -> bytes:
    """Leaderboard bars, best on top, with the baseline as a reference line."""
    usable = [(name, value) for name, value in bars if _finite(value)]
    if not usable:
        raise LedgerError(f"no run has a value for {metric}: pass --metric or log it in your runs")
    height = min(2.0 + 0.38 * len(usable), 14.0)

    def draw(fig: Any) -> None:
        ax = fig.add_subplot()
        names = [label(n, 40) for n, _ in usable][::-1]
        values = [v for _, v in usable][::-1]
        colors = [BEST_COLOR if (highlight and n == label(highlight, 40)) else palette(1)[0] for n in names]
        positions = list(range(len(names)))
        ax.barh(positions, values, color=colors, height=0.65)
        ax.set_yticks(positions, labels=names)
        for pos, value in zip(positions, values):
            ax.annotate(
                f"{value:.4g}", (value, pos), textcoords="offset points", xytext=(3, 0), va="center", fontsize=8
            )
        if _finite(baseline):
            name = f"baseline ({label(baseline_name, 32)})" if baseline_name else "baseline"
            ax.axvline(float(baseline), color=BASELINE_COLOR, linestyle="--", linewidth=1.2, label=name)  # type: ignore[arg-type]
            ax.legend(loc="lower right")
        low = min([*values, *([float(baseline)] if _finite(baseline) else [])])  # type: ignore[arg-type]
        high = max([*values, *([float(baseline)] if _finite(baseline) else [])])  # type: ignore[arg-type]
        span = (high - low) or abs(high) or 1.0
        ax.set_xlim(min(0.0, low) if low >= 0 and low < span else low - 0.1 * span, high + 0.15 * span)
        ax.grid(axis="y", visible=False)
        ax.set_title(
            label(f"Top {len(usable)} runs by {metric} ({'higher' if direction == 'max' else 'lower'} is better)", 90)
        )
        ax.set_xlabel(label(metric))

    return _render(draw, fmt, height=height)


# ---------------------------------------------------------------------------- plot-data artifacts


def artifact(data: dict[str, Any], *, run: str, fmt: str = "png") -> bytes:
    """One of a run's plot-data artifacts (checked by `plot_data.load_plot_data`)."""
    from ledger.views.plot import artifacts as drawing

    kind = data["type"]
    title = {
        "confusion_matrix": "Confusion matrix",
        "roc_curve": "ROC curve",
        "feature_importance": "Feature importance",
        "residuals": "Residuals",
    }[kind]
    full_title = f"{title}: {label(run, 60)}"
    if kind == "confusion_matrix":
        n = len(data["matrix"])
        return _render(
            lambda fig: drawing.confusion(fig, data, full_title),
            fmt,
            width=max(5.0, 0.5 * n + 3),
            height=max(4.5, 0.5 * n + 2),
        )
    if kind == "roc_curve":
        return _render(lambda fig: drawing.roc(fig, data, full_title), fmt, width=6.0, height=5.5)
    if kind == "feature_importance":
        n = min(len(data["importances"]), 25)
        return _render(lambda fig: drawing.importance(fig, data, full_title), fmt, height=min(2.0 + 0.3 * n, 10.0))
    return _render(lambda fig: drawing.residuals(fig, data, full_title), fmt)


# ---------------------------------------------------------------------------- helpers


def palette(n: int) -> list[Any]:
    import matplotlib

    cmap = matplotlib.colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(max(n, 1))]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _axis_values(ax: Any, values: list[Any], axis: str) -> list[Any]:
    """Numbers stay numbers; anything else becomes evenly spaced, labelled categories."""
    if all(_is_number(v) for v in values):
        return [float(v) for v in values]
    categories = sorted({label(v, 24) for v in values})
    positions = [float(categories.index(label(v, 24))) for v in values]
    ticks = list(range(len(categories)))
    if axis == "x":
        ax.set_xticks(ticks, labels=categories, rotation=30 if len(categories) > 5 else 0)
    return positions


def _date_axis(ax: Any) -> None:
    from matplotlib import dates

    locator = dates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(dates.ConciseDateFormatter(locator))
