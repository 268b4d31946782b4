"""Concurrent writers in one clone: every record must land, each in its own commit.

    python benchmarks/bench_concurrency.py [--writers 8] [--runs 50]

Starts WRITERS processes that each record RUNS runs through the Python API (each run is
captured, validated and committed on finish), then counts the records on the branch,
checks that every `Ledger-Run:` commit holds only its own run, runs `git fsck --strict`,
and prints the throughput. Budget (SPEC §10): 8 x 50 -> 400 of 400 records, fsck clean.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WRITER = """
import sys, ledger
for i in range(int(sys.argv[2])):
    with ledger.start_run(name=f"w{sys.argv[1]}-{i}") as run:
        run.log_params({"writer": int(sys.argv[1]), "i": i})
        run.log_metric("auc", 0.5 + i / 1000)
"""


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=8, help="concurrent processes")
    parser.add_argument("--runs", type=int, default=50, help="runs per process")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ledger-bench-concurrency-") as tmp:
        root = Path(tmp)
        git(root, "init", "-q", "-b", "main")
        git(root, "config", "user.name", "bench")
        git(root, "config", "user.email", "bench@example.com")
        (root / "writer.py").write_text(WRITER)
        (root / "ledger.yaml").write_text("experiment: bench\n")
        git(root, "add", ".")
        git(root, "commit", "-q", "-m", "init")
        start = time.perf_counter()
        procs = [
            subprocess.Popen([sys.executable, "writer.py", str(n), str(args.runs)], cwd=root,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for n in range(args.writers)
        ]  # fmt: skip
        problems = [err for p in procs for err in [p.communicate()[1]] if p.returncode or err.strip()]
        elapsed = time.perf_counter() - start
        expected = args.writers * args.runs
        landed = [p for p in git(root, "ls-tree", "-r", "--name-only", "HEAD", "experiments").split()
                  if p.endswith(".yaml") and "/envs/" not in p]  # fmt: skip
        foreign = 0
        for sha in git(root, "log", "--format=%H", "--grep=Ledger-Run:").split():
            run_id = git(root, "log", "-1", "--format=%(trailers:key=Ledger-Run,valueonly)", sha).strip()
            files = git(root, "show", "--name-only", "--format=", sha).split()
            foreign += sum(1 for f in files if run_id not in f and "/envs/" not in f)
        fsck = subprocess.run(["git", "fsck", "--strict"], cwd=root, capture_output=True, text=True)
        print(
            f"{args.writers} writers x {args.runs} runs in one clone: {len(landed)} of {expected} records "
            f"committed in {elapsed:.1f} s ({len(landed) / elapsed:.1f} runs/s)"
        )
        # Dangling commits are expected (a writer that lost a compare-and-swap race drops its
        # commit and rebuilds on the new tip); anything else fsck reports is a problem.
        reported = [line for line in (fsck.stdout + fsck.stderr).splitlines() if line.strip()]
        dangling = sum(1 for line in reported if line.startswith("dangling "))
        clean = fsck.returncode == 0 and dangling == len(reported)
        print(
            f"files of other runs inside a run's commit: {foreign}; git fsck --strict: "
            f"{'clean' if clean else 'PROBLEMS: ' + '; '.join(reported[:5])} "
            f"({dangling} dangling commits from lost races); writer errors/warnings: {len(problems)}"
        )
        return 0 if len(landed) == expected and foreign == 0 and clean and not problems else 1


if __name__ == "__main__":
    raise SystemExit(main())
