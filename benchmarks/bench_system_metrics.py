"""What sampling system metrics costs a run (budget, SPEC §10: < 1% CPU at the default
interval of 10 s).

    python benchmarks/bench_system_metrics.py [--samples 200] [--seconds 30]

1. The cost of one sample, measured directly: CPU seconds of `Sampler.sample_once()` (the
   probe plus the line appended to system.tsv), with psutil and with the /proc fallback,
   while the sampled process has 8 children (a DataLoader's workers, say); as a share of
   one core at the default interval, and at 1 s.
2. `ledger run --force -- true` with sampling on and off (the sampler's start and stop on
   a run shorter than one interval), medians of 7.
3. End to end: `ledger run -- sleep SECONDS` with sampling at the default interval and
   with sampling off (`LEDGER_SYSTEM_INTERVAL=0`), side by side: CPU seconds of the whole
   `ledger run` process tree (best of 2 each), and the difference as a share of the wall time.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ledger.write.system import DEFAULT_INTERVAL, Sampler


def per_sample(samples: int, use_psutil: bool) -> tuple[float, str | None, int]:
    children = [subprocess.Popen(["sleep", "60"]) for _ in range(8)]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            sampler = Sampler(Path(tmp) / "system.tsv", time.time(), DEFAULT_INTERVAL, use_psutil=use_psutil)
            sampler.open()
            sampler.sample_once()  # the first sample sets the baselines
            start = time.process_time()
            for _ in range(samples):
                sampler.sample_once()
            cpu = (time.process_time() - start) / samples
            rows = (Path(tmp) / "system.tsv").read_text().splitlines()[1:]
            columns = len({row.split("\t")[1] for row in rows})
            return cpu, sampler.source, columns
    finally:
        for child in children:
            child.kill()
            child.wait()


def run_cpu(root: Path, seconds: float, interval: str) -> tuple[float, float]:
    """CPU seconds of a `ledger run -- sleep` process tree (`true` for 0 s), and its wall time."""
    env = {**os.environ, "LEDGER_SYSTEM_INTERVAL": interval}
    command = ["sleep", str(seconds)] if seconds else ["true"]
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "ledger", "run", "--force", "--", *command],
                            cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"ledger run failed ({status})")
    return usage.ru_utime + usage.ru_stime, wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200, help="samples timed for the per-sample cost")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the end-to-end run")
    args = parser.parse_args()
    for use_psutil in (True, False):
        cpu, source, columns = per_sample(args.samples, use_psutil)
        print(
            f"one sample ({source}, {columns} columns, 8 child processes): {cpu * 1000:.2f} ms CPU = "
            f"{100 * cpu / DEFAULT_INTERVAL:.3f}% of one core at {DEFAULT_INTERVAL:g} s, {100 * cpu:.2f}% at 1 s"
        )
    with tempfile.TemporaryDirectory(prefix="ledger-bench-system-") as tmp:
        root = Path(tmp)
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
        (root / "ledger.yaml").write_text("experiment: bench\n")
        for cmd in (["git", "add", "."], ["git", "-c", "user.name=b", "-c", "user.email=b@e", "commit", "-qm", "i"]):
            subprocess.run(cmd, cwd=root, check=True)
        pairs = [(run_cpu(root, 0, ""), run_cpu(root, 0, "0")) for _ in range(7)]  # interleaved: same load
        quick = {"sampling on": sorted(p[0] for p in pairs)[3], "sampling off": sorted(p[1] for p in pairs)[3]}
        shown = [f"{k}: {cpu * 1000:.0f} ms CPU, {wall * 1000:.0f} ms wall" for k, (cpu, wall) in quick.items()]
        print("`ledger run --force -- true` (median of 7): " + "; ".join(shown))
        on = min(run_cpu(root, args.seconds, "") for _ in range(2))
        off = min(run_cpu(root, args.seconds, "0") for _ in range(2))
        extra = on[0] - off[0]
        print(f"`ledger run -- sleep {args.seconds:g}`: CPU {on[0]:.3f} s sampling every {DEFAULT_INTERVAL:g} s, "
              f"{off[0]:.3f} s with sampling off: {extra * 1000:+.0f} ms = {100 * extra / on[1]:+.3f}% of one core "
              f"over {on[1]:.1f} s (budget < 1%)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
