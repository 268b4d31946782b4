"""What checking data versions through DVC costs a run, and what DVC's state cache saves.

    python benchmarks/bench_data_matches.py [--mb 256]

In a fresh git + DVC repository with one DVC-tracked file of `--mb` MiB, the data capture
(`ledger.write.capture.data.capture_data`, which sets `matches` through DVC) is timed in fresh
processes: the first check (DVC hashes the file; `dvc add` already filled the state cache,
so the state is cleared first to measure a true cold hash), then repeated checks (DVC's
state cache answers from inode/mtime/size). Printed against the raw cost of reading the
file once with hashlib, as ratios.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHECK = """\
import sys, time
t = time.perf_counter()
from ledger.write.capture.data import capture_data
entries = capture_data(__import__("pathlib").Path(sys.argv[1]))
assert entries[0]["matches"] is True, entries
print(time.perf_counter() - t)
"""


def _setup(mb: int) -> tuple[Path, dict[str, str]]:
    root = Path(tempfile.mkdtemp(prefix="ledger-bench-data-"))
    env = {**os.environ, "DVC_NO_ANALYTICS": "1", "DVC_SITE_CACHE_DIR": str(root / "site-cache"),
           "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}  # fmt: skip
    repo = root / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True, env=env)
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], cwd=repo, check=True, env=env)
    (repo / "data").mkdir()
    with open(repo / "data" / "big.bin", "wb") as fh:
        for _ in range(mb):
            fh.write(os.urandom(1 << 20))
    subprocess.run([sys.executable, "-m", "dvc", "add", "-q", "data/big.bin"], cwd=repo, check=True, env=env)
    return repo, env


def _check(repo: Path, env: dict[str, str]) -> float:
    out = subprocess.run([sys.executable, "-c", CHECK, str(repo)], env=env, check=True,
                         capture_output=True, text=True)  # fmt: skip
    return float(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    repo, env = _setup(args.mb)
    t = time.perf_counter()
    hashlib.md5((repo / "data" / "big.bin").read_bytes(), usedforsecurity=False).hexdigest()
    raw = time.perf_counter() - t
    shutil.rmtree(env["DVC_SITE_CACHE_DIR"], ignore_errors=True)  # forget DVC's state
    cold = _check(repo, env)
    warm = statistics.median(_check(repo, env) for _ in range(args.repeat))
    print(f"data: one DVC-tracked file of {args.mb} MiB")
    print(f"raw md5 of the file (hashlib, in memory): {raw:.3f} s")
    print(f"capture_data, DVC state empty (hashes):   {cold:.3f} s  ({cold / raw:.2f}x raw)")
    print(f"capture_data, DVC state warm (median):    {warm:.3f} s  ({warm / raw:.2f}x raw)")
    print(f"state cache saves: {cold / warm:.1f}x")
    shutil.rmtree(repo.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
