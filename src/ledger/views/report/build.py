"""The client report: what was tried, what won and why, from the records alone.

`build` gathers everything the report shows into plain data (a `Report`); `report_html` and
`report_md` only lay it out. Record text stays raw here: each renderer escapes it for its
own format.
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger import gitstore, registry
from ledger.core import record
from ledger.core.workspace import Workspace
from ledger.errors import LedgerError, UsageError
from ledger.read import query
from ledger.read.api import Loaded
from ledger.views.plot import data as plot_data
from ledger.views.report.tried import data_versions as _data_versions
from ledger.views.report.tried import story as _story
from ledger.views.report.tried import varied_params

MAX_SECONDARY = 6
LEADERBOARD_SIZE = 10


@dataclass(frozen=True)
class Image:
    name: str  # file stem, e.g. "progress"
    title: str
    png: bytes


@dataclass
class Report:
    title: str
    generated_at: str
    commit: str | None
    branch: str | None
    metric: str | None
    direction: str
    secondary: list[str]
    runs: list[dict[str, Any]]  # every run, oldest first
    counts: dict[str, int]
    leaderboard: list[dict[str, Any]]
    best: dict[str, Any] | None
    baseline: dict[str, Any] | None
    decision: dict[str, Any] | None
    decisions: list[dict[str, Any]]
    comparison: list[dict[str, Any]]  # metric rows: selected vs baseline vs previous best
    previous_best: dict[str, Any] | None
    data_versions: list[dict[str, Any]]
    commits: list[dict[str, Any]]
    environments: list[dict[str, Any]]
    compute: dict[str, Any]
    images: list[Image] = field(default_factory=list)
    varied: list[str] = field(default_factory=list)  # params whose values differ between runs
    story: list[dict[str, Any]] = field(default_factory=list)  # "what was tried", grouped
    data_left_out: dict[str, int] = field(default_factory=dict)  # outputs and code not listed

    def shown_secondary(self, records: list[dict[str, Any]]) -> list[str]:
        """The secondary metrics at least one of `records` has (no empty columns)."""
        return [m for m in self.secondary if any(m in (r.get("metrics") or {}) for r in records)]


def build(
    ws: Workspace,
    items: list[Loaded],
    *,
    context: list[Loaded] | None = None,
    metric: str | None = None,
    title: str | None = None,
    images: bool = True,
) -> Report:
    """Everything the report shows about `items` (the runs it covers, filtered by the caller).

    The baseline, the selected model and the previous best are looked up in `context` (all
    runs; default `items`), so a filtered report still compares against them.
    """
    context = items if context is None else context
    records = sorted((i.record for i in items), key=lambda r: (str(r.get("started_at") or ""), r["id"]))
    everything = [i.record for i in context]
    metric = metric or ws.config.primary_metric or _most_common_metric(records)
    direction = ws.config.direction(metric) if metric else "max"
    finished = [r for r in records if r.get("status") == "finished"]
    ranked = [r for r in query.leaderboard(finished, metric, direction) if _has(r, metric)] if metric else []
    baseline_item = registry.resolve_baseline(ws, context)
    decisions = registry.load_decisions(ws)
    ids = {r["id"] for r in everything}
    decision = next((d for d in reversed(decisions) if d["run"]["id"] in ids), None)
    selected = next((r for r in everything if decision and r["id"] == decision["run"]["id"]), None)
    baseline = baseline_item.record if baseline_item else None
    previous_best = _previous_best(everything, selected, metric, direction)
    secondary = _secondary_metrics(finished or records, metric)
    state = gitstore.head_state(ws.root)
    data_versions, left_out = _data_versions(records)
    report = Report(
        title=title or f"{ws.config.experiment} — experiment report",
        generated_at=record.timestamp(record.utcnow()),
        commit=state.commit,
        branch=state.branch,
        metric=metric,
        direction=direction,
        secondary=secondary,
        runs=records,
        counts=dict(sorted(Counter(str(r.get("status")) for r in records).items())),
        leaderboard=ranked[:LEADERBOARD_SIZE],
        best=ranked[0] if ranked else None,
        baseline=baseline,
        decision=decision,
        decisions=decisions,
        comparison=_comparison(selected, baseline, previous_best, [m for m in [metric, *secondary] if m], ws),
        previous_best=previous_best,
        data_versions=data_versions,
        commits=_commits(records),
        environments=_environments(records),
        compute=_compute(records),
        varied=varied_params(records),
        story=_story(records),
        data_left_out=left_out,
    )
    if images:
        report.images = _images(ws, context, report, selected)
    return report


def _has(rec: dict[str, Any], metric: str) -> bool:
    value = query.metric_value(rec, metric)
    return value is not None and not math.isnan(value)


def _most_common_metric(records: list[dict[str, Any]]) -> str | None:
    counts = Counter(name for r in records for name in (r.get("metrics") or {}))
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0][0] if counts else None


def _secondary_metrics(records: list[dict[str, Any]], metric: str | None) -> list[str]:
    counts = Counter(name for r in records for name in (r.get("metrics") or {}) if name != metric)
    return [name for name, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_SECONDARY]]


def _previous_best(
    records: list[dict[str, Any]], selected: dict[str, Any] | None, metric: str | None, direction: str
) -> dict[str, Any] | None:
    """The best finished run that started before the selected one: what it improved on."""
    if not selected or not metric:
        return None
    before = [
        r
        for r in records
        if r["id"] != selected["id"]
        and r.get("status") == "finished"
        and str(r.get("started_at") or "") < str(selected.get("started_at") or "")
        and _has(r, metric)
    ]
    ranked = query.leaderboard(before, metric, direction, 1)
    return ranked[0] if ranked else None


def _comparison(
    selected: dict[str, Any] | None,
    baseline: dict[str, Any] | None,
    previous: dict[str, Any] | None,
    metrics: list[str],
    ws: Workspace,
) -> list[dict[str, Any]]:
    if selected is None:
        return []
    rows = []
    for name in metrics:
        value = query.metric_value(selected, name)
        if value is None and all(query.metric_value(o, name) is None for o in (baseline, previous) if o):
            continue  # a metric none of the three has: no row of dashes
        row: dict[str, Any] = {"metric": name, "direction": ws.config.direction(name), "selected": value}
        for key, other in (("baseline", baseline), ("previous_best", previous)):
            theirs = query.metric_value(other, name) if other else None
            row[key] = theirs
            row[f"{key}_delta"] = value - theirs if value is not None and theirs is not None else None
        rows.append(row)
    return rows


def _pruned(rec: dict[str, Any]) -> str:
    trial = rec.get("trial")
    trial = trial if isinstance(trial, dict) else {}
    return f"stopped early by the pruner at step {trial.get('pruned_step')} (trial {trial.get('number')})"


def failure(rec: dict[str, Any]) -> str:
    """Why a run did not finish, in one line (empty for a finished run)."""
    if rec.get("status") == "finished":
        return ""
    err = rec.get("error") or {}
    parts = []
    if err.get("type") or err.get("message"):
        parts.append(": ".join(str(p) for p in (err.get("type"), err.get("message")) if p))
    if err.get("signal"):
        parts.append(f"signal {err['signal']}")
    elif err.get("exit_code") is not None:
        parts.append(f"exit code {err['exit_code']}")
    if not parts:
        parts.append(
            {
                "crashed": "the process died without reporting (found later)",
                "running": "still running",
                "pruned": _pruned(rec),
            }.get(str(rec.get("status")), "no error recorded")
        )
    return "; ".join(parts)


def _commits(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for r in records:
        code = r.get("code") or {}
        sha = code.get("commit")
        if not sha:
            continue
        entry = found.setdefault(
            sha, {"commit": sha, "branch": code.get("branch"), "runs": 0, "dirty_runs": 0, "first": r.get("started_at")}
        )
        entry["runs"] += 1
        entry["dirty_runs"] += 1 if code.get("dirty") else 0
    return sorted(found.values(), key=lambda e: (str(e["first"]), e["commit"]))


def _environments(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in records:
        env, hw = r.get("env") or {}, r.get("hardware") or {}
        gpus = ", ".join(sorted({str(g.get("name")) for g in hw.get("gpus") or []}))
        key = (env.get("id"), env.get("python"), env.get("platform"), hw.get("cpu"), gpus)
        entry = found.setdefault(
            key,
            {
                "env": env.get("id"),
                "python": env.get("python"),
                "implementation": env.get("implementation"),
                "platform": env.get("platform"),
                "cpu": hw.get("cpu"),
                "cores": hw.get("cores"),
                "gpus": gpus,
                "runs": 0,
            },
        )
        entry["runs"] += 1
    return sorted(found.values(), key=lambda e: (-e["runs"], str(e["env"])))


def _compute(records: list[dict[str, Any]]) -> dict[str, Any]:
    wall = cpu = gpu = 0.0
    costs: dict[str, float] = {}
    for r in records:
        res = r.get("resources") or {}
        wall += _num(r.get("duration_s")) or _num(res.get("wall_s"))
        cpu += _num(res.get("cpu_s"))
        gpu += _num(res.get("gpu_s"))
        cost = r.get("cost") or {}
        if _num(cost.get("amount")):
            currency = str(cost.get("currency") or "USD")
            costs[currency] = costs.get(currency, 0.0) + _num(cost.get("amount"))
    return {
        "runs": len(records),
        "wall_s": wall,
        "cpu_s": cpu,
        "gpu_s": gpu,
        "cost": {k: round(v, 6) for k, v in sorted(costs.items())},
        "system": system_summary(records),
    }


def system_summary(records: list[dict[str, Any]]) -> dict[str, Any] | None:
    """What the sampled system metrics (each record's `system` summary) say over all runs:
    mean CPU %, peak process memory, peak GPU memory and mean GPU utilisation; None when no
    run was sampled."""
    sampled = [m for m in (((r.get("system") or {}).get("metrics") or {}) for r in records) if m]
    if not sampled:
        return None

    def values(stat: str, pattern: str) -> list[float]:
        name = re.compile(pattern)
        return [
            _num(summary.get(stat))
            for metrics in sampled
            for key, summary in metrics.items()
            if isinstance(summary, dict) and name.fullmatch(key)
        ]

    def mean(found: list[float]) -> float | None:
        return sum(found) / len(found) if found else None

    gpu = r"system/(?:rank\d+/)?gpu\d+/"
    return {
        "runs": len(sampled),
        "cpu_percent": mean(values("mean", "system/cpu_percent")),
        "peak_rss_bytes": max(values("max", "system/process_rss_bytes"), default=None),
        "peak_gpu_memory_bytes": max(values("max", gpu + "memory_used_bytes"), default=None),
        "gpu_utilization_percent": mean(values("mean", gpu + "utilization_percent")),
    }


def _num(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return 0.0


def _images(ws: Workspace, items: list[Loaded], report: Report, selected: dict[str, Any] | None) -> list[Image]:
    from ledger.views.plot import charts as plot

    out: list[Image] = []
    metric, direction = report.metric, report.direction
    base_value = query.metric_value(report.baseline, metric) if report.baseline and metric else None
    base_name = plot_data.display_name(report.baseline) if report.baseline else None
    if metric and report.leaderboard:
        points = plot_data.metric_points(report.runs, metric)
        out.append(
            Image(
                "progress",
                f"Progress: {metric} over time, best so far and the baseline",
                plot.progress(points, metric=metric, direction=direction, baseline=base_value, baseline_name=base_name),
            )
        )
        names = plot_data.display_names(report.leaderboard)
        bars = [(n, query.metric_value(r, metric) or 0.0) for n, r in zip(names, report.leaderboard, strict=True)]
        chosen = [n for n, r in zip(names, report.leaderboard, strict=True) if selected and r["id"] == selected["id"]]
        out.append(
            Image(
                "leaderboard",
                f"Top {len(bars)} runs by {metric}",
                plot.top(
                    bars,
                    metric=metric,
                    direction=direction,
                    baseline=base_value,
                    baseline_name=base_name,
                    highlight=chosen[0] if chosen else None,
                ),
            )
        )
    focus = selected or report.best
    if focus is not None:
        item = next((i for i in items if i.record["id"] == focus["id"]), None)
        lines = plot_data.curve_lines(ws, [item], None) if item else []
        if lines:
            out.append(Image("curves", f"Learning curves of {plot_data.display_name(focus)}", plot.curves(lines)))
        for art in plot_data.plot_artifacts(focus) if item else []:
            try:
                data = plot_data.load_plot_data(ws, item, art)  # type: ignore[arg-type]
            except LedgerError:
                continue  # a missing or malformed artifact costs its chart, not the report
            stem = str(data["type"]).replace("_", "-")
            out.append(
                Image(
                    stem,
                    f"{stem.replace('-', ' ').capitalize()} of {plot_data.display_name(focus)}",
                    plot.artifact(data, run=plot_data.display_name(focus)),
                )
            )
    return out


def check_output(path: Path) -> str:
    """`.html` or `.md` for a report file name; UsageError for anything else."""
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        return ".html"
    if suffix in (".md", ".markdown"):
        return ".md"
    raise UsageError(f"unknown report format {path.suffix or path.name!r}: name the file .html or .md")


def write(report: Report, path: Path) -> list[Path]:
    """Write the report as HTML or Markdown by the file's extension; returns the files written."""
    from ledger.views.report import html as report_html
    from ledger.views.report import markdown as report_md

    suffix = check_output(path)
    if suffix == ".html":
        write_file(path, report_html.render(report).encode("utf-8"))
        return [path]
    folder = path.with_name(f"{path.stem}_files")
    written = []
    for image in report.images:
        target = folder / f"{image.name}.png"
        write_file(target, image.png)
        written.append(target)
    write_file(path, report_md.render(report, folder.name).encode("utf-8"))
    return [path, *written]


def write_file(path: Path, data: bytes) -> None:
    """Write atomically, readable like any file the user creates (reports are for sharing)."""
    from ledger.core import yamlio

    yamlio.write_atomic(path, data)
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, 0o666 & ~mask)
