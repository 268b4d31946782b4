"""The unreadable-records gate: a branch that adds or changes records nobody can read fails
`ledger diff --fail-on-regression` whatever its metrics say, and says which and how to see why."""

from __future__ import annotations

from ledger.views.review.model import Review


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def unreadable_summary(paths: list[str]) -> str:
    """The start of the review's summary sentence when the branch has unreadable records."""
    if not paths:
        return ""
    return f"failed: {plural(len(paths), 'unreadable record')} on this branch; "


def unreadable_reason(rv: Review, shown: int = 3) -> str:
    """One line for the gate: how many of the branch's records are unreadable, the first paths."""
    paths = ", ".join(rv.unreadable[:shown]) + (", ..." if len(rv.unreadable) > shown else "")
    return (
        f"{plural(len(rv.unreadable), 'unreadable record')} added or changed on this branch "
        f"({paths}): see why with `ledger check --rev {rv.base}..{rv.head}`, fix or remove them"
    )
