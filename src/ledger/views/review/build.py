"""The review of a pull request's experiments: what `ledger diff BASE [HEAD]` reports.

The runs under review are the records HEAD added or changed since it left BASE (`runs.py`,
read through the library face); each is compared with the project's baseline and with the
best run reachable from BASE on the primary metric (`judge.py`), checked for what would keep
it from being reproduced (`reproducible.py`), and the branch's unreadable records fail the
gate whatever the metrics say (`gate.py`). `model.py` holds what a review is.
"""

from __future__ import annotations

from ledger.core.workspace import Workspace
from ledger.read import query
from ledger.views.review import judge
from ledger.views.review.gate import unreadable_reason, unreadable_summary
from ledger.views.review.model import Entry, Review
from ledger.views.review.reproducible import Reproducibility
from ledger.views.review.runs import compared

__all__ = ["Entry", "Review", "review", "unreadable_reason"]


def review(
    ws: Workspace,
    base: str,
    head: str = "HEAD",
    *,
    metric: str | None = None,
    direction: str | None = None,
    threshold: float | None = None,
    tolerance: float = 0.0,
) -> Review:
    """Compare the runs that `head` adds or changes with `base` (see the module docstring)."""
    found = compared(ws, base, head)
    new = found.new
    metric, shared, inferred = judge.choose_metric(metric, found.settings, list(new.values()), found.base)
    direction = direction or (found.settings.direction(metric) if metric else "max")
    best_on_base = judge.best_on_base(found.base, metric, direction)
    baseline = judge.find_baseline(found.settings, found.base, list(new.values()))
    best_value = query.metric_value(best_on_base, metric) if best_on_base and metric else None
    baseline_value = query.metric_value(baseline, metric) if baseline and metric else None

    reproducibility = Reproducibility(ws, list(new.values()), found.head_commit)
    reference = threshold if threshold is not None else best_value
    entries = []
    for path in sorted(new, key=lambda p: (new[p].get("started_at") or "", new[p]["id"])):
        rec = new[path]
        value = query.metric_value(rec, metric) if metric else None
        entries.append(Entry(
            record=rec, path=path, change="changed" if path in found.changed else "added",
            changed_fields=judge.changed_fields(found.old.get(path), rec), value=value,
            vs_best=judge.delta(value, best_value), vs_baseline=judge.delta(value, baseline_value),
            verdict=judge.verdict(rec, value, reference, direction),
            warnings=tuple(reproducibility.warnings(rec)),
        ))  # fmt: skip

    secondary = sorted({m for e in entries for m in (e.record.get("metrics") or {}) if m != metric})
    best_new = judge.best(entries, metric, direction)
    bar = reference
    regression = judge.is_regression(best_new, bar, direction, tolerance)
    unreadable = sorted(found.invalid)
    summary = unreadable_summary(unreadable) + judge.summary(
        entries, best_new, bar, regression, metric, direction, threshold is not None
    )
    if inferred:
        summary += f" ({metric}: no primary metric is set, and it is the one metric the runs share)"
    return Review(
        base=base, head=head, base_commit=found.base_commit, head_commit=found.head_commit,
        merge_base=found.fork, metric=metric, direction=direction, baseline=baseline,
        best_on_base=best_on_base, entries=tuple(entries), removed=found.removed,
        invalid=tuple(found.invalid[p] for p in unreadable), secondary=tuple(secondary),
        best_new=best_new, bar=bar, regression=regression, summary=summary,
        unreadable=tuple(unreadable), shared=tuple(shared), inferred=inferred,
    )  # fmt: skip
