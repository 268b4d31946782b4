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
