"""`ledger hook install`: the git pre-commit hook that runs `ledger check --staged` and the
unlogged-code guard.

The hook goes where git looks for hooks (`core.hooksPath` respected). An existing hook that
is not ledger's is never overwritten without `--force`: it is kept next to ours under
another name and run first, so both gates hold.
"""

from __future__ import annotations

import os
import shlex
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from ledger import gitstore
from ledger.core.workspace import Workspace
from ledger.errors import LedgerError

HOOK = "pre-commit"
CHAINED = "pre-commit.before-ledger"
SIGNATURE = "# ledger pre-commit hook"


@dataclass(frozen=True)
class Installed:
    path: Path
    chained: Path | None  # the earlier hook ours runs first
    replaced: bool  # an earlier hook was overwritten (--force)
    updated: bool  # ours was there already and was rewritten


def hooks_dir(ws: Workspace) -> Path:
    """Where git runs hooks from for this repository (honours core.hooksPath)."""
    return gitstore.hooks_dir(ws.root)


def script(python: str | None = None) -> str:
    """The hook's text: the chained hook first, then ledger (this interpreter, else PATH)."""
    python = python or sys.executable
    return f"""#!/bin/sh
{SIGNATURE} (written by `ledger hook install`; `git commit --no-verify` skips it)
here=$(dirname "$0")
if [ -x "$here/{CHAINED}" ]; then
    "$here/{CHAINED}" "$@" || exit $?
fi
if [ -x {shlex.quote(python)} ]; then
    exec {shlex.quote(python)} -m ledger hook run
elif command -v ledger >/dev/null 2>&1; then
    exec ledger hook run
fi
echo "ledger: the pre-commit hook cannot find ledger: pip install ledger-ml" >&2
exit 1
"""


def is_ours(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return SIGNATURE in fh.read(4096)
    except OSError:
        return False


def install(ws: Workspace, *, force: bool = False) -> Installed:
    """Write the pre-commit hook; keep and chain to a foreign one unless `force`."""
    directory = hooks_dir(ws)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / HOOK
    chained = directory / CHAINED
    exists = path.exists() or path.is_symlink()
    ours = exists and is_ours(path)
    replaced = False
    if exists and not ours:
        if force:
            replaced = True
        elif chained.exists() or chained.is_symlink():
            raise LedgerError(
                f"{path} exists and {chained.name} too: merge them by hand, or rerun with "
                "--force to replace the pre-commit hook"
            )
        else:
            os.replace(path, chained)
    tmp = directory / f".{HOOK}.ledger-tmp"
    tmp.write_text(script(), encoding="utf-8")
    tmp.chmod(tmp.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    os.replace(tmp, path)
    has_chain = chained.exists() and not replaced
    return Installed(path, chained if has_chain else None, replaced, ours)
