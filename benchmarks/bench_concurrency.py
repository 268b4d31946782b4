"""Concurrent writers in one clone: every record must land, each in its own commit.

    python benchmarks/bench_concurrency.py [--writers 8] [--runs 50]
    python benchmarks/bench_concurrency.py --writers 1,8,32 --runs 20   # throughput table

Starts WRITERS processes that each record RUNS runs through the Python API (each run is
captured, validated and committed on finish), then counts the records on the branch,
checks that every `Ledger-Run:` commit holds only its own run, runs `git fsck --strict`,
measures what `.git/objects` grew by, and prints the throughput. Budget (SPEC §10):
32 x 100 -> 3,200 of 3,200 records, committed before each writer exits, fsck clean.
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


def objects_size(root: Path) -> tuple[int, int]:
    """(loose objects, KiB of loose + packed objects) from `git count-objects -v`."""
    out = dict(line.split(": ") for line in git(root, "count-objects", "-v").splitlines())
    return int(out["count"]), int(out["size"]) + int(out["size-pack"])


def bench(writers: int, runs: int) -> bool:
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
            subprocess.Popen([sys.executable, "writer.py", str(n), str(runs)], cwd=root,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for n in range(writers)
        ]  # fmt: skip
        problems = [err for p in procs for err in [p.communicate()[1]] if p.returncode or err.strip()]
        elapsed = time.perf_counter() - start
        expected = writers * runs
        landed = [p for p in git(root, "ls-tree", "-r", "--name-only", "HEAD", "experiments").split()
                  if p.endswith(".yaml") and "/envs/" not in p]  # fmt: skip
        foreign = 0
        shas = git(root, "log", "--format=%H", "--grep=Ledger-Run:").split()
        for sha in shas:
            run_id = git(root, "log", "-1", "--format=%(trailers:key=Ledger-Run,valueonly)", sha).strip()
            files = git(root, "show", "--name-only", "--format=", sha).split()
            foreign += sum(1 for f in files if run_id not in f and "/envs/" not in f)
        fsck = subprocess.run(["git", "fsck", "--strict"], cwd=root, capture_output=True, text=True)
        loose, kib = objects_size(root)
        status = git(root, "status", "--porcelain").splitlines()
        print(
            f"{writers} writers x {runs} runs in one clone: {len(landed)} of {expected} records "
            f"committed in {elapsed:.1f} s ({len(landed) / elapsed:.1f} runs/s), {len(shas)} commits"
        )
        reported = [line for line in (fsck.stdout + fsck.stderr).splitlines() if line.strip()]
        dangling = sum(1 for line in reported if line.startswith("dangling "))
        clean = fsck.returncode == 0 and dangling == len(reported)
        print(
            f"  files of other runs inside a run's commit: {foreign}; git fsck --strict: "
            f"{'clean' if clean else 'PROBLEMS: ' + '; '.join(reported[:5])} ({dangling} dangling); "
            f".git/objects: {loose} loose, {kib / 1024:.1f} MiB; `git status` lines: {len(status)}; "
            f"writer errors/warnings: {len(problems)}"
        )
        for err in problems[:3]:
            print("  writer stderr:", err.strip().splitlines()[-1])
        return len(landed) == expected and foreign == 0 and clean and not problems and not status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", default="8", help="concurrent processes (a comma list: one bench each)")
    parser.add_argument("--runs", type=int, default=50, help="runs per process")
    args = parser.parse_args()
    ok = [bench(int(n), args.runs) for n in args.writers.split(",")]
    return 0 if all(ok) else 1


if __name__ == "__main__":
    raise SystemExit(main())
