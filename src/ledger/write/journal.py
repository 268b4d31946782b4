"""Kept for imports from before the move: the module is `ledger.core.journal` (the read
path derives a dead run's view from the same journal)."""

from __future__ import annotations

from ledger.core.journal import (
    CONTEXT_FILE,
    EVENTS_FILE,
    SERIES_FILE,
    SERIES_HEADER,
    TRANSIENT,
    Fold,
    append,
    format_point,
    read_context,
    write_context,
    write_event,
)

__all__ = [
    "CONTEXT_FILE",
    "EVENTS_FILE",
    "SERIES_FILE",
    "SERIES_HEADER",
    "TRANSIENT",
    "Fold",
    "append",
    "format_point",
    "read_context",
    "write_context",
    "write_event",
]
