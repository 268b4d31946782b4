"""The HTML report's provenance and compute sections: data versions (the inputs), code
commits, environments, compute time and cost."""

from __future__ import annotations

from ledger.views.report import text as t
from ledger.views.report.build import Report
from ledger.views.report.html_parts import esc
from ledger.views.report.html_parts import table as _table


def provenance(report: Report) -> str:
    data = [
        [
            esc(d["path"]),
            f"<code>{esc(t.short(d['hash'], 12))}</code>",
            esc(t.size(d.get("size"))),
            esc(d.get("source") or "—"),
            str(d["runs"]),
        ]
        for d in report.data_versions
    ]
    code = [
        [
            f"<code>{esc(t.short(c['commit']))}</code>",
            esc(c.get("branch") or "—"),
            str(c["runs"]),
            str(c["dirty_runs"]),
            esc(t.when(c.get("first"))),
        ]
        for c in report.commits
    ]
    envs = [
        [
            f"<code>{esc(t.short(e.get('env'), 12))}</code>",
            esc(f"{e.get('implementation') or ''} {e.get('python') or ''}".strip() or "—"),
            esc(e.get("platform") or "—"),
            esc(e.get("cpu") or "—"),
            esc(e.get("gpus") or "—"),
            str(e["runs"]),
        ]
        for e in report.environments
    ]
    return (
        '<section id="provenance"><h2>Data, code and environment</h2>'
        "<h3>Data versions</h3>"
        + (
            _table(["path", "hash", "size", "source", "runs"], data, numeric=(2, 4))
            if data
            else '<p class="muted">No data versions recorded.</p>'
        )
        + _left_out(report)
        + "<h3>Code commits</h3>"
        + (
            _table(["commit", "branch", "runs", "with local changes", "first run"], code, numeric=(2, 3))
            if code
            else '<p class="muted">No commits recorded.</p>'
        )
        + "<h3>Environments</h3>"
        + (
            _table(["environment", "python", "platform", "cpu", "gpus", "runs"], envs, numeric=(5,))
            if envs
            else '<p class="muted">No environment recorded.</p>'
        )
        + "</section>"
    )


def _left_out(report: Report) -> str:
    parts = [f"{n} {'pipeline output' if k == 'outputs' else 'code file'}{'s' if n != 1 else ''}"
             for k, n in report.data_left_out.items()]  # fmt: skip
    if not parts:
        return ""
    return (
        f'<p class="muted">The data the runs read. Not listed: {esc(" and ".join(parts))} '
        "(code is versioned by its commit; outputs are in each run's record).</p>"
    )


def compute(report: Report) -> str:
    c = report.compute
    rows = [
        [
            str(c["runs"]),
            esc(t.duration(c["wall_s"])),
            esc(t.duration(c["cpu_s"])),
            esc(t.duration(c["gpu_s"])),
            esc(t.costs(c["cost"])),
        ]
    ]
    table = _table(["runs", "wall time", "CPU time", "GPU time", "cost"], rows, numeric=(0, 1, 2, 3, 4))
    system = c.get("system")
    if system:
        sampled = [[esc(cell) for cell in t.system_row(system)]]
        table += "<h3>Sampled during the runs</h3>" + _table(t.SYSTEM_HEADERS, sampled, numeric=(0, 1, 2, 3, 4))
    return f'<section id="compute"><h2>Compute and cost</h2>{table}</section>'
