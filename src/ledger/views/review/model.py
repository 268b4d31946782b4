"""What a review is: the runs a branch added or changed, each judged against BASE, and the
verdict; `Review.to_dict` is the stable JSON shape of `ledger diff --format json`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ledger.read import query


@dataclass(frozen=True)
class Entry:
    """One run added or changed on the branch, compared with BASE."""

    record: dict[str, Any]
    path: str
    change: str  # "added" or "changed"
    changed_fields: tuple[str, ...]
    value: float | None  # the primary metric
    vs_best: float | None  # value minus BASE's best
    vs_baseline: float | None  # value minus the baseline's
    verdict: str  # better, worse, equal, failed, running, no metric, no reference
    warnings: tuple[str, ...]

    @property
    def id(self) -> str:
        return str(self.record["id"])


@dataclass(frozen=True)
class Review:
    base: str
    head: str
    base_commit: str
    head_commit: str
    merge_base: str | None
    metric: str | None
    direction: str
    baseline: dict[str, Any] | None
    best_on_base: dict[str, Any] | None
    entries: tuple[Entry, ...]
    removed: tuple[str, ...]
    invalid: tuple[str, ...]
    secondary: tuple[str, ...]
    best_new: Entry | None
    bar: float | None  # what the best new run had to reach (BASE's best, or --threshold)
    regression: bool
    summary: str
    unreadable: tuple[str, ...] = ()  # paths of the branch's records that could not be read
    shared: tuple[str, ...] = ()  # metrics every finished run has (for a missing primary metric)
    inferred: bool = False  # `metric` is the one metric the runs share (no primary metric set)

    @property
    def blocked(self) -> bool:
        """The gate fails whatever the metric says: the branch adds or changes unreadable
        records (a green verdict would hide them, and CI could not rank what it cannot read)."""
        return bool(self.unreadable)

    @property
    def failed(self) -> tuple[Entry, ...]:
        ended = ("finished", "running")
        return tuple(e for e in self.entries if e.record.get("status") not in ended)

    @property
    def warning_count(self) -> int:
        return sum(len(e.warnings) for e in self.entries) + len(self.invalid) + len(self.removed)

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON shape of `ledger diff --format json`."""
        return {
            "base": self.base, "head": self.head, "base_commit": self.base_commit,
            "head_commit": self.head_commit, "merge_base": self.merge_base,
            "metric": self.metric, "direction": self.direction,
            "baseline": _brief(self.baseline, self.metric),
            "best_on_base": _brief(self.best_on_base, self.metric),
            "runs": [
                {"id": e.id, "name": e.record.get("name"), "status": e.record.get("status"),
                 "change": e.change, "changed_fields": list(e.changed_fields), "path": e.path,
                 "value": e.value, "vs_best": e.vs_best, "vs_baseline": e.vs_baseline,
                 "verdict": e.verdict, "metrics": e.record.get("metrics") or {},
                 "warnings": list(e.warnings)}
                for e in self.entries
            ],
            "removed": list(self.removed), "invalid": list(self.invalid),
            "secondary_metrics": list(self.secondary),
            "best_new": self.best_new.id if self.best_new else None,
            "bar": self.bar, "regression": self.regression, "summary": self.summary,
            "unreadable": list(self.unreadable),
            "metric_inferred": self.inferred,
        }  # fmt: skip


def _brief(rec: dict[str, Any] | None, metric: str | None) -> dict[str, Any] | None:
    if rec is None:
        return None
    value = query.metric_value(rec, metric) if metric else None
    return {"id": rec["id"], "name": rec.get("name"), "value": value}


def usable(value: float | None) -> bool:
    """A number a comparison can use (not missing, not NaN)."""
    return value is not None and not math.isnan(value)
