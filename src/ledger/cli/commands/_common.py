"""Arguments and helpers shared by several commands."""

from __future__ import annotations

import argparse
from typing import Any

from ledger import liveness, store
from ledger.cli import output
from ledger.store import Loaded
from ledger.workspace import Workspace


def add_format(parser: argparse.ArgumentParser, default: str = "table") -> None:
    parser.add_argument(
        "--format", choices=output.FORMATS, default=default,
        help=f"output format (default: {default})",
    )  # fmt: skip


def short_time(ts: str | None) -> str:
    """`2026-11-27T05:12:03.123Z` -> `2026-11-27 05:12`."""
    return ts[:16].replace("T", " ") if ts else ""


def load_records(ws: Workspace) -> list[Loaded]:
    """Records on HEAD plus the working tree, after recording any dead run as crashed."""
    liveness.reap(ws)
    return store.load(ws)


def lookup(rec: dict[str, Any], column: str) -> Any:
    """A dotted column of a record: `metrics.auc`, `params.model.depth`, `status`."""
    head, _, rest = column.partition(".")
    if head == "metrics" and rest:
        return (rec.get("metrics") or {}).get(rest)
    value: Any = rec
    for part in column.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value
