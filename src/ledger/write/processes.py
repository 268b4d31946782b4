"""Kept for imports from before the move: the module is `ledger.core.processes`."""

from __future__ import annotations

from ledger.core.processes import gone, host, owner, owner_gone, started

__all__ = ["gone", "host", "owner", "owner_gone", "started"]
