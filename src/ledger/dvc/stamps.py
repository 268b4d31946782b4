"""Whether a run wrote a file: its mtime, size and content before the run against after.

A metrics file counts for a run only if the run made it, so a failed or killed run never
carries the numbers an earlier run left behind.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ledger.core.digest import md5_file

MAX_HASHED_BYTES = 16 * 1024 * 1024

Stamp = tuple[int, int, str]  # mtime (ns), size, md5 ("" for a file too large to hash)
Fresh = Callable[[Path], bool]


def stamp_of(path: Path) -> Stamp | None:
    """A file's stamp, None when it cannot be read."""
    try:
        info = path.stat()
        md5 = md5_file(path)[0] if info.st_size <= MAX_HASHED_BYTES else ""
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size, md5)


def changed_since(before: dict[Path, Stamp]) -> Fresh:
    """A test for files written during the run: new, or another mtime or content."""

    def fresh(path: Path) -> bool:
        return path.is_file() and (path not in before or stamp_of(path) != before[path])

    return fresh


def any_file(path: Path) -> bool:
    """Every file there is counts."""
    return path.is_file()
