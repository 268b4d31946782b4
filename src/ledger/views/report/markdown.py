"""The report as Markdown, with its charts written as PNG files next to it.

Record text can never inject HTML or markup: `<`, `>` and `&` become entities, markdown
punctuation (pipes, emphasis, links, `$` math) is backslash-escaped, and table cells are
kept on one line.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from ledger.views.report import text as t
from ledger.views.report.build import Report, failure
from ledger.views.report.tried import param_text, params_of, short_names

_PUNCT = re.compile(r"([\\`*_{}\[\]()#+\-!|$~=])")


def md(value: Any) -> str:
    """Record text as inert Markdown (paragraph-safe: line starts are escaped too)."""
    text = html.escape(t.clean(value), quote=False)
    text = _PUNCT.sub(r"\\\1", text)
    return re.sub(r"(?m)^(\s*\d+)\.", r"\1\\.", text)


def cell(value: Any) -> str:
    """Record text for a table cell: escaped and on one line."""
    return re.sub(r"\s*[\r\n]+\s*", " ", md(value))


def code(value: Any) -> str:
    """Record text as an inline code span (no markup inside; pipes escaped for tables)."""
    text = re.sub(r"\s+", " ", t.clean(value)).replace("`", "'").replace("|", "\\|")
    return f"`{text}`"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _run(rec: dict[str, Any] | None) -> str:
    return f"{cell(rec.get('name') or rec.get('id'))} ({code(rec.get('id'))})" if rec else "—"


def render(report: Report, image_dir: str) -> str:
    """The Markdown text; images are linked as `<image_dir>/<name>.png` (URL-quoted)."""
    out = [f"# {cell(report.title)}", ""]
    where = f" from commit `{t.short(report.commit)}`" if report.commit else ""
    branch = f" on branch {cell(report.branch)}" if report.branch else ""
    out += [f"Generated {t.when(report.generated_at)}{where}{branch}.", ""]
    images = {image.name: image for image in report.images}

    def image(name: str) -> list[str]:
        if name not in images:
            return []
        return [f"![{cell(images[name].title)}]({quote(image_dir)}/{name}.png)", ""]

    m = report.metric
    out += ["## Summary", ""]
    counts = ", ".join(f"{n} {s}" for s, n in report.counts.items())
    out.append(f"- **Runs:** {len(report.runs)} ({counts or 'none'})")
    if m:
        out.append(f"- **Primary metric:** {cell(m)} ({'higher' if report.direction == 'max' else 'lower'} is better)")
        if report.best:
            out.append(f"- **Best:** {t.number((report.best.get('metrics') or {}).get(m))} by {_run(report.best)}")
        if report.baseline:
            out.append(
                f"- **Baseline:** {t.number((report.baseline.get('metrics') or {}).get(m))} by {_run(report.baseline)}"
            )
    if report.varied:
        out.append(f"- **What varied:** {', '.join(code(p) for p in report.varied)}")
        selected = next((r for r in report.runs if report.decision and r["id"] == report.decision["run"]["id"]), None)
        winner = selected or report.best
        if winner is not None:
            mine = params_of(winner)
            shown = ", ".join(f"{code(p)} = {cell(param_text(mine.get(p)))}" for p in report.varied)
            who = "the selected run" if selected is not None else "the best run"
            out.append(f"- **What won:** {who}, {cell(winner.get('name'))}, has {shown}")
    if report.secondary:
        out.append(f"- **Secondary metrics:** {', '.join(cell(s) for s in report.secondary)}")
    out.append(
        f"- **Compute:** {t.duration(report.compute['wall_s'])} wall time, cost {t.costs(report.compute['cost'])}"
    )
    out.append("")

    out += ["## Selected model", ""]
    d = report.decision
    if d is None:
        out += ["No model has been selected yet (`ledger select ID --rationale TEXT`).", ""]
    else:
        stage = f", stage **{cell(d['stage'])}**" if d.get("stage") else ""
        who = d["selected_by"].get("name") or d["selected_by"].get("email") or "unknown"
        out += [
            f"**{cell(d['model'])} {cell(d['version'])}**{stage}: run {_run(d['run'])}, selected by "
            f"{cell(who)} on {t.when(d['selected_at'])} (tags: {cell(', '.join(d.get('tags') or []))}).",
            "",
        ]
        out += ["> " + md(p).replace("\n", "  \n> ") for p in t.paragraphs(d["rationale"])]
        out.append("")
        rows = [
            [
                cell(r["metric"]),
                t.number(r["selected"]),
                t.number(r["baseline"]),
                t.number(r["baseline_delta"], True),
                t.number(r["previous_best"]),
                t.number(r["previous_best_delta"], True),
            ]
            for r in report.comparison
        ]
        if rows:
            base = cell(report.baseline.get("name")) if report.baseline else "—"
            prev = cell(report.previous_best.get("name")) if report.previous_best else "—"
            out += [_table(["metric", "selected", f"baseline ({base})", "Δ", f"previous best ({prev})", "Δ"], rows), ""]

    if m:
        out += ["## Progress and leaderboard", "", *image("progress")]
        secondary = report.shown_secondary(report.leaderboard)
        varied = report.varied[:4]
        rows = [
            [
                str(i),
                _run(r),
                t.number((r.get("metrics") or {}).get(m)),
                *(t.number((r.get("metrics") or {}).get(s)) for s in secondary),
                *(cell(param_text(params_of(r).get(p))) for p in varied),
            ]
            for i, r in enumerate(report.leaderboard, 1)
        ]
        headers = ["rank", "run", cell(m), *(cell(s) for s in secondary), *(code(n) for n in short_names(varied))]
        out += [_table(headers, rows), ""] if rows else []
        out += image("leaderboard")
        for name in ("curves", "confusion-matrix", "roc-curve", "feature-importance", "residuals"):
            out += image(name)

    out += ["## What was tried, in order", ""]
    if not report.story:
        out.append("No run has a description or notes.")
    for entry in report.story:
        runs = entry["runs"]
        first = runs[0]
        if len(runs) == 1:
            out.append(
                f"1. **{cell(first.get('name'))}** ({cell(first.get('status'))}, {t.when(first.get('started_at'))})"
            )
        else:
            counts = ", ".join(f"{n} {s}" for s, n in entry["counts"].items())
            swept = ", ".join(code(p) for p in entry["varied"]) or "nothing"
            out.append(
                f"1. **A sweep of {len(runs)} runs** ({counts}, {t.when(first.get('started_at'))}); varied: {swept}"
            )
        out += ["   " + md(p).replace("\n", "  \n   ") for p in t.paragraphs(entry["description"])]
        if len(runs) > 1:
            out.append("   " + "; ".join(f"{cell(r.get('name'))} ({cell(r.get('status'))})" for r in runs))
        for r, text in entry["notes"]:
            prefix = f"*{cell(r.get('name'))}:* " if len(runs) > 1 else ""
            out += ["   " + prefix + md(p).replace("\n", "  \n   ") for p in t.paragraphs(text)]
    out.append("")

    cols = [c for c in [m, *report.shown_secondary(report.runs)[:3]] if c]
    names = short_names(report.varied)
    rows = [
        [
            _run(r),
            cell(r.get("status")),
            t.when(r.get("started_at")),
            t.duration(r.get("duration_s")),
            *(t.number((r.get("metrics") or {}).get(c)) for c in cols),
            cell(
                ", ".join(f"{n}={param_text(params_of(r).get(p))}" for n, p in zip(names, report.varied, strict=True))
            ),
            cell(failure(r)),
        ]
        for r in report.runs
    ]
    headers = ["run", "status", "started", "duration", *(cell(c) for c in cols), "parameters", "why it did not finish"]
    out += [f"## Every run ({len(report.runs)})", "", _table(headers, rows), ""]

    if report.decisions:
        rows = [
            [
                cell(x["model"]),
                cell(x["version"]),
                cell(x.get("stage") or "—"),
                cell(x["run"]["name"]),
                t.number((x.get("metric") or {}).get("value")),
                t.when(x["selected_at"]),
                cell(x["selected_by"].get("name") or "—"),
                cell(t.first_line(x["rationale"])),
            ]
            for x in report.decisions
        ]
        out += [
            "## Decision history",
            "",
            _table(["model", "version", "stage", "run", "value", "selected", "by", "rationale"], rows),
            "",
        ]

    out += ["## Data, code and environment", "", "### Data versions", ""]
    rows = [
        [
            cell(x["path"]),
            code(t.short(x["hash"], 12)),
            t.size(x.get("size")),
            cell(x.get("source") or "—"),
            str(x["runs"]),
        ]
        for x in report.data_versions
    ]
    out += [
        _table(["path", "hash", "size", "source", "runs"], rows) if rows else "No data versions recorded.",
        "",
    ]
    if report.data_left_out:
        parts = [f"{n} {'pipeline output' if k == 'outputs' else 'code file'}{'s' if n != 1 else ''}"
                 for k, n in report.data_left_out.items()]  # fmt: skip
        out += [f"Not listed: {' and '.join(parts)} (code is versioned by its commit; outputs are in each record).", ""]
    out += ["### Code commits", ""]
    rows = [
        [
            code(t.short(x["commit"])),
            cell(x.get("branch") or "—"),
            str(x["runs"]),
            str(x["dirty_runs"]),
            t.when(x.get("first")),
        ]
        for x in report.commits
    ]
    out += [
        _table(["commit", "branch", "runs", "with local changes", "first run"], rows)
        if rows
        else "No commits recorded.",
        "",
    ]
    out += ["### Environments", ""]
    rows = [
        [
            code(t.short(x.get("env"), 12)),
            cell(f"{x.get('implementation') or ''} {x.get('python') or ''}".strip() or "—"),
            cell(x.get("platform") or "—"),
            cell(x.get("cpu") or "—"),
            cell(x.get("gpus") or "—"),
            str(x["runs"]),
        ]
        for x in report.environments
    ]
    out += [
        _table(["environment", "python", "platform", "cpu", "gpus", "runs"], rows)
        if rows
        else "No environment recorded.",
        "",
    ]

    c = report.compute
    out += [
        "## Compute and cost",
        "",
        _table(
            ["runs", "wall time", "CPU time", "GPU time", "cost"],
            [
                [
                    str(c["runs"]),
                    t.duration(c["wall_s"]),
                    t.duration(c["cpu_s"]),
                    t.duration(c["gpu_s"]),
                    t.costs(c["cost"]),
                ]
            ],
        ),
        "",
    ]
    if c.get("system"):
        out += ["Sampled during the runs:", "", _table(t.SYSTEM_HEADERS, [t.system_row(c["system"])]), ""]
    return "\n".join(out).rstrip("\n") + "\n"
