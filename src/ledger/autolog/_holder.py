"""The run a logger or callback writes into: the active run, or one of its own that it ends
when training ends (failed, with the traceback, when training raised)."""

from __future__ import annotations

import sys
from typing import Any

from ledger.autolog._patching import warn


class RunHolder:
    def __init__(self, framework: str, name: str):
        self.framework = framework
        self.name = name
        self._run: Any = None
        self._owned = False

    @property
    def run(self) -> Any:
        """The run to log into (None when none can be started: training goes on)."""
        if self._run is not None and self._run.status == "running":
            return self._run
        from ledger.write import active as fluent

        self._run, self._owned = fluent.active_run(), False
        if self._run is None:
            try:
                self._run = fluent.start_run(name=self.name, tags={"autolog": self.framework})
                self._owned = True
            except Exception as exc:  # noqa: BLE001 - no run means no record, never no training
                warn("a run for this training", exc)
        return self._run

    @property
    def started(self) -> bool:
        return self._run is not None and self._run.status == "running"

    def finish(self, failed: bool) -> None:
        """End a run of our own; the exception being handled, if any, makes it `failed`."""
        run, owned = self._run, self._owned
        self._run, self._owned = None, False
        if run is None or not owned or run.status != "running":
            return
        exc_type, exc, tb = sys.exc_info() if failed else (None, None, None)
        if failed and exc is None:
            exc_type, exc = RuntimeError, RuntimeError(f"{self.framework} training failed")
        try:
            run.__exit__(exc_type, exc, tb)
        except Exception as error:  # noqa: BLE001 - the record write warns; training's outcome stands
            warn("the end of the run", error)
