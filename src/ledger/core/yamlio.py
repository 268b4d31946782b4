"""The one place YAML is read and written.

Reading treats every document as untrusted: the safe loader only, and on top of it no
aliases or anchors, no tags beyond YAML's core types, no duplicate keys, bounded depth and
size. Writing is deterministic: the caller's key order, no aliases, block style, strings that
would read back as another type quoted, multi-line strings as literal blocks.

PyYAML itself sits behind this module in `yamlsafe.py`, imported on the first read or
write: the many modules that only need the limits below or `write_atomic` (the whole warm
read path) do not pay for it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 32
# What `loads` makes of a document: bump it when that changes (a rule added, a type read
# differently), so that answers remembered from an earlier parse (the config memo) are
# parsed again.
PARSER_VERSION = 1


def parser_version() -> str:
    """Which parser `loads` is, without importing it: ledger's rules (PARSER_VERSION) and
    the installed PyYAML (its module file's size and time: a reinstall or an upgrade
    rewrites it). Changes whenever a document could parse differently."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("yaml")
        st = os.stat(spec.origin) if spec is not None and spec.origin else None
    except (ImportError, ValueError, OSError):
        st = None
    found = f"{st.st_size}:{st.st_mtime_ns}" if st is not None else "none"
    return f"{PARSER_VERSION}/pyyaml:{found}"


def loads(
    text: str | bytes,
    *,
    source: str = "<yaml>",
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
) -> Any:
    """Parse one untrusted YAML document; raise RecordError naming `source` on any violation."""
    from ledger.core import yamlsafe  # PyYAML, on the first document read

    return yamlsafe.loads(text, source=source, max_bytes=max_bytes, max_depth=max_depth)


def load_file(path: Path, *, source: str | None = None, max_bytes: int = MAX_BYTES) -> Any:
    """Read and parse a YAML file under the same rules as `loads`."""
    with open(path, "rb") as fh:
        data = fh.read(max_bytes + 1)
    return loads(data, source=source or str(path), max_bytes=max_bytes)


def implicit_resolvers() -> dict[str, list[tuple[str, Any]]]:
    """How the loader types a plain scalar: first character -> [(tag, regexp)], for the
    fast reader that must type scalars exactly as the loader does."""
    from ledger.core import yamlsafe

    return yamlsafe.implicit_resolvers()


def dumps(data: Any) -> str:
    """Serialize plain data deterministically (the caller owns key order)."""
    from ledger.core import yamlsafe  # PyYAML, on the first document written

    return yamlsafe.dumps(data)


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write a file so that a reader sees the old content or the new, never half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8") if isinstance(text, str) else text
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def dump_file(path: Path, data: Any) -> None:
    """Serialize and write atomically."""
    write_atomic(path, dumps(data))
