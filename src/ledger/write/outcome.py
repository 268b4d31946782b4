"""How a run ended: an exception, an exit, or a signal, as the record's status and error."""

from __future__ import annotations

import signal
import traceback
from types import FrameType
from typing import Any


class RunInterrupted(BaseException):
    """Raised inside the user's code when SIGTERM (or SIGHUP) arrives during a run."""

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(signal.Signals(signum).name)


def raise_interrupted(signum: int, frame: FrameType | None) -> None:
    """A signal handler that turns a termination signal into RunInterrupted."""
    raise RunInterrupted(signum)


def outcome_of(exc: BaseException | None) -> tuple[str, dict[str, Any] | None]:
    """The status and error field for how a `with` block ended."""
    if exc is None:
        return "finished", None
    if isinstance(exc, SystemExit):
        code = exc.code
        if code in (None, 0):
            return "finished", None
        return "failed", {"type": "SystemExit", "message": str(code),
                          "exit_code": code if isinstance(code, int) else 1}  # fmt: skip
    if isinstance(exc, KeyboardInterrupt):
        return "killed", {"type": "KeyboardInterrupt", "message": "interrupted", "signal": "SIGINT"}
    if isinstance(exc, RunInterrupted):
        name = signal.Signals(exc.signum).name
        return "killed", {"type": "Signal", "message": f"terminated by {name}", "signal": name}
    tail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)[-12:])
    return "failed", {"type": type(exc).__name__, "message": str(exc)[:2000], "traceback": tail[-8000:]}
