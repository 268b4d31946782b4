"""The pull-request comment: a review as GitHub-flavoured markdown.

A short summary first, then one table of the runs, then the details in collapsible
sections. Every piece of text that comes from a record is untrusted (it may come from a
fork): `escape` turns it into inert text, so a record can neither inject markdown, HTML,
links or mentions, nor forge the hidden marker the CI workflow uses to find its comment.
"""

from __future__ import annotations

import html
import math
import re
from typing import Any

from ledger.core import redact
from ledger.core.fields import flatten
from ledger.views.review.model import Entry, Review

MARKER = "<!-- ledger-diff -->"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_INLINE = re.compile(r"([\\`*_\[\]|~!#()])")
_WORD_JOINER = "\u2060"
_MAX_UNREADABLE = 50  # a PR comment holds at most 65,536 characters
_VERDICT = {
    "better": "✅ better", "worse": "❌ worse", "equal": "➖ equal", "failed": "💥 failed",
    "killed": "💥 killed", "crashed": "💥 crashed", "running": "⏳ running",
    "pruned": "✂️ pruned",
}  # fmt: skip


def escape_html(value: Any, limit: int = 120) -> str:
    """Untrusted text as one inert line inside HTML (a `<summary>`)."""
    text = redact.redact_text(_CONTROL.sub(" ", str(value)))  # never repeat a leaked secret
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = html.escape(text, quote=False)
    # Break what GitHub would turn into a link or a notification.
    text = text.replace("@", "@" + _WORD_JOINER).replace("://", _WORD_JOINER + "://")
    return re.sub(r"(?i)\bwww\.", "www" + _WORD_JOINER + ".", text)


def escape(value: Any, limit: int = 120) -> str:
    """Untrusted text as one inert line of markdown (also safe inside a table cell)."""
    return _INLINE.sub(r"\\\1", escape_html(value, limit))


def number(value: float | None, signed: bool = False) -> str:
    if value is None:
        return ""
    if math.isnan(value):
        return "nan"
    return f"{value:+.4g}" if signed else f"{value:.6g}"


def _run(rec: dict[str, Any] | None) -> str:
    if rec is None:
        return "none"
    return f"{escape(rec.get('name') or rec['id'], 60)} (`{escape(rec['id'], 80)}`)"


def _value(rec: dict[str, Any], metric: str | None) -> float | None:
    value = (rec.get("metrics") or {}).get(metric) if metric else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _headline(rv: Review) -> str:
    if rv.regression or rv.blocked:
        icon = "❌"
    elif rv.summary.startswith("improvement"):
        icon = "✅"
    else:
        icon = "ℹ️"
    return f"{icon} **{escape(rv.summary, 200)}**"


def _facts(rv: Review) -> list[str]:
    added = sum(e.change == "added" for e in rv.entries)
    changed = len(rv.entries) - added
    counts = f"{added} run{'s' if added != 1 else ''} added, {changed} changed"
    if rv.failed:
        counts += f" ({len(rv.failed)} did not finish)"
    base = f"`{escape(rv.base, 60)}` at `{rv.base_commit[:8]}`"
    lines = [f"- {counts}, compared with {base}"]
    if rv.metric:
        better = "higher" if rv.direction == "max" else "lower"
        lines.append(f"- primary metric: `{escape(rv.metric, 60)}` ({better} is better)")
    if rv.best_new is not None:
        line = f"- best new run: {_run(rv.best_new.record)}: **{number(rv.best_new.value)}**"
        if rv.bar is not None and rv.best_new.value is not None:
            line += f" ({number(rv.best_new.value - rv.bar, signed=True)} vs {number(rv.bar)})"
        lines.append(line)
    best = rv.best_on_base
    lines.append(f"- best on base: {_run(best)}" + (f": {number(_value(best, rv.metric))}" if best else ""))
    base_line = rv.baseline
    lines.append(f"- baseline: {_run(base_line)}" + (f": {number(_value(base_line, rv.metric))}" if base_line else ""))
    if rv.unreadable:
        lines.append(
            f"- ❌ {len(rv.unreadable):,} unreadable record{'s' if len(rv.unreadable) != 1 else ''} "
            "added or changed on this branch: the gate fails until they are fixed or removed"
        )
    if rv.warning_count:
        lines.append(f"- ⚠️ {rv.warning_count} warning{'s' if rv.warning_count != 1 else ''}: see below")
    return lines


