"""`ledger reproduce ID`: rerun a recorded run exactly, in a temporary git worktree, and
compare.

The steps: find the record (an untrusted one, from a branch not merged into the current
one, needs `trust`), compare the environment, add a detached worktree of `code.commit`
outside the user's checkout, apply the recorded patch, restore the recorded data through
DVC (the user's cache first, then the remote), rerun `command.argv` with the recorded
overrides and environment variables, and compare every metric and artifact hash.

The reproduction is itself a run: its record (with `reproduces`) is written in the worktree,
then copied into the user's repository and committed there like any run. The user's
working tree, index and branch are never touched otherwise, and the worktree is removed
whatever happens (error, failure of the rerun, Ctrl-C, SIGTERM) unless `keep` is asked.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import shlex
import signal
import sys
import sysconfig
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from ledger import gitstore
from ledger.core import processes, record, schema, yamlio
from ledger.core.redact import REDACTED
from ledger.core.workspace import Workspace, safe_relpath
from ledger.dvc import data as dvcdata
from ledger.dvc import recompute
from ledger.errors import LedgerError
from ledger.read.locate import Located, companion_file, locate
from ledger.reproduce import compare as reproduce_compare
from ledger.reproduce import envfile
from ledger.write.capture.environment import ENV_ALLOWLIST
from ledger.write.finalize import Committed, commit_record, ledger_files
from ledger.write.runner import run_command

Say = Callable[[str], None]


class Untrusted(LedgerError):
    """The record is not in the trusted history; its command must be read before running."""

    def __init__(self, message: str, *, command: list[str]):
        self.command = command
        super().__init__(message)


class EnvMismatch(LedgerError):
    """`--strict-env` and the environment differs from the recorded one."""

    def __init__(self, message: str, *, differences: list[str]):
        self.differences = differences
        super().__init__(message)


class Interrupted(KeyboardInterrupt):
    """SIGTERM/SIGHUP during a reproduction: unwinds like Ctrl-C so the worktree goes."""


@dataclass(frozen=True)
class Result:
    original: dict[str, Any]
    record: dict[str, Any]  # the reproduction's own record
    verdict: str
    env_differences: list[str]
    params_differences: list[str]
    committed: Committed | None
    worktree: Path | None  # kept on request
    exit_code: int  # the rerun's own exit code

    @property
    def deltas(self) -> dict[str, dict[str, Any]]:
        return dict(self.record["reproduces"].get("deltas") or {})

    @property
    def artifacts(self) -> dict[str, dict[str, Any]]:
        return dict(self.record["reproduces"].get("artifacts") or {})

    @property
    def outputs(self) -> dict[str, dict[str, Any]]:
        """Pipeline outputs remade by the rerun: recorded and recomputed hash."""
        return dict(self.record["reproduces"].get("outputs") or {})

    @property
    def stages(self) -> list[str] | None:
        """The DVC stages the rerun recomputed (None when the command is not a pipeline)."""
        stages = self.record["reproduces"].get("stages")
        return list(stages) if stages is not None else None


def command_of(rec: dict[str, Any]) -> list[str]:
    """The recorded argv, as it would be shown before running it."""
    command = rec.get("command") or {}
    argv = command.get("argv") if isinstance(command, dict) else None
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        raise LedgerError(f"run {rec['id']} recorded no command: there is nothing to rerun")
    return list(argv)


def _placeholders() -> list[tuple[str, str]]:
    # The inverse of redact.scrub_paths, for this machine.
    return [
        ("<site-packages>", sysconfig.get_paths()["purelib"]),
        ("<stdlib>", sysconfig.get_paths()["stdlib"]),
        ("<python>", sys.prefix),
        ("<home>", os.path.expanduser("~")),
        ("<tmp>", tempfile.gettempdir()),
    ]


def local_argv(argv: list[str], cwd: Path | None = None) -> list[str]:
    """A recorded argv with path placeholders (`<python>/bin/python`) made local again, and
    a relative program (`./train.sh`) anchored in `cwd`, where it will run."""
    result = []
    for arg in argv:
        for label, prefix in _placeholders():
            if arg.startswith(label):
                arg = prefix + arg[len(label) :]
                break
        result.append(arg)
    if argv[0].startswith("<python>") and not os.path.exists(result[0]):
        result[0] = sys.executable  # recorded on another machine: use this interpreter
    elif cwd is not None and "/" in result[0] and not os.path.isabs(result[0]):
        result[0] = str(cwd / result[0])
    return result


def _check_patch(data: bytes, code: dict[str, Any]) -> None:
    expected = code.get("patch_hash")
    if expected and hashlib.sha256(data).hexdigest() != expected:
        raise LedgerError(
            f"the code patch {code.get('patch')} does not match its recorded hash: "
            "it was changed after the run, so the run cannot be reproduced from it"
        )


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM/SIGHUP raise Interrupted (the default would kill us before cleaning up)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise Interrupted(signal.Signals(signum).name)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


@contextmanager
def temporary_worktree(root: Path, commit: str, keep: bool = False) -> Iterator[Path]:
    """A detached worktree of `commit` in a new temporary directory outside the checkout;
    removed (and forgotten by git) on the way out, unless `keep`."""
    path = gitstore.temporary_worktree_add(root, "reproduce", commit, processes.owner())
    try:
        yield path
    finally:
        if keep:
            gitstore.temporary_worktree_keep(root, path)  # the user's now: no cleanup may take it
        else:
            gitstore.temporary_worktree_remove(root, path)


def restore_data(ws: Workspace, worktree: Path, rec: dict[str, Any], plan: recompute.Plan, say: Say) -> list[str]:
    """Put every input the plan names at its recorded hash into the worktree (outputs are
    remade by the rerun), then prove it. Returns notes (e.g. the run had used data that
    differed from its DVC version)."""
    notes = []
    entries = [e for e in rec.get("data") or [] if isinstance(e, dict) and e.get("hash")]
    for entry in entries:
        if entry.get("matches") is False and entry.get("path") in plan.inputs and entry.get("role") != "out":
            notes.append(
                f"the run used {entry['path']} as it was in the working tree, which differed "
                "from its DVC version: the recorded version is used instead"
            )
    if plan.inputs:
        if not dvcdata.is_dvc_repo(worktree):
            raise dvcdata.DataError(
                f"run {rec['id']} used DVC data but its commit has no .dvc folder: cannot restore it"
            )
        say("restoring the inputs through DVC")
        dvcdata.configure_worktree(ws.root, worktree)
        dvcdata.restore(worktree, plan.inputs, plan.tracked)
        found = dvcdata.workspace_hashes(worktree, list(plan.inputs))
        wrong = [f"{path} (got {found[path] or 'nothing'}, recorded {plan.inputs[path]})"
                 for path in sorted(plan.inputs) if found[path] != plan.inputs[path]]  # fmt: skip
        if wrong:
            raise dvcdata.DataError(
                f"restored data differs from the record: {'; '.join(wrong)}: the copy in the "
                "DVC cache or remote was changed; restore it from where the run was made"
            )
    for entry in entries:
        if entry.get("source") == "ledger.yaml":
            _copy_plain_data(ws, worktree, entry)
    return notes


def _copy_plain_data(ws: Workspace, worktree: Path, entry: dict[str, Any]) -> None:
    """Data named in ledger.yaml (no DVC): git's copy, else the user's if its hash matches."""
    from ledger.core.digest import md5_file

    relpath = safe_relpath(entry["path"], worktree)
    target = worktree / relpath
    for candidate in (target, ws.path(relpath)):
        if candidate.is_file() and md5_file(candidate)[0] == entry["hash"]:
            if candidate != target:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(candidate.read_bytes())
            return
    raise dvcdata.DataError(
        f"{relpath} is not in DVC and no copy with the recorded hash {entry['hash']} is "
        "here: put that version in your working tree (or track it with `dvc add`)"
    )


def _scratch_workspace(worktree: Path) -> Workspace:
    """The worktree as a workspace whose runs are never committed there (the record is
    moved into the user's repository instead)."""
    ws = Workspace(worktree)
    # Workspace is frozen; its cached config lives in __dict__, which is ours to seed.
    ws.__dict__["config"] = dataclasses.replace(ws.config, commit="off")
    return ws


# Never from a record, even when allowlisted: they choose what code runs, not its numbers.
_NEVER_FROM_RECORD = re.compile(
    r"^(?:PATH|HOME|SHELL|IFS|ENV|BASH_ENV|PS4|PROMPT_COMMAND|PYTHON(?!HASHSEED$)\w*|LD_\w*|"
    r"DYLD_\w*|GIT_\w*|LEDGER_\w*|PERL5?\w*|RUBY\w*|NODE_\w*)$"
)


@dataclass(frozen=True)
class RecordedEnv:
    """The record's environment variables: those a rerun sets, and those it ignores."""

    applied: dict[str, str]
    ignored: list[str]

    def describe(self) -> str:
        shown = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(self.applied.items())) or "none"
        if self.ignored:
            shown += f" (ignored, not allowlisted: {', '.join(sorted(self.ignored))})"
        return shown


