"""`ledger run -- COMMAND`: run any command as a recorded run.

The child gets the run's id and sidecar directory in its environment, so its own
`ledger.log_*` calls land in the same record and `ledger.params()` sees the overrides.
The child runs in a process group of its own: a signal sent to ledger (SIGINT, SIGTERM,
SIGHUP; a terminal's Ctrl-C too) reaches that whole group once, so a `dvc repro` and the
stage it is running stop together. Its exit status becomes the run's outcome and ledger's
own exit code. Its output is seen live and kept in the sidecar (`output.log`, redacted).
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import signal
from dataclasses import dataclass
from types import FrameType
from typing import Any

from ledger.core import yamlio
from ledger.core.redact import redactor, scrub_paths
from ledger.core.workspace import Workspace
from ledger.dvc import pipeline as dvcpipeline
from ledger.errors import LedgerError, UsageError
from ledger.write import overrides as params_overrides
from ledger.write.child import LOG_FILE, Child
from ledger.write.finalize import Committed
from ledger.write.pipeline_outputs import record_outputs
from ledger.write.tracking import ENV_ROOT, ENV_RUN_DIR, ENV_RUN_ID, Run

_FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    record: dict[str, Any]
    committed: Committed | None
    watched: tuple[str, ...] = ()  # output lines that matched `watch`


def _executable(argv: list[str]) -> None:
    if not argv:
        raise UsageError("nothing to run: write `ledger run [options] -- COMMAND [ARGS...]`")
    if shutil.which(argv[0]) is None:
        raise LedgerError(f"command not found: {argv[0]}: check the spelling or your PATH")


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
    watch: re.Pattern[str] | None = None,
    stdout_to_stderr: bool = False,
) -> Outcome:
    """Run `argv` (no shell) as a recorded run; `fields` adds record fields known at start,
    `cwd`/`env` change where and with what environment the child runs, and the output
    lines matching `watch` come back in the outcome; `stdout_to_stderr` shows the child's
    stdout on ledger's stderr (when ledger's own stdout carries a result).

    In a DVC pipeline (a `dvc.yaml` where the child runs), `-p` overrides are written into
    the params file before the code state is captured (so the record's code patch shows
    them and `reproduce` repeats them) and restored byte for byte afterwards; what the
    pipeline declares (params, metrics, series, dvc.lock, artifacts) goes into the record.
    """
    _executable(argv)
    pipeline = dvcpipeline.find(ws.root, cwd)
    notes = params_overrides.notes_dir(ws.root)
    with params_overrides.overrides_written(pipeline, ws.config.params_file, overrides or [], notes):
        return _run_command(ws, argv, pipeline, name, description, tags, overrides, baseline, fields, cwd, env,
                            watch, stdout_to_stderr)  # fmt: skip


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
    watch: re.Pattern[str] | None,
    stdout_to_stderr: bool,
) -> Outcome:
    before_files = dvcpipeline.snapshot(pipeline) if pipeline is not None else None
    run = Run.create(
        ws, name=name, description=description, tags=tags, overrides=overrides,
        argv=argv, baseline=baseline, fields=fields,
    )  # fmt: skip
    child_env = dict(os.environ if env is None else env)
    child_env.update({ENV_RUN_ID: run.id, ENV_RUN_DIR: str(run.sidecar), ENV_ROOT: str(ws.root)})
    received: list[int] = []
    child: Child | None = None

    def forward(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        if child is not None:
            child.signal(signum)  # the whole group: `dvc repro` and the stage it runs

    previous = {s: signal.signal(s, forward) for s in _FORWARDED}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        try:
            child = Child(argv, child_env, cwd, watch, stdout_to=2 if stdout_to_stderr else 1)
        except OSError as exc:
            run.end("failed", {"type": type(exc).__name__, "message": str(exc), "exit_code": 127})
            raise LedgerError(f"could not start {argv[0]}: {exc.strerror or exc}") from None
        if received:  # a signal came while the child was starting
            child.signal(received[0])
        returncode = child.wait()
        child.finish()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    status, error, exit_code = _outcome(returncode, received, child.stderr_tail())
    resources = {
        "wall_s": None,  # filled in by Run.end from the run's own clock
        "cpu_s": round((after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime), 3),
        "peak_rss_bytes": after.ru_maxrss * 1024,
    }
    _keep_log(ws, run, child)
    if pipeline is not None:
        record_outputs(run, pipeline, argv, finished=status == "finished", before=before_files)
    rec = run.end(status, error, resources) or {}
    if rec.get("status") == "pruned":
        exit_code = 0  # a trial the pruner stopped ended as it should
    return Outcome(exit_code, rec, run.committed, tuple(child.log.watched))


def _keep_log(ws: Workspace, run: Run, child: Child) -> None:
    """The child's output, secrets redacted and local paths scrubbed, into the sidecar."""
    text = child.log.text()
    if text.strip():
        # Secrets first: scrubbing could break the shape of one (`mysql://root:pw@` with HOME=/root).
        clean = scrub_paths(redactor(ws.config.secrets).text(text), ws.root)
        yamlio.write_atomic(run.sidecar / LOG_FILE, clean.encode("utf-8"))


def _outcome(returncode: int, received: list[int], stderr: str) -> tuple[str, dict[str, Any] | None, int]:
    if received:
        name = signal.Signals(received[0]).name
        error = {"type": "Signal", "message": f"interrupted by {name}", "signal": name,
                 "exit_code": 128 - returncode if returncode < 0 else returncode}  # fmt: skip
        return "killed", error, 128 + received[0]
    if returncode < 0:
        name = signal.Signals(-returncode).name
        reason = " (out of memory?)" if -returncode == signal.SIGKILL else ""
        error = {"type": "Signal", "message": f"killed by {name}{reason}", "signal": name,
                 "exit_code": 128 - returncode}  # fmt: skip
        return "killed", error, 128 - returncode
    if returncode != 0:
        # What the command said last on stderr is its error (a Python child's own report,
        # through ledger's API, wins over it).
        message = stderr or f"exited with code {returncode}"
        return "failed", {"message": message, "exit_code": returncode}, returncode
    return "finished", None, 0
