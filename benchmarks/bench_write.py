"""Write-path benchmark: logging step metrics, and the overhead of `ledger run -- true`.

    python benchmarks/bench_write.py [--files 10000] [--repeat 7] [--mlflow]

Prints medians and ratios: ledger against the raw git cost of committing one file in the
same repository, the cost of relaying a loud command's output (50 MB) against the command
alone, and (with --mlflow, when MLflow is installed) against MLflow's
`log_metric` loop and run logging on the same work. Budgets (SPEC §10): 100,000 points
< 0.5 s; `ledger run -- true` overhead < 1 s.
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

POINTS = 100_000
LOUD_LINES = 500_000  # x 100 bytes: 50 MB of output


def sh(cwd: Path, *args: str) -> None:
    subprocess.run(args, cwd=cwd, check=True, capture_output=True)


def make_repo(root: Path, files: int) -> None:
    sh(root, "git", "init", "-q", "-b", "main")
    sh(root, "git", "config", "user.name", "bench")
    sh(root, "git", "config", "user.email", "bench@example.com")
    for i in range(files):
        folder = root / "src" / f"pkg{i // 500}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"m{i}.py").write_text(f"VALUE = {i}\n")
    (root / "params.yaml").write_text("lr: 0.1\nseed: 1\n")
    (root / "ledger.yaml").write_text("experiment: bench\n")
    sh(root, "git", "add", ".")
    sh(root, "git", "commit", "-q", "-m", "init")


def median_wall(
    cmd: list[str], cwd: Path, repeat: int, env: dict[str, str] | None = None, discard: bool = False
) -> float:
    """Median wall time; `discard` sends stdout to /dev/null (no reader to slow it down)."""
    times = []
    for _ in range(repeat + 1):
        start = time.perf_counter()
        out = subprocess.DEVNULL if discard else subprocess.PIPE
        subprocess.run(cmd, cwd=cwd, check=True, stdout=out, stderr=subprocess.PIPE, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])  # the first run warms caches


def bench_log_metric(root: Path) -> float:
    code = (
        "import time, ledger\n"
        "with ledger.start_run(name='points') as run:\n"
        "    t = time.perf_counter()\n"
        f"    for i in range({POINTS}):\n"
        "        run.log_metric('loss', 1.0 / (i + 1), step=i)\n"
        "    run.flush()\n"
        "    print(time.perf_counter() - t)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=root, check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def bench_mlflow_points(tmp: Path, points: int) -> tuple[float, str] | None:
    code = (
        "import time, mlflow\n"
        f"mlflow.set_tracking_uri('sqlite:///{tmp}/mlflow.db')\n"
        "with mlflow.start_run():\n"
        "    t = time.perf_counter()\n"
        f"    for i in range({points}):\n"
        "        mlflow.log_metric('loss', 1.0 / (i + 1), step=i)\n"
        "    print(time.perf_counter() - t)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp, capture_output=True, text=True)
    if proc.returncode != 0:
        return None
    import mlflow  # noqa: F401 - only to report the version

    return float(proc.stdout.strip().splitlines()[-1]), mlflow.__version__


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000, help="files in the generated repository")
    parser.add_argument("--repeat", type=int, default=7, help="timed repetitions per command")
    parser.add_argument("--mlflow", action="store_true", help="also time MLflow (if installed)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ledger-bench-write-") as tmp:
        root = Path(tmp) / "repo"
        root.mkdir()
        make_repo(root, args.files)
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        ledger_bin = [sys.executable, "-m", "ledger"]

        log_s = bench_log_metric(root)
        print(f"log_metric x {POINTS:,}: {log_s:.3f} s ({POINTS / log_s:,.0f} points/s)   budget < 0.5 s")

        true_s = median_wall(["true"], root, args.repeat)
        import_s = median_wall([sys.executable, "-c", "import ledger"], root, args.repeat, env)
        run_s = median_wall([*ledger_bin, "run", "--force", "--", "true"], root, args.repeat, env)
        (root / "touch.txt").write_text("0")
        git_s = median_wall(["sh", "-c", "date +%s%N > touch.txt && git add touch.txt && git commit -q -m x"],
                            root, args.repeat)  # fmt: skip
        overhead = run_s - true_s
        print(f"repository: {args.files:,} files; medians of {args.repeat} runs after one warm-up")
        print(f"`true` alone:                 {true_s * 1000:8.1f} ms")
        print(f"python -c 'import ledger':    {import_s * 1000:8.1f} ms")
        print(f"raw git add+commit of 1 file: {git_s * 1000:8.1f} ms")
        print(
            f"`ledger run --force -- true`:{run_s * 1000:8.1f} ms   overhead {overhead * 1000:.0f} ms  budget < 1000 ms"
        )
        print(f"ratio ledger run / raw git commit: {run_s / git_s:.1f}x")
        # The child's output passes through ledger (relayed live and kept, capped, in the
        # sidecar log): a command writing 50 MB, alone and under `ledger run`, output piped.
        loud = [sys.executable, "-c", f"import sys\nfor _ in range({LOUD_LINES}): sys.stdout.write('x' * 99 + '\\n')"]
        loud_s = median_wall(loud, root, args.repeat, env, discard=True)
        loud_run_s = median_wall([*ledger_bin, "run", "--force", "--", *loud], root, args.repeat, env, discard=True)
        tee = ["sh", "-c", '"$0" -c "$1" | tee out.log', loud[0], loud[2]]  # what users do by hand
        tee_s = median_wall(tee, root, args.repeat, env, discard=True)
        relay_s = loud_run_s - run_s - (loud_s - true_s)
        print(f"50 MB of output alone:        {loud_s * 1000:8.1f} ms")
        print(f"... through `| tee out.log`:  {tee_s * 1000:8.1f} ms   tee cost {(tee_s - loud_s) * 1000:.0f} ms")
        print(f"... under `ledger run`:       {loud_run_s * 1000:8.1f} ms   relay cost {relay_s * 1000:.0f} ms "
              f"beyond ledger's own overhead (relay + log redaction), {relay_s / max(tee_s - loud_s, 1e-3):.1f}x "
              "the tee cost")  # fmt: skip
        if args.mlflow:
            points = 2_000
            measured = bench_mlflow_points(Path(tmp), points)
            if measured is None:
                print("MLflow: not installed or failed; skipped")
            else:
                seconds, version = measured
                rate = points / seconds
                print(f"MLflow {version} log_metric (SQLite) x {points:,}: {seconds:.2f} s ({rate:,.0f} points/s)")
                print(f"ratio ledger/MLflow points per second: {(POINTS / log_s) / rate:.0f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
