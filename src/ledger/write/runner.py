"""`ledger run -- COMMAND`: run any command as a recorded run.

The child gets the run's id and sidecar directory in its environment, so its own
`ledger.log_*` calls land in the same record and `ledger.params()` sees the overrides.
Signals sent to ledger reach the child once; its exit status becomes the run's outcome
and ledger's own exit code.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
from dataclasses import dataclass
from types import FrameType
from typing import Any

from ledger.core.workspace import Workspace
from ledger.dvc import overrides as dvcoverrides
from ledger.dvc import pipeline as dvcpipeline
from ledger.errors import LedgerError, UsageError
from ledger.write.finalize import Committed
from ledger.write.tracking import ENV_ROOT, ENV_RUN_DIR, ENV_RUN_ID, Run

_FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    record: dict[str, Any]
    committed: Committed | None


def _executable(argv: list[str]) -> None:
    if not argv:
        raise UsageError("nothing to run: write `ledger run [options] -- COMMAND [ARGS...]`")
    if shutil.which(argv[0]) is None:
        raise LedgerError(f"command not found: {argv[0]}: check the spelling or your PATH")


def _in_foreground() -> bool:
    """True when a terminal's Ctrl-C reaches our whole process group (child included)."""
    try:
        fd = os.open("/dev/tty", os.O_RDONLY)
    except OSError:
        return False
    try:
        return os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:
        return False
    finally:
        os.close(fd)


def run_command(
    ws: Workspace,
    argv: list[str],
    *,
    name: str | None = None,
    description: str | None = None,
    tags: dict[str, str] | None = None,
    overrides: list[str] | None = None,
    baseline: bool = False,
    fields: dict[str, Any] | None = None,
    cwd: str | None = None,
    env: dict[str, str] | None = None,
) -> Outcome:
    """Run `argv` (no shell) as a recorded run; `fields` adds record fields known at start,
    `cwd`/`env` change where and with what environment the child runs.

    In a DVC pipeline (a `dvc.yaml` where the child runs), `-p` overrides are written into
    the params file before the code state is captured (so the record's code patch shows
    them and `reproduce` repeats them) and restored byte for byte afterwards; what the
    pipeline declares (params, metrics, series, dvc.lock, artifacts) goes into the record.
    """
    _executable(argv)
    pipeline = dvcpipeline.find(ws.root, cwd)
    notes = dvcoverrides.notes_dir(ws.root)
    with dvcpipeline.overrides_written(pipeline, ws.config.params_file, overrides or [], notes):
        return _run_command(ws, argv, pipeline, name, description, tags, overrides, baseline, fields, cwd, env)


def _run_command(
    ws: Workspace,
    argv: list[str],
    pipeline: dvcpipeline.Pipeline | None,
    name: str | None,
    description: str | None,
    tags: dict[str, str] | None,
    overrides: list[str] | None,
    baseline: bool,
    fields: dict[str, Any] | None,
    cwd: str | None,
    env: dict[str, str] | None,
) -> Outcome:
    run = Run.create(
        ws, name=name, description=description, tags=tags, overrides=overrides,
        argv=argv, baseline=baseline, fields=fields,
    )  # fmt: skip
    child_env = dict(os.environ if env is None else env)
    child_env.update({ENV_RUN_ID: run.id, ENV_RUN_DIR: str(run._dir), ENV_ROOT: str(ws.root)})
    received: list[int] = []
    child: subprocess.Popen[bytes] | None = None

    def forward(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        if child is None or child.poll() is not None:
            return
        # Ctrl-C on a terminal already reached the child (same process group).
        if signum == signal.SIGINT and _in_foreground():
            return
        try:
            child.send_signal(signum)
        except ProcessLookupError:
            pass

    previous = {s: signal.signal(s, forward) for s in _FORWARDED}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        try:
            child = subprocess.Popen(argv, env=child_env, cwd=cwd)
        except OSError as exc:
            run.end("failed", {"type": type(exc).__name__, "message": str(exc), "exit_code": 127})
            raise LedgerError(f"could not start {argv[0]}: {exc.strerror or exc}") from None
        returncode = child.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    status, error, exit_code = _outcome(returncode, received)
    resources = {
        "wall_s": None,  # filled in by Run.end from the run's own clock
        "cpu_s": round((after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime), 3),
        "peak_rss_bytes": after.ru_maxrss * 1024,
    }
    if pipeline is not None:
        dvcpipeline.record_outputs(run, pipeline, argv)
    rec = run.end(status, error, resources) or {}
    return Outcome(exit_code, rec, run.committed)


def _outcome(returncode: int, received: list[int]) -> tuple[str, dict[str, Any] | None, int]:
    if returncode < 0:
        name = signal.Signals(-returncode).name
        reason = " (out of memory?)" if -returncode == signal.SIGKILL else ""
        error = {"type": "Signal", "message": f"killed by {name}{reason}", "signal": name,
                 "exit_code": 128 - returncode}  # fmt: skip
        return "killed", error, 128 - returncode
    if received:
        name = signal.Signals(received[0]).name
        error = {"type": "Signal", "message": f"interrupted by {name}", "signal": name,
                 "exit_code": returncode}  # fmt: skip
        return "killed", error, returncode or 128 + received[0]
    if returncode != 0:
        return "failed", {"message": f"exited with code {returncode}", "exit_code": returncode}, returncode
    return "finished", None, 0
