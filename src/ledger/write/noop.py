"""The run that ranks other than 0 of a distributed job get: the same API, no record.

Training code calls `ledger.log_metric` on every rank; only rank 0's calls are recorded,
so one job makes one record (and no rank's points are counted twice). `params()` still
answers on every rank, because every rank trains with them.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType
from typing import Any

from ledger.core.journal import read_context
from ledger.core.workspace import Workspace
from ledger.write.context import effective_params
from ledger.write.ranks import Distributed
from ledger.write.system import NodeSampler
from ledger.write.tracking import ENV_RUN_DIR, Run


class NoOpRun(Run):
    """A run of a rank that does not record (`recording` is False)."""

    recording = False

    def __init__(self, ws: Workspace, dist: Distributed):
        super().__init__(ws, "", Path(os.devnull), owner=False)
        self.distributed = dist
        self.node_sampler: NodeSampler | None = None  # samples this node when it is not rank 0's

    def params(self) -> dict[str, Any]:
        attached = os.environ.get(ENV_RUN_DIR)
        context = read_context(Path(attached)) if attached else None
        if context is not None:
            return dict(context.get("params") or {})
        return effective_params(self.ws, [])

    def log_params(self, params: dict[str, Any]) -> None:
        return None

    def log_metric(self, name: str, value: Any, step: int | None = None, *, timestamp: float | None = None) -> None:
        return None

    def log_artifact(self, path: str | os.PathLike[str], kind: str = "artifact",
                     name: str | None = None) -> dict[str, Any]:  # fmt: skip
        return {}

    def log_dataset(self, name: str, data: Any, target: Any = None, context: str | None = None) -> dict[str, Any]:
        return {}

    def log_cost(self, amount: float, currency: str | None = None, description: str | None = None) -> None:
        return None

    def set_tags(self, tags: dict[str, Any] | list[str] | tuple[str, ...]) -> None:
        return None

    def note(self, text: str) -> None:
        return None

    def flush(self) -> None:
        return None

    def _event(self, kind: str, payload: dict[str, Any]) -> None:
        return None

    def end(self, status: str = "finished", error: dict[str, Any] | None = None,
            resources: dict[str, Any] | None = None) -> dict[str, Any] | None:  # fmt: skip
        self._ended = True
        self.status = status
        if self.node_sampler is not None:
            self.node_sampler.stop()
            self.node_sampler = None
        return None

    def __enter__(self) -> NoOpRun:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:  # fmt: skip
        self.end()