def recorded_env(ws: Workspace, rec: dict[str, Any]) -> RecordedEnv:
    """The record's variables that the rerun may set: only names on ledger's allowlist or
    the project's `env_allowlist`, never ones that choose what code runs (PYTHONPATH,
    LD_PRELOAD, PATH, ...), never a redacted value."""
    allowed = set(ENV_ALLOWLIST) | set(ws.config.env_allowlist)
    variables = (rec.get("env") or {}).get("variables") or {}
    applied: dict[str, str] = {}
    ignored: list[str] = []
    if not isinstance(variables, dict):
        return RecordedEnv(applied, ignored)
    for name, value in variables.items():
        name = str(name)
        if not isinstance(value, str) or value == REDACTED:
            continue
        if name in allowed and not _NEVER_FROM_RECORD.match(name):
            applied[name] = value  # e.g. PYTHONHASHSEED, thread counts: they change results
        else:
            ignored.append(name)
    return RecordedEnv(applied, ignored)


def _child_env(recorded: RecordedEnv) -> dict[str, str]:
    return {**os.environ, **recorded.applied}


def _land(ws: Workspace, scratch: Workspace, rec: dict[str, Any]) -> Committed:
    """Copy the reproduction's record, sidecar and environment into the user's repository
    and commit them there under the user's commit policy."""
    schema.validate(rec, source=record.record_path(rec["id"]))
    for relpath, data in ledger_files(scratch, rec).items():
        target = ws.path(relpath)
        if relpath == record.record_path(rec["id"]):
            data = yamlio.dumps(rec).encode("utf-8")
        elif relpath == (rec.get("env") or {}).get("file") and target.exists():
            continue  # content-addressed: the same name is the same content
        target.parent.mkdir(parents=True, exist_ok=True)
        yamlio.write_atomic(target, data)
    return commit_record(ws, rec)


