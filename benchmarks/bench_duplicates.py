"""Cost of the duplicate check in `ledger run` (SPEC §3), as a ratio to the whole run.

    python benchmarks/bench_duplicates.py [--repeat 7] [--records 50]

In a repository holding earlier `ledger run -- true` records (so the check must capture
the code state and compare), times `ledger run -p i=N -- true` (checked: new params, so it
runs) against `ledger run --force -p i=N -- true` (no check). Medians of `--repeat` runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def _ledger(cwd: Path, *args: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ledger", "run", *args, "--", "true"], cwd=cwd,
                   check=True, capture_output=True)  # fmt: skip
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--records", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ.setdefault("GIT_AUTHOR_NAME", "bench")
        os.environ.setdefault("GIT_AUTHOR_EMAIL", "bench@example.com")
        os.environ.setdefault("GIT_COMMITTER_NAME", "bench")
        os.environ.setdefault("GIT_COMMITTER_EMAIL", "bench@example.com")
        _git(root, "init", "-q", "-b", "main")
        (root / "params.yaml").write_text("lr: 0.1\n")
        (root / "train.py").write_text("print(1)\n")
        _git(root, "add", ".")
        _git(root, "commit", "-qm", "init")
        for i in range(args.records):
            _ledger(root, "--force", "-p", f"seed={i}")
        checked, forced = [], []
        for i in range(args.repeat):
            checked.append(_ledger(root, "-p", f"i={i}"))
            forced.append(_ledger(root, "--force", "-p", f"j={i}"))
        c, f = statistics.median(checked), statistics.median(forced)
        print(f"{args.records} earlier records; medians of {args.repeat} runs")
        print(f"`ledger run` with the duplicate check: {c * 1000:8.1f} ms")
        print(f"`ledger run --force` (no check):       {f * 1000:8.1f} ms")
        print(f"check overhead: {(c - f) * 1000:.0f} ms, ratio {c / f:.2f}x")


if __name__ == "__main__":
    main()
