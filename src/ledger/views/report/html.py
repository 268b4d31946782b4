"""The report as one self-contained HTML file.

Images are inline `data:` URIs, the CSS is inline, there is no script, and a Content
Security Policy forbids every fetch, so the file opens offline and leaks nothing. Every
piece of record text goes through `esc` (control characters replaced, then HTML-escaped).
"""

from __future__ import annotations

import base64
from typing import Any

from ledger.views.report import text as t
from ledger.views.report.build import Report, failure
from ledger.views.report.html_parts import esc
from ledger.views.report.html_parts import table as _table
from ledger.views.report.html_provenance import compute as _compute
from ledger.views.report.html_provenance import provenance as _provenance
from ledger.views.report.style import CSS
from ledger.views.report.tried import param_text, params_of, short_names

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


def render(report: Report) -> str:
    """The whole report as one HTML document."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(report.title)}</title><style>{CSS}</style></head><body><main>",
        _header(report),
        _summary(report),
        _decision(report),
        _progress(report),
        _narrative(report),
        _runs(report),
        _history(report),
        _provenance(report),
        _compute(report),
        '<footer class="muted"><p>Made by ledger from the records in this repository.</p></footer>',
        "</main></body></html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


def _status(rec: dict[str, Any]) -> str:
    status = esc(rec.get("status"))
    return f'<span class="status {status}">{status}</span>'


def _run_name(rec: dict[str, Any] | None) -> str:
    if rec is None:
        return "—"
    return f"{esc(rec.get('name') or rec.get('id'))}<br><code>{esc(rec.get('id'))}</code>"


def _image(report: Report, name: str) -> str:
    for image in report.images:
        if image.name == name:
            data = base64.b64encode(image.png).decode("ascii")
            return (
                f'<figure><img src="data:image/png;base64,{data}" alt="{esc(image.title)}">'
                f"<figcaption>{esc(image.title)}</figcaption></figure>"
            )
    return ""


def _card(key: str, value: str, extra: str = "") -> str:
    return f'<div class="card"><div class="k">{key}</div><div class="v">{value}</div>{extra}</div>'


def _header(report: Report) -> str:
    where = f" from commit <code>{esc(t.short(report.commit))}</code>" if report.commit else ""
    branch = f" on branch {esc(report.branch)}" if report.branch else ""
    return (
        f'<header><h1>{esc(report.title)}</h1><p class="meta">Generated {esc(t.when(report.generated_at))}'
        f"{where}{branch}.</p></header>"
    )


def _summary(report: Report) -> str:
    m = report.metric
    cards = [
        _card(
            "runs",
            str(len(report.runs)),
            f'<div class="muted">{esc(", ".join(f"{n} {s}" for s, n in report.counts.items()))}</div>',
        )
    ]
    if m:
        best = report.best
        cards.append(_card(f"primary metric ({'higher' if report.direction == 'max' else 'lower'} is better)", esc(m)))
        if best:
            cards.append(
                _card(
                    f"best {esc(m)}",
                    esc(t.number((best.get("metrics") or {}).get(m))),
                    f'<div class="muted">{esc(best.get("name"))}</div>',
                )
            )
        if report.baseline:
            base = (report.baseline.get("metrics") or {}).get(m)
            cards.append(
                _card(
                    f"baseline {esc(m)}",
                    esc(t.number(base)),
                    f'<div class="muted">{esc(report.baseline.get("name"))}</div>',
                )
            )
            if best and isinstance(base, (int, float)):
                delta = (best.get("metrics") or {}).get(m, 0) - base
                cls = t.delta_class(delta, report.direction)
                cards.append(_card("best vs baseline", f'<span class="{cls}">{esc(t.number(delta, True))}</span>'))
    cards.append(_card("compute time", esc(t.duration(report.compute["wall_s"]))))
    cards.append(_card("cost", esc(t.costs(report.compute["cost"]))))
    secondary = (
        f'<p class="muted">Secondary metrics: {esc(", ".join(report.secondary))}</p>' if report.secondary else ""
    )
    return (
        f'<section id="summary"><h2>Summary</h2><div class="cards">{"".join(cards)}</div>'
        f"{_what_won(report)}{secondary}</section>"
    )


def _what_won(report: Report) -> str:
    """What varied between the runs, and the values the best (or selected) run has."""
    if not report.varied:
        return ""
    varied = ", ".join(f"<code>{esc(p)}</code>" for p in report.varied)
    lines = [f"<p><strong>What varied:</strong> {varied}.</p>"]
    winner = _selected(report) or report.best
    if winner is not None:
        mine = params_of(winner)
        shown = ", ".join(f"<code>{esc(p)}</code> = {esc(param_text(mine.get(p)))}" for p in report.varied)
        who = "the selected run" if winner is _selected(report) else "the best run"
        lines.append(f"<p><strong>What won:</strong> {who}, {esc(winner.get('name'))}, has {shown}.</p>")
    return "".join(lines)


def _selected(report: Report) -> dict[str, Any] | None:
    d = report.decision
    if d is None:
        return None
    return next((r for r in report.runs if r["id"] == d["run"]["id"]), None)


def _decision(report: Report) -> str:
    d = report.decision
    if d is None:
        return (
            '<section id="decision"><h2>Selected model</h2><p class="muted">No model has been selected yet '
            "(<code>ledger select ID --rationale TEXT</code>).</p></section>"
        )
    stage = f" · stage <strong>{esc(d['stage'])}</strong>" if d.get("stage") else ""
    who = d["selected_by"].get("name") or d["selected_by"].get("email") or "unknown"
    rationale = "".join(f"<p>{esc(p).replace(chr(10), '<br>')}</p>" for p in t.paragraphs(d["rationale"]))
    rows = []
    for row in report.comparison:
        cells = [esc(row["metric"]), esc(t.number(row["selected"]))]
        for key in ("baseline", "previous_best"):
            delta = row[f"{key}_delta"]
            cells += [
                esc(t.number(row[key])),
                f'<span class="{t.delta_class(delta, row["direction"])}">{esc(t.number(delta, True))}</span>',
            ]
        rows.append(cells)
    base, prev = report.baseline, report.previous_best
    headers = [
        "metric",
        "selected",
        f'baseline<br><span class="muted">{esc(base.get("name")) if base else "—"}</span>',
        "Δ vs baseline",
        f'previous best<br><span class="muted">{esc(prev.get("name")) if prev else "—"}</span>',
        "Δ vs previous best",
    ]
    params = _param_table(report)
    beaten = len(d.get("alternatives") or [])
    total = d.get("alternatives_total", beaten)
    return (
        f'<section id="decision"><h2>Selected model</h2><div class="decision">'
        f"<h3>{esc(d['model'])} {esc(d['version'])}{stage}</h3>"
        f"<p>Run {_run_name({'name': d['run']['name'], 'id': d['run']['id']})}</p>"
        f'<p class="muted">Selected by {esc(who)} on {esc(t.when(d["selected_at"]))}; '
        f"code <code>{esc(t.short(d['run'].get('commit')))}</code>; git tags "
        f"{esc(', '.join(d.get('tags') or []))}. It beat {total} other finished run(s) on the deciding metric.</p>"
        f"<blockquote>{rationale}</blockquote>"
        f"{_table(headers, rows, numeric=(1, 2, 3, 4, 5))}{params}</div></section>"
    )


def _param_table(report: Report) -> str:
    """The selected run's parameters beside the baseline's and the previous best's: those
    that varied between runs, and any other that differs from the baseline."""
    selected = _selected(report) or {"params": (report.decision or {}).get("run", {}).get("params") or {}}
    mine, base, prev = params_of(selected), params_of(report.baseline), params_of(report.previous_best)
    keys = list(report.varied) + sorted(k for k in mine if report.baseline and base.get(k) != mine.get(k))
    keys = list(dict.fromkeys(k for k in keys if k in mine or k in base))
    if not keys:
        return ""
    rows = [[f"<code>{esc(k)}</code>", *(esc(param_text(p.get(k))) for p in (mine, base, prev))] for k in keys]
    return "<h3>Parameters</h3>" + _table(["parameter", "selected", "baseline", "previous best"], rows)


def _progress(report: Report) -> str:
    if not report.metric:
        return ""
    m = report.metric
    secondary = report.shown_secondary(report.leaderboard)
    varied = report.varied[:4]
    rows, classes = [], []
    for i, r in enumerate(report.leaderboard, 1):
        metrics = r.get("metrics") or {}
        mine = params_of(r)
        rows.append(
            [
                str(i),
                _run_name(r),
                esc(t.number(metrics.get(m))),
                *(esc(t.number(metrics.get(s))) for s in secondary),
                *(esc(param_text(mine.get(p))) for p in varied),
                esc(t.when(r.get("started_at"))),
            ]
        )
        classes.append("baseline" if report.baseline and r["id"] == report.baseline["id"] else "")
    names = [f"<code>{esc(n)}</code>" for n in short_names(varied)]
    headers = ["rank", "run", esc(m), *(esc(s) for s in secondary), *names, "started"]
    numeric = tuple(range(2, 3 + len(secondary)))
    body = (
        _table(headers, rows, numeric=(0, *numeric), row_classes=classes)
        if rows
        else "<p>No finished run has this metric yet.</p>"
    )
    focus = "selected" if report.decision else "best"
    extra = "".join(
        _image(report, name) for name in ("curves", "confusion-matrix", "roc-curve", "feature-importance", "residuals")
    )
    return (
        f'<section id="progress"><h2>Progress and leaderboard</h2>{_image(report, "progress")}'
        f"<h3>Leaderboard</h3>{body}{_image(report, 'leaderboard')}"
        f"{f'<h3>The {focus} run in detail</h3>' + extra if extra else ''}</section>"
    )


def _paras(text: Any) -> str:
    return "".join(f"<p>{esc(p).replace(chr(10), '<br>')}</p>" for p in t.paragraphs(text))


def _narrative(report: Report) -> str:
    items = []
    for entry in report.story:
        runs = entry["runs"]
        first = runs[0]
        if len(runs) == 1:
            head = f"<strong>{esc(first.get('name'))}</strong> {_status(first)}"
        else:  # a sweep: its description once, then what varied and how its points ended
            counts = ", ".join(f"{n} {s}" for s, n in entry["counts"].items())
            varied = ", ".join(f"<code>{esc(p)}</code>" for p in entry["varied"]) or "nothing"
            head = f"<strong>A sweep of {len(runs)} runs</strong> ({esc(counts)}); varied: {varied}"
        notes = "".join(
            _paras(text) if len(runs) == 1 else f"<p><em>{esc(r.get('name'))}:</em></p>{_paras(text)}"
            for r, text in entry["notes"]
        )
        points = ""
        if len(runs) > 1:
            points = '<p class="params">' + "; ".join(
                f"{esc(r.get('name'))} {_status(r)}" for r in runs
            ) + "</p>"  # fmt: skip
        items.append(
            f'<li>{head} <span class="muted">{esc(t.when(first.get("started_at")))}</span>'
            f"{_paras(entry['description'])}{points}{notes}</li>"
        )
    body = (
        f'<ol class="story">{"".join(items)}</ol>'
        if items
        else '<p class="muted">No run has a description or notes.</p>'
    )
    return f'<section id="narrative"><h2>What was tried, in order</h2>{body}</section>'


def _runs(report: Report) -> str:
    cols = [m for m in [report.metric, *report.shown_secondary(report.runs)[:3]] if m]
    names = short_names(report.varied)
    rows, classes = [], []
    for r in report.runs:
        metrics = r.get("metrics") or {}
        mine = params_of(r)
        tried = ", ".join(f"{n}={param_text(mine.get(p))}" for n, p in zip(names, report.varied, strict=True))
        rows.append(
            [
                _run_name(r),
                _status(r),
                esc(t.when(r.get("started_at"))),
                esc(t.duration(r.get("duration_s"))),
                *(esc(t.number(metrics.get(c))) for c in cols),
                f'<span class="params">{esc(tried)}</span>',
                esc(failure(r)),
            ]
        )
        classes.append(esc(r.get("status")))
    headers = ["run", "status", "started", "duration", *(esc(c) for c in cols), "parameters",
               "why it did not finish"]  # fmt: skip
    table = _table(headers, rows, numeric=tuple(range(3, 4 + len(cols))), row_classes=classes)
    return f'<section id="runs"><h2>Every run ({len(report.runs)})</h2>{table}</section>'


def _history(report: Report) -> str:
    if not report.decisions:
        return ""
    rows = [
        [
            esc(d["model"]),
            esc(d["version"]),
            esc(d.get("stage") or "—"),
            esc(d["run"]["name"]),
            esc(t.number((d.get("metric") or {}).get("value"))),
            esc(t.when(d["selected_at"])),
            esc(d["selected_by"].get("name") or "—"),
            esc(t.first_line(d["rationale"])),
        ]
        for d in report.decisions
    ]
    headers = ["model", "version", "stage", "run", "value", "selected", "by", "rationale"]
    return f'<section id="decisions"><h2>Decision history</h2>{_table(headers, rows, numeric=(4,))}</section>'