def reproduce(
    ws: Workspace,
    ref: str,
    *,
    tolerance: float | None = None,
    strict_env: bool = False,
    trust: bool = False,
    keep: bool = False,
    say: Say = lambda text: None,
) -> Result:
    """Reproduce the run `ref` names; see the module docstring. `say` receives progress."""
    if tolerance is not None and (tolerance < 0 or tolerance != tolerance):
        raise LedgerError(f"--tolerance must be a relative difference >= 0, not {tolerance}")
    found = locate(ws, ref)
    original = found.item.record
    argv = command_of(original)
    environment = recorded_env(ws, original)
    _check_trust(found, argv, environment, trust)
    code = original.get("code") or {}
    commit = code.get("commit")
    if not commit or not gitstore.rev_parse(ws.root, commit):
        raise LedgerError(
            f"the commit {commit or '(none)'} of run {original['id']} is not in this "
            "repository: `git fetch` the branch it was made on"
        )
    patch = None
    if code.get("patch"):
        patch = companion_file(ws, found.item, code["patch"])
        if patch is None:
            raise LedgerError(f"the code patch {code['patch']} of run {original['id']} is missing")
        _check_patch(patch, code)
    env_diff = envfile.differences(envfile.recorded(ws, found.item), envfile.current())
    if env_diff and strict_env:
        shown = "; ".join(env_diff[:5]) + (f"; and {len(env_diff) - 5} more" if len(env_diff) > 5 else "")
        raise EnvMismatch(
            f"the environment differs from run {original['id']}'s: {shown} "
            "(`ledger env ID` prints the recorded one; drop --strict-env to run anyway)",
            differences=env_diff,
        )
    with _terminate_as_interrupt(), temporary_worktree(ws.root, commit, keep) as worktree:
        say(f"worktree of {commit[:12]} at {worktree}")
        if patch:
            gitstore.apply_patch(worktree, patch)
        plan = recompute.plan(worktree, list(original.get("data") or []), argv)
        notes = restore_data(ws, worktree, original, plan, say)
        scratch = _scratch_workspace(worktree)
        command = dict(original.get("command") or {})
        cwd = worktree / safe_relpath(str(command.get("cwd") or "."), worktree)
        rerun = local_argv(plan.argv, cwd)
        say(f"running {shlex.join(rerun)}")
        say(f"environment from the record: {environment.describe()}")
        outcome = run_command(
            scratch, rerun, name=original.get("name"),
            description=f"Reproduction of run {original['id']}",
            overrides=list(command.get("overrides") or []),
            fields={"command": command, "reproduces": {"run": original["id"], "verdict": None}},
            cwd=str(cwd), env=_child_env(environment), watch=recompute.STAGE_LINE,
            stdout_to_stderr=True,
        )  # fmt: skip
        rec = dict(outcome.record)
        stages = recompute.stages_ran(outcome.watched) if plan.pipeline else None
        judged = reproduce_compare.judge(original, rec, plan, stages, tolerance)
        verdict = judged.verdict
        rec["reproduces"] = {
            "run": original["id"], "verdict": verdict, "tolerance": tolerance, "deltas": judged.deltas,
            "artifacts": judged.artifacts, "outputs": judged.outputs, "stages": stages,
            "env_differences": env_diff, "params_differences": judged.params,
        }  # fmt: skip
        notes += judged.notes
        if notes:
            rec["notes"] = "\n\n".join(filter(None, [rec.get("notes"), *notes]))
        rec = record.canonical(rec)
        committed = _land(ws, scratch, rec)
    return Result(original, rec, verdict, env_diff, judged.params, committed,
                  worktree if keep else None, outcome.exit_code)  # fmt: skip


def _check_trust(found: Located, argv: list[str], environment: RecordedEnv, trust: bool) -> None:
    if found.trusted or trust:
        return
    raise Untrusted(
        f"run {found.item.record['id']} comes from {found.where}, which is not in your "
        f"branch's history; it would run: {shlex.join(argv)} with environment variables "
        f"{environment.describe()} -- read that command (and its code), then rerun with --trust",
        command=argv,
    )