def _table(rv: Review) -> list[str]:
    metric = escape(rv.metric or "metric", 40)
    lines = [
        f"| run | status | {metric} | vs best on base | vs baseline | verdict | warnings |",
        "|---|---|--:|--:|--:|---|--:|",
    ]
    for e in rv.entries:
        status = escape(e.record.get("status"), 20)
        if e.change == "changed":
            status += " (changed)"
        verdict = _VERDICT.get(e.verdict, escape(e.verdict, 30))
        lines.append(
            f"| {_run(e.record)} | {status} | {number(e.value)} | "
            f"{number(e.vs_best, True)} | {number(e.vs_baseline, True)} | {verdict} | "
            f"{len(e.warnings) or ''} |"
        )
    return lines


def _details(summary: str, body: list[str]) -> list[str]:
    return ["", f"<details><summary>{summary}</summary>", "", *body, "", "</details>"]


def _secondary(rv: Review) -> list[str]:
    names = list(rv.secondary)
    header = "| run | " + " | ".join(escape(n, 40) for n in names) + " |"
    lines = [header, "|---|" + "--:|" * len(names)]
    refs = [("best on base", rv.best_on_base), ("baseline", rv.baseline)]
    rows = [(_run(e.record), e.record) for e in rv.entries]
    rows += [(f"*{label}*: {_run(rec)}", rec) for label, rec in refs if rec is not None]
    for label, rec in rows:
        cells = [number(_value(rec, n)) for n in names]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def _warnings(rv: Review) -> list[str]:
    lines = [f"- `{e.id}`: {escape(w, 200)}" for e in rv.entries for w in e.warnings]
    lines += [f"- record removed on this branch: `{escape(run_id, 80)}`" for run_id in rv.removed]
    shown = rv.invalid[:_MAX_UNREADABLE]
    lines += [f"- unreadable record, skipped: {escape(problem, 300)}" for problem in shown]
    if len(rv.invalid) > len(shown):
        more = len(rv.invalid) - len(shown)
        lines.append(f"- … and {more:,} more unreadable records (`ledger check --rev` lists them all)")
    return lines


def _failures(rv: Review) -> list[str]:
    lines = []
    for e in rv.failed:
        error = e.record.get("error") or {}
        what = error.get("message") or error.get("type") or "no error recorded"
        lines.append(f"- {_run(e.record)}: {escape(e.record.get('status'), 20)}: {escape(what, 200)}")
    return lines


def _run_details(e: Entry, rv: Review) -> list[str]:
    rec = e.record
    lines = [f"- id: `{e.id}` ({e.change}; record `{escape(e.path, 200)}`)"]
    if rec.get("description"):
        lines.append(f"- description: {escape(rec['description'], 300)}")
    if e.changed_fields:
        lines.append("- fields changed on this branch: " + ", ".join(escape(f, 40) for f in e.changed_fields))
    command = (rec.get("command") or {}).get("argv")
    if isinstance(command, list):
        lines.append(f"- command: {escape(' '.join(str(a) for a in command), 200)}")
    code = rec.get("code") or {}
    if code.get("commit"):
        dirty = " + patch" if code.get("patch") else (" (dirty)" if code.get("dirty") else "")
        lines.append(f"- code: `{escape(str(code['commit'])[:12], 12)}`{dirty}")
    ref = rv.best_on_base
    if ref is not None:
        changed = _param_changes(ref.get("params") or {}, rec.get("params") or {})
        if changed:
            lines.append("- params changed from the best on base: " + ", ".join(changed[:20]))
    metrics = rec.get("metrics") or {}
    if metrics:
        shown = [f"{escape(k, 40)}={number(_value(rec, k))}" for k in sorted(metrics)[:30]]
        lines.append("- metrics: " + ", ".join(shown))
    return lines


def _param_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    a, b = flatten(old), flatten(new)
    changes = []
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key) or (key in a) != (key in b):
            leaf = key.rsplit(".", 1)[-1]
            before, after = (escape(redact.redact(d[key], leaf), 40) if key in d else "(missing)" for d in (a, b))
            changes.append(f"{escape(key, 60)}: {before} → {after}")
    return changes


def render(rv: Review) -> str:
    """The PR comment for a review (starts with the hidden marker the CI workflow finds)."""
    lines = [MARKER, "### ledger: experiments in this pull request", "", _headline(rv), ""]
    lines += _facts(rv)
    if rv.entries:
        lines += ["", *_table(rv)]
    if rv.secondary:
        lines += _details(f"Secondary metrics ({len(rv.secondary)})", _secondary(rv))
    warnings = _warnings(rv)
    if warnings:
        lines += _details(f"Warnings ({len(warnings)})", warnings)
    if rv.failed:
        lines += _details(f"Runs that did not finish ({len(rv.failed)})", _failures(rv))
    for e in rv.entries:
        name = escape_html(e.record.get("name") or e.id, 80)
        lines += _details(f"Run {name}", _run_details(e, rv))
    return "\n".join(lines) + "\n"
