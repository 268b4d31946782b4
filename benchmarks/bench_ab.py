"""A/B check of a change on the read and write paths: two source trees side by side.

    python benchmarks/bench_ab.py --a /path/to/main/src --b src [--runs 10000]

Times, alternating A and B so that a busy machine slows both alike: `ledger top --metric
auc` (whole process) warm and cold over a generated repository (bench_query's generator),
and the package scan of `ledger run`'s environment capture (`installed_packages()`).
Prints medians and minima; a change should leave B within noise of A.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import bench_query  # noqa: E402 - after the path tweak


def _top(root: Path, src: str, cold: bool) -> float:
    if cold:
        shutil.rmtree(root / ".git" / "ledger-cache", ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": src}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ledger", "top", "--metric", "auc"], cwd=root, env=env, check=True,
                   capture_output=True)  # fmt: skip
    return time.perf_counter() - start


def _packages(src: str) -> float:
    code = ("import time; from ledger.write.capture import environment as e; e.installed_packages(); "
            "t = time.perf_counter(); [e.installed_packages() for _ in range(10)]; "
            "print((time.perf_counter() - t) / 10)")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": src}, check=True,
                         capture_output=True, text=True).stdout  # fmt: skip
    return float(out)


def _line(label: str, times: dict[str, list[float]], unit: float = 1.0, suffix: str = "s") -> str:
    parts = [f"{k}: median {statistics.median(v) * unit:.3f} {suffix}, min {min(v) * unit:.3f} {suffix}"
             for k, v in times.items()]  # fmt: skip
    return f"{label:<28} " + " | ".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--a", required=True, help="source tree A (its `src` folder)")
    parser.add_argument("--b", required=True, help="source tree B (its `src` folder)")
    parser.add_argument("--runs", type=int, default=10_000, help="runs in the generated repository")
    parser.add_argument("--repeat", type=int, default=5, help="repetitions of each timing")
    args = parser.parse_args()
    trees = {"A": str(Path(args.a).resolve()), "B": str(Path(args.b).resolve())}
    work = Path(tempfile.mkdtemp(prefix="ledger-ab-"))
    try:
        root = work / "repo"
        root.mkdir()
        bench_query.generate(root, args.runs)
        for cold in (False, True):
            times: dict[str, list[float]] = {k: [] for k in trees}
            for _ in range(args.repeat):
                for name, src in trees.items():
                    _top(root, src, False)  # this tree's cache, warm
                    times[name].append(_top(root, src, cold))
            print(_line(f"top {args.runs:,} runs {'cold' if cold else 'warm'}", times))
        packages: dict[str, list[float]] = {k: [] for k in trees}
        for _ in range(args.repeat):
            for name, src in trees.items():
                packages[name].append(_packages(src))
        print(_line("installed_packages()", packages, 1000, "ms"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
