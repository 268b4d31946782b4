"""Judging the runs under review: which metric, what they are compared with (BASE's best
run and the baseline), each run's verdict, and the one sentence a reviewer reads first."""

from __future__ import annotations

from typing import Any

from ledger.core.config import Config
from ledger.read import query
from ledger.read.api import RevisionRuns
from ledger.read.known import Known
from ledger.views.review.model import Entry, usable


def is_better(value: float, reference: float, direction: str, tolerance: float = 0.0) -> bool:
    return value > reference + tolerance if direction == "max" else value < reference - tolerance


def is_worse(value: float, reference: float, direction: str, tolerance: float = 0.0) -> bool:
    return value < reference - tolerance if direction == "max" else value > reference + tolerance


def delta(value: float | None, reference: float | None) -> float | None:
    if not usable(value) or not usable(reference):
        return None
    return value - reference  # type: ignore[operator]


def choose_metric(
    asked: str | None, settings: Config, new: list[dict[str, Any]], base: RevisionRuns
) -> tuple[str | None, list[str], bool]:
    """(the metric to judge by, the metrics every finished run shares (the new ones and
    BASE's), whether the metric is that one shared metric because none was asked for or
    set). A metric asked for that no run has is refused with the close matches."""
    if asked:
        names = Known()
        for rec in new:
            names.add_head(rec)
        runs, metrics = base.metric_counts()
        names.runs += runs
        names.names["metric"].update(metrics)
        names.check("metric", asked)
    metric = asked or settings.primary_metric
    shared = shared_metrics(new, base)
    inferred = not metric and len(shared) == 1
    return (shared[0] if inferred else metric), shared, inferred


def shared_metrics(new: list[dict[str, Any]], base: RevisionRuns) -> list[str]:
    """The metrics every finished run has, among the new runs and BASE's, sorted."""
    names = [set(rec.get("metrics") or {}) for rec in new if rec.get("status") == "finished"]
    finished, counts = base.metric_counts("finished")
    if finished:
        names.append({name for name, count in counts.items() if count == finished})
    return sorted(set.intersection(*names)) if names else []


def best_on_base(base: RevisionRuns, metric: str | None, direction: str) -> dict[str, Any] | None:
    """BASE's best finished run on the metric (ranked from its column; one record is read)."""
    if not metric:
        return None
    found = base.best_finished(metric, direction)
    return found.record if found is not None else None


def find_baseline(settings: Config, base: RevisionRuns, new: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The baseline named in ledger.yaml (BASE's runs by id order, then the new ones), else
    BASE's newest run flagged `baseline: true` (one record is read)."""
    name = settings.baseline
    if name:
        named = base.named(name)
        if named:
            return named[0].record
        for rec in new:
            if rec["id"] == name or rec.get("name") == name:
                return rec
    flagged = base.flagged()
    if not flagged:
        return None
    return max(flagged, key=lambda i: (i.head.get("started_at") or "", i.head["id"])).record


def changed_fields(old: dict[str, Any] | None, new: dict[str, Any]) -> tuple[str, ...]:
    if old is None:
        return ()
    keys = set(old) | set(new)
    return tuple(sorted(k for k in keys if old.get(k) != new.get(k)))


def verdict(rec: dict[str, Any], value: float | None, reference: float | None, direction: str) -> str:
    status = rec.get("status")
    if status == "running":
        return "running"
    if status != "finished":
        return str(status)
    if not usable(value):
        return "no metric"
    if not usable(reference):
        return "no reference"
    assert value is not None and reference is not None  # narrowed by usable
    if is_better(value, reference, direction):
        return "better"
    if is_worse(value, reference, direction):
        return "worse"
    return "equal"


def best(entries: list[Entry], metric: str | None, direction: str) -> Entry | None:
    if not metric:
        return None
    finished = [e for e in entries if e.record.get("status") == "finished" and usable(e.value)]
    if not finished:
        return None
    key = query.rank_key(metric, direction)
    return min(finished, key=lambda e: key(e.record))


def is_regression(best_new: Entry | None, bar: float | None, direction: str, tolerance: float) -> bool:
    """The best new run is worse than the bar by more than the tolerance."""
    return bool(
        best_new is not None and best_new.value is not None and usable(bar)
        and is_worse(best_new.value, bar, direction, tolerance)  # type: ignore[arg-type]
    )  # fmt: skip


def summary(
    entries: list[Entry], best: Entry | None, bar: float | None, regression: bool,
    metric: str | None, direction: str, by_threshold: bool,
) -> str:  # fmt: skip
    """One sentence: the verdict a reviewer reads first."""
    if not entries:
        return "no runs added or changed"
    if metric is None:
        return "no primary metric: set primary_metric in ledger.yaml to compare runs"
    if best is None:
        return f"no finished run reports {metric}"
    against = "the threshold" if by_threshold else "the best on BASE"
    if not usable(bar):
        return f"best new run: {best.record.get('name')} (nothing on BASE to compare with)"
    if regression:
        return f"regression: the best new run is worse than {against}"
    assert best.value is not None and bar is not None  # narrowed by usable
    if is_better(best.value, bar, direction):
        return f"improvement: the best new run beats {against}"
    if is_worse(best.value, bar, direction):
        return f"within tolerance: the best new run is slightly worse than {against}"
    return f"no change: the best new run equals {against}"
