"""Running git and the real `ledger` command in a test's repository."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the ledger checkout


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def ledger_cli(
    cwd: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the real `ledger` console entry point as a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "ledger", *args],
        cwd=cwd, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


def records(root: Path) -> list[Path]:
    return sorted(root.glob("experiments/[0-9][0-9][0-9][0-9]-[0-9][0-9]/*.yaml"))


def python_on_path(directory: Path) -> str:
    """A PATH whose `python` is this interpreter (a wrapper script, not a symlink: a symlink to
    a virtualenv's python outside the virtualenv loses its site-packages), for commands a test
    writes as a user would (`-- python train.py`)."""
    directory.mkdir(parents=True, exist_ok=True)
    wrapper = directory / "python"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n', encoding="utf-8")
    wrapper.chmod(0o755)
    return f"{directory}{os.pathsep}{os.environ['PATH']}"
