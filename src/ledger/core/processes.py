"""Which local process wrote something, and whether it is gone: a pid alone is not enough,
because pids are reused, so a process is named by its pid, its host and when it started."""

from __future__ import annotations

import os
import re
import socket


def started(pid: int) -> float | None:
    """When a local process started (Linux /proc, epoch seconds), or None when unknown."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        ticks = int(fields[19])
        with open("/proc/stat", encoding="ascii") as fh:
            boot = next(int(line.split()[1]) for line in fh if line.startswith("btime"))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def zombie(pid: int) -> bool:
    """Whether local process `pid` has ended but was not reaped yet (Linux /proc): it runs
    nothing any more. Orphans stay zombies for good where the init process does not reap
    (a container without one)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return False


def gone(pid: int, since: float | None) -> bool:
    """Whether local process `pid`, alive at `since` (epoch seconds), has ended: no such
    process, a zombie, or one that started after `since` (its pid was reused)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass
    if zombie(pid):
        return True
    born = started(pid)
    return bool(since and born and born > since + 5)


def host() -> str:
    return socket.gethostname()


_OWNER = re.compile(r"^ledger pid (?P<pid>[0-9]+) on (?P<host>\S+) since (?P<since>[0-9.]+|unknown)$")


def owner(pid: int | None = None) -> str:
    """This process (or local process `pid`, while it runs), in words another ledger process
    can check with `owner_gone`."""
    pid = os.getpid() if pid is None else pid
    since = started(pid)
    return f"ledger pid {pid} on {host()} since {since if since is not None else 'unknown'}"


def owner_gone(text: str) -> bool:
    """Whether the process an `owner()` text names has ended (False for another host's,
    or for a text that is not one)."""
    found = _OWNER.match(text.strip())
    if found is None or found["host"] != host():
        return False
    since = None if found["since"] == "unknown" else float(found["since"])
    return gone(int(found["pid"]), since)
