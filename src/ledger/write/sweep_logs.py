"""Where a sweep keeps its points' output while they run (`-j` > 1): a directory in the
git directory (never TMPDIR, where ledger cannot tell its own from others'), named after
the sweep's process: `<pid>-<start time>-<random>-<host>`. The sweep removes it when it
ends; when the sweep was killed (SIGKILL, out of memory), the next ledger command that
cleans up after dead processes (`ledger.write.liveness.reap`) removes it once that process
is provably gone. Nothing is removed that ledger did not make: only directories so named,
only their `point-*.log` files, and a directory only when that leaves it empty.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from ledger import gitstore
from ledger.core import processes
from ledger.errors import LedgerError

DIRECTORY = "ledger-sweep-logs"
_NAME = re.compile(r"^(?P<pid>[0-9]+)-(?P<since>[0-9.]+|unknown)-[0-9a-f]{8}-(?P<host>[A-Za-z0-9._-]+)$")
_HOST = re.compile(r"^[A-Za-z0-9._-]+$")


def name_for(pid: int, host: str, since: float | None) -> str:
    """A directory name that says which process owns it (a fresh one each time)."""
    if not _HOST.match(host):
        host = "unknown-host"  # never taken for this host's: such a directory is never removed
    return f"{pid}-{since if since is not None else 'unknown'}-{secrets.token_hex(4)}-{host}"


def create(root: Path) -> Path:
    """A new, empty directory for this process's sweep logs."""
    base = gitstore.common_dir(root) / DIRECTORY
    base.mkdir(parents=True, exist_ok=True)
    pid = os.getpid()
    while True:
        path = base / name_for(pid, processes.host(), processes.started(pid))
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path


def remove(path: Path) -> bool:
    """Remove the point logs in `path`, then `path` if that leaves it empty."""
    for log in path.glob("point-*.log"):
        log.unlink(missing_ok=True)
    try:
        path.rmdir()
    except OSError:
        return False
    return True


def owner_gone(name: str) -> bool:
    """Whether `name` is a sweep log directory's and its process, on this host, is gone."""
    found = _NAME.match(name)
    if found is None:
        return False
    return processes.owner_gone(f"ledger pid {found['pid']} on {found['host']} since {found['since']}")


def remove_orphaned(root: Path) -> list[Path]:
    """Remove the log directories of sweeps whose process has died; the paths removed."""
    try:
        base = gitstore.common_dir(root) / DIRECTORY
        entries = list(base.iterdir()) if base.is_dir() else []
    except (OSError, LedgerError):
        return []
    removed = []
    for path in sorted(entries):
        if path.is_dir() and not path.is_symlink() and owner_gone(path.name) and remove(path):
            removed.append(path)
    return removed
