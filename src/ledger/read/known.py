"""The field names the scanned runs have, so that a name none of them has is refused.

`ledger top --metric acu` would otherwise rank every run as "missing" and print an empty
column. A metric, parameter or tag that no run in the selection has is a typo until shown
otherwise: the error names the closest known names (difflib), and the CLI exits 2.

    known = Known()
    for head in heads: known.add_head(head)      # metric names: cheap, from the scan's head
    known.add_record(record)                      # params and tags: from whole records
    known.check("metric", "acu")                  # UnknownField: ... did you mean 'auc'?

An empty selection knows nothing and refuses nothing (there is nothing to compare with).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from ledger.core import fields
from ledger.core.fields import flatten
from ledger.errors import UsageError

KINDS = ("metric", "param", "tag", "field")


class UnknownField(UsageError):
    """A metric, parameter or tag that no run in the selection has (exit code 2)."""

    def __init__(self, kind: str, name: str, matches: list[str], known_count: int):
        self.kind = kind
        self.name = name
        self.matches = matches
        if matches:
            hint = "did you mean " + " or ".join(repr(m) for m in matches) + "?"
        elif known_count:
            hint = f"`ledger show ID` lists a run's {kind}s"
        else:
            hint = f"no run has any {kind}"
        where = "in a run record" if kind == "field" else "in these runs"
        super().__init__(f"no {kind} {name!r} {where}; {hint}")


def close_matches(name: str, known: Iterable[str], n: int = 3) -> list[str]:
    """The known names closest to `name`: same name in another case first, then names
    ending with it (`auc` -> `val/auc`), then difflib's close matches."""
    names = sorted(set(known))
    lowered = name.lower()
    found = [k for k in names if k.lower() == lowered]
    found += [k for k in names if k not in found and k.lower().rsplit("/", 1)[-1].rsplit(".", 1)[-1] == lowered]
    if not found:  # difflib's matches, only those about as close as the closest
        by_case: dict[str, str] = {}
        for k in names:
            by_case.setdefault(k.lower(), k)
        scored = [(difflib.SequenceMatcher(None, lowered, k).ratio(), k) for k in by_case]
        best = max((score for score, _ in scored), default=0.0)
        close = sorted((item for item in scored if item[0] >= max(0.6, best - 0.15)), key=lambda item: -item[0])
        found = [by_case[k] for _, k in close]
    return found[:n]


class Known:
    """Metric, parameter and tag names seen in a scan."""

    def __init__(self) -> None:
        self.runs = 0
        self.names: dict[str, set[str]] = {kind: set() for kind in KINDS}

    def add_head(self, head: dict[str, Any]) -> None:
        """A run's small head (id, name, status, metrics, ...): its metric names."""
        self.runs += 1
        metrics = head.get("metrics")
        if isinstance(metrics, dict):
            self.names["metric"].update(str(k) for k in metrics)

    def add_record(self, rec: dict[str, Any]) -> None:
        """A whole record's parameter paths and tag names (call add_head for it too)."""
        params = rec.get("params")
        if isinstance(params, dict):
            self.names["param"].update(flatten(params))
        tags = rec.get("tags")
        if isinstance(tags, dict):
            self.names["tag"].update(str(k) for k in tags)

    def has(self, kind: str, name: str) -> bool:
        names = self.names[kind]
        if name in names:
            return True
        # a parameter group: `params.model` when runs have `model.depth`
        return kind == "param" and any(k.startswith(name + ".") for k in names)

    def check(self, kind: str, name: str) -> None:
        """UnknownField when the scan saw runs and none has `name`."""
        if self.runs and not self.has(kind, name):
            names = self.names[kind]
            raise UnknownField(kind, name, close_matches(name, names), len(names))


def column_kind(column: str) -> tuple[str, str]:
    """(`metric`|`param`|`tag`, name) for a `metrics.X` / `params.X` / `tags.X` column,
    else (`field`, the record field it starts with)."""
    head, _, rest = column.partition(".")
    kind = {"metrics": "metric", "params": "param", "tags": "tag"}.get(head)
    return (kind, rest) if kind and rest else ("field", head)


def lookup(rec: dict[str, Any], column: str) -> Any:
    """A dotted column of a record: `metrics.auc`, `metrics.val/auc`, `params.model.depth`,
    `tags.stage`, `resources.wall_s`; None when the run has no such field (the one spelling:
    `ledger.core.fields.resolve`)."""
    return fields.resolve(rec, column)


def check_field(name: str) -> None:
    """UnknownField when `name` is not a field of the run record (`duration_s`, `code`...)."""
    from ledger.core.record import FIELD_ORDER

    if name not in FIELD_ORDER:
        raise UnknownField("field", name, close_matches(name, FIELD_ORDER), len(FIELD_ORDER))
