"""The one error root. Every expected failure is a LedgerError with a message that says
what to do; the CLI maps them to exit code 1 without a traceback."""

from __future__ import annotations


class LedgerError(Exception):
    """An expected failure, with a one-line message that tells the user what to do."""

    exit_code = 1


class NotAWorkspace(LedgerError):
    """The current directory is not inside a git repository."""


class RecordError(LedgerError):
    """A record (or any ledger YAML file) is unreadable or breaks a safety rule."""

    def __init__(self, message: str, *, path: str | None = None, pointer: str | None = None):
        self.path = path
        self.pointer = pointer
        where = path or "<record>"
        if pointer is not None:
            where = f"{where} at {pointer or '/'}"
        super().__init__(f"{where}: {message}")
        self.reason = message


class UnsupportedVersion(RecordError):
    """A record written by a newer ledger."""


class ConfigError(LedgerError):
    """ledger.yaml or params.yaml cannot be used."""


class UsageError(LedgerError):
    """A bad argument that argparse could not catch (exit code 2)."""

    exit_code = 2


class RunNotFound(LedgerError):
    """No run matches the given id, prefix or name."""


class CommitError(LedgerError):
    """A record could not be committed."""


class PathExists(CommitError):
    """A create-only commit found one of its paths already committed (by another writer)."""

    def __init__(self, message: str, *, committed_path: str):
        super().__init__(message)
        self.committed_path = committed_path


class DuplicateRun(LedgerError):
    """A finished run with the same params, code and data exists."""

    def __init__(self, message: str, *, run_id: str):
        self.run_id = run_id
        super().__init__(message)


class LedgerWarning(UserWarning):
    """Something ledger could not capture or do; the run goes on."""


class TrialPruned(SystemExit):
    """Raised by `log_metric` in a trial of `ledger sweep --optimize` that the pruner stops.

    It ends the training process quietly (exit status 0, like `sys.exit()`, and past
    `except Exception`); the run is recorded as `pruned` at `step`.
    """

    def __init__(self, trial: int, step: int):
        super().__init__(0)
        self.trial = trial
        self.step = step
