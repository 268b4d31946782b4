"""Content hashes of files, as DVC computes them (used by the write path, DVC and reproduction)."""

from __future__ import annotations

import hashlib
from pathlib import Path


def md5_file(path: Path) -> tuple[str, int]:
    """DVC-compatible md5 of one file, and its size."""
    digest = hashlib.md5(usedforsecurity=False)
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size
