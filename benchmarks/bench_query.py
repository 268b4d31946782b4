"""Benchmark of the read path: `ledger top --metric auc` and `ledger diff HEAD~1 HEAD` over
generated repositories.

    python benchmarks/bench_query.py                 # 1,000 and 10,000 runs
    python benchmarks/bench_query.py --sizes 1000 10000 100000
    python benchmarks/bench_query.py --keep DIR --reuse --sizes 100000   # generate once
    python benchmarks/bench_query.py --mlflow-python /path/to/venv/bin/python

Each repository has 10 runs per commit, written with ledger's own record and YAML code so
the records look like real ones (~20 params, ~10 metrics, tags, code, env reference,
hardware, resources, a series summary). It prints, side by side: `ledger top` cold (no
cache) and warm (whole process, median of several), the raw cost of streaming the same
blobs with `git ls-tree | git cat-file --batch`, and MLflow's `search_runs` over the same
runs in a SQLite store (run by another interpreter that has mlflow installed, so that
mlflow never enters ledger's own environment), and `ledger diff` cold and warm with its
ratio to `top` (it reads BASE through the same cache and summary). CPU time (user + sys of
the whole process tree) is printed beside each wall time: on a shared machine it is the
steadier figure. Peak memory of the cold run is reported too (ru_maxrss of the child).
"""

from __future__ import annotations

import argparse
import compileall
import datetime
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import ledger
from ledger.core import record, yamlio

RUNS_PER_COMMIT = 10
START = datetime.datetime(2024, 1, 1)
MODELS = ("xgb", "lgbm", "rf", "logreg", "mlp")


def make_record(i: int, rng: random.Random) -> dict[str, Any]:
    """One realistic finished (or sometimes failed) run record."""
    # One run every 15 minutes: a few thousand per month folder, as a busy team would have.
    moment = START + datetime.timedelta(minutes=15 * i)
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%S")
    model = MODELS[i % len(MODELS)]
    run_id = f"{moment:%Y%m%d-%H%M%S}-{model}-sweep-{i:08x}"
    params = {
        "model": {"type": model, "depth": rng.randint(2, 12), "n_estimators": rng.choice([100, 200, 500]),
                  "learning_rate": round(rng.uniform(0.001, 0.3), 5), "subsample": round(rng.uniform(0.5, 1), 3),
                  "colsample": round(rng.uniform(0.5, 1), 3), "min_child_weight": rng.randint(1, 10)},
        "data": {"features": rng.choice(["v1", "v2", "v3"]), "split": 0.2, "balance": rng.choice([True, False]),
                 "version": "2026-10"},
        "train": {"epochs": rng.randint(5, 50), "batch_size": rng.choice([32, 64, 128]), "seed": i,
                  "early_stopping": 10, "optimizer": rng.choice(["adam", "sgd"])},
        "lr": round(rng.uniform(1e-4, 1e-1), 6), "dropout": round(rng.uniform(0, 0.5), 3),
        "weight_decay": 1e-05, "notes_tag": f"trial-{i % 97}",
    }  # fmt: skip
    auc = round(rng.uniform(0.6, 0.99), 6)
    metrics: dict[str, Any] = {
        "auc": auc if i % 211 else float("nan"), "val/auc": round(auc - rng.uniform(0, 0.05), 6),
        "accuracy": round(rng.uniform(0.6, 0.99), 6), "f1": round(rng.uniform(0.5, 0.95), 6),
        "precision": round(rng.uniform(0.5, 0.99), 6), "recall": round(rng.uniform(0.5, 0.99), 6),
        "loss": round(rng.uniform(0.05, 1.2), 6), "val/loss": round(rng.uniform(0.05, 1.5), 6),
        "train_time": round(rng.uniform(10, 900), 3), "logloss": round(rng.uniform(0.1, 0.9), 6),
    }  # fmt: skip
    failed = i % 53 == 0
    sidecar = record.sidecar_dir(run_id)
    rec = {
        "id": run_id, "name": f"{model}-sweep-{i}", "tags": {"stage": "sweep", "owner": "ml-team"},
        "experiment": "churn", "status": "failed" if failed else "finished", "baseline": False,
        "started_at": stamp + ".000Z", "ended_at": stamp + ".900Z", "duration_s": 0.9,
        "author": {"name": "Ada Lovelace", "email": "ada@example.com", "user": "ada", "host": "gpu-box-3"},
        "command": {"argv": ["python", "train.py", "--config", "params.yaml"], "cwd": "."},
        "code": {"commit": f"{i:040x}", "branch": "main", "dirty": False, "patch": None,
                 "patch_hash": None, "tree": f"{i * 7:040x}", "remote": "https://git.example.com/ml/churn.git"},
        "params": params, "seed": i, "metrics": metrics,
        "series": {"path": f"{sidecar}/series.tsv",
                   "metrics": {"loss": {"count": 50, "last": metrics["loss"], "last_step": 49,
                                        "best": metrics["loss"], "best_step": 49}}},
        "env": {"id": "7c8699d6713d417f", "file": "experiments/envs/7c8699d6713d417f.yaml",
                "python": "3.11.7", "implementation": "CPython", "platform": "Linux-x86_64"},
        "hardware": {"cpu": "AMD EPYC", "cores": 16, "memory_bytes": 68719476736, "gpus": []},
        "resources": {"wall_s": 0.9, "cpu_s": 0.85, "peak_rss_bytes": 512000000},
    }  # fmt: skip
    if failed:
        trace = 'Traceback (most recent call last):\n  File "train.py", line 3\nValueError: loss diverged\n'
        rec["error"] = {"type": "ValueError", "message": "loss diverged", "traceback": trace, "exit_code": 1}
    return record.canonical(rec)


def _commits(first: int, last: int, runs: int, seed: int) -> bytes:
    """The fast-import stream of commits [first, last), each with its own seeded records."""
    out = []
    for commit in range(first, last):
        rng = random.Random(seed * 1_000_003 + commit)
        body = f"ledger: record runs {commit}\n".encode()
        chunk = b"commit refs/heads/main\ncommitter Bench <bench@example.com> %d +0000\n" % (1790000000 + commit)
        chunk += b"data %d\n" % len(body) + body
        if commit == 0:
            conf = b"experiment: churn\nprimary_metric: auc\n"
            chunk += b"M 100644 inline ledger.yaml\ndata %d\n" % len(conf) + conf
        for i in range(commit * RUNS_PER_COMMIT, min(runs, (commit + 1) * RUNS_PER_COMMIT)):
            rec = make_record(i, rng)
            data = yamlio.dumps(rec).encode("utf-8")
            path = record.record_path(rec["id"]).encode()
            chunk += b"M 100644 inline %s\ndata %d\n" % (path, len(data)) + data
        out.append(chunk + b"\n")
    return b"".join(out)


def generate(root: Path, runs: int, seed: int = 0, jobs: int = 0) -> None:
    """A git repository with `runs` records, RUNS_PER_COMMIT per commit (git fast-import)."""
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    commits = (runs + RUNS_PER_COMMIT - 1) // RUNS_PER_COMMIT
    jobs = jobs or os.cpu_count() or 1
    step = max(1, commits // (jobs * 4))
    ranges = [(a, min(commits, a + step)) for a in range(0, commits, step)]
    proc = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=root, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    with ProcessPoolExecutor(jobs) as pool:
        for chunk in pool.map(_commits, *zip(*[(a, b, runs, seed) for a, b in ranges])):
            proc.stdin.write(chunk)
    proc.stdin.close()
    if proc.wait() != 0:
        raise SystemExit("git fast-import failed")
    subprocess.run(["git", "reset", "-q", "--hard", "main"], cwd=root, check=True)


def timed(argv: list[str], cwd: Path, ok: tuple[int, ...] = (0,)) -> tuple[float, str, float]:
    """Wall seconds, stdout and CPU seconds (user + sys of it and every process it waited
    for: git, workers) of one whole child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in ok:
        raise SystemExit(f"{argv} failed: {proc.stderr.strip()}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return elapsed, proc.stdout, cpu


def raw_git(root: Path, pin: list[str]) -> float:
    """The floor: list the record blobs and stream them all through `git cat-file --batch`."""
    start = time.perf_counter()
    pinned = " ".join(pin)
    subprocess.run(
        f"{pinned} git ls-tree -r --format='%(objectname)' HEAD experiments"
        f" | {pinned} git cat-file --batch > /dev/null",
        shell=True, cwd=root, check=True,
    )  # fmt: skip
    return time.perf_counter() - start


MLFLOW_SCRIPT = r"""
import json, sys, time
records = json.load(open(sys.argv[1]))
uri = "sqlite:///" + sys.argv[2] + "/mlflow.db"
import mlflow
from mlflow.entities import Metric, Param, RunTag
from mlflow.tracking import MlflowClient
client = MlflowClient(tracking_uri=uri)
exp = client.create_experiment("churn")
for rec in records:
    run = client.create_run(exp)
    client.log_batch(run.info.run_id,
        metrics=[Metric(k, v, 0, 0) for k, v in rec["metrics"].items() if v is not None],
        params=[Param(k, str(v)) for k, v in rec["params"].items()][:100],
        tags=[RunTag("mlflow.runName", rec["name"])])
print(json.dumps({"ready": True}))
"""

MLFLOW_QUERY = r"""
import json, sys, time
start = time.perf_counter()
import mlflow
imported = time.perf_counter()
mlflow.set_tracking_uri("sqlite:///" + sys.argv[1] + "/mlflow.db")
found = mlflow.search_runs(experiment_names=["churn"], order_by=["metrics.auc DESC"], max_results=10)
done = time.perf_counter()
print(json.dumps({"import_s": imported - start, "search_s": done - imported, "rows": len(found)}))
"""


def flat(params: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, dict):
            out.update(flat(value, f"{prefix}{key}."))
        else:
            out[prefix + key] = value
    return out


def mlflow_figures(python: str, runs: int, work: Path) -> dict[str, Any] | None:
    """Load the same runs into an MLflow SQLite store, then time search_runs (whole process)."""
    rng = random.Random(0)
    recs = []
    for i in range(runs):
        rec = make_record(i, rng)
        metrics = {k: (None if v != v else v) for k, v in rec["metrics"].items()}
        recs.append({"name": rec["name"], "metrics": metrics, "params": flat(rec["params"])})
    data = work / "mlflow-runs.json"
    data.write_text(json.dumps(recs), encoding="utf-8")
    (work / "load.py").write_text(MLFLOW_SCRIPT, encoding="utf-8")
    (work / "query.py").write_text(MLFLOW_QUERY, encoding="utf-8")
    env = {**os.environ, "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"}
    load = subprocess.run([python, "load.py", str(data), str(work)], cwd=work, capture_output=True, text=True, env=env)
    if load.returncode != 0:
        print(f"  mlflow load failed: {load.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    start = time.perf_counter()
    query = subprocess.run([python, "query.py", str(work)], cwd=work, capture_output=True, text=True, env=env)
    total = time.perf_counter() - start
    if query.returncode != 0:
        print(f"  mlflow query failed: {query.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    figures: dict[str, Any] = json.loads(query.stdout.strip().splitlines()[-1])
    figures["process_s"] = total
    return figures


def bench(size: int, work: Path, warm_runs: int, mlflow_python: str | None, pin: list[str],
          reuse: bool) -> dict[str, Any]:  # fmt: skip
    root = work / f"repo-{size}"
    start = time.perf_counter()
    if not (reuse and (root / ".git").is_dir()):
        generate(root, size)
    # As any `git status` would: the checkout leaves the index "racily clean", and git then
    # re-hashes every record file on each `ls-files --modified` until the index is refreshed.
    subprocess.run(["git", "update-index", "-q", "--refresh"], cwd=root, check=False)
    print(f"  generated {size} runs in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    cache = root / ".git" / "ledger-cache"
    top = [*pin, sys.executable, "-m", "ledger", "top", "--metric", "auc", "--format", "json"]
    diff = [*pin, sys.executable, "-m", "ledger", "diff", "HEAD~1", "HEAD"]
    raw = min(raw_git(root, pin) for _ in range(3))

    def cold(argv: list[str], ok: tuple[int, ...] = (0,)) -> tuple[float, str, float]:
        shutil.rmtree(cache, ignore_errors=True)
        subprocess.run(["sync"], check=False)
        return timed(argv, root, ok)

    def warm(argv: list[str], ok: tuple[int, ...] = (0,)) -> tuple[float, float]:
        timed(argv, root, ok)
        found = [timed(argv, root, ok) for _ in range(warm_runs)]
        return statistics.median(f[0] for f in found), statistics.median(f[2] for f in found)

    first = cold(top)
    print(f"  cold {first[0]:.2f} s", file=sys.stderr, flush=True)
    cold_rss = _child_rss(top, root)
    again = cold(top)
    top_cold = min(first, again, key=lambda f: f[0])
    top_warm = warm(top)
    if first[1] != timed(top, root)[1]:
        raise SystemExit("a warm answer differs from the cold one")
    diff_cold = cold(diff, (0, 1))
    diff_warm = warm(diff, (0, 1))
    result: dict[str, Any] = {
        "runs": size, "cold_s": top_cold[0], "cold_cpu_s": top_cold[2], "warm_s": top_warm[0],
        "warm_cpu_s": top_warm[1], "raw_git_s": raw, "diff_cold_s": diff_cold[0], "diff_cold_cpu_s": diff_cold[2],
        "diff_warm_s": diff_warm[0], "diff_warm_cpu_s": diff_warm[1], "cold_peak_rss_mib": cold_rss / 1024,
    }  # fmt: skip
    if mlflow_python:
        (work / f"mlflow-{size}").mkdir()
        figures = mlflow_figures(mlflow_python, size, work / f"mlflow-{size}")
        if figures:
            result.update({f"mlflow_{k}": v for k, v in figures.items()})
    if not reuse:
        shutil.rmtree(root, ignore_errors=True)
    return result


def _child_rss(argv: list[str], cwd: Path) -> int:
    """Peak RSS (KiB) of one cold run (the tree of processes: ledger, its workers, git)."""
    shutil.rmtree(cwd / ".git" / "ledger-cache", ignore_errors=True)
    code = (
        "import resource, subprocess, sys\n"
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", code, *argv], cwd=cwd, capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[1000, 10000],
        help="run counts (add 100000 for the big one; it takes minutes to generate)",
    )
    parser.add_argument("--warm-runs", type=int, default=5, help="warm repetitions (median)")
    parser.add_argument("--mlflow-python", help="an interpreter with mlflow installed (a separate venv)")
    parser.add_argument("--cpus", help="pin ledger and git to these CPUs (taskset -c), e.g. 0,1")
    parser.add_argument("--keep", help="generate into this directory and keep it")
    parser.add_argument("--reuse", action="store_true", help="with --keep: use repositories already generated there")
    args = parser.parse_args()
    # Time ledger from compiled bytecode, as a pip install leaves it (an editable install,
    # or PYTHONDONTWRITEBYTECODE, would otherwise recompile every module in every process).
    compileall.compile_dir(Path(ledger.__file__).parent, quiet=1)
    work = Path(args.keep or tempfile.mkdtemp(prefix="ledger-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    pin = ["taskset", "-c", args.cpus] if args.cpus else []
    print("Wall seconds, CPU seconds (user + sys of ledger, its workers and git) in brackets; diff is "
          "`ledger diff HEAD~1 HEAD` (10 new runs against the rest).\n")  # fmt: skip
    print("| runs | top cold | top warm | raw ls-tree + cat-file | cold / raw | warm / raw | diff cold | diff warm "
          "| diff / top, cold | diff / top, warm | cold peak RSS | MLflow search_runs (whole process) "
          "| MLflow / ledger warm |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|", flush=True)
    try:
        for size in args.sizes:
            print(f"size {size}", file=sys.stderr)
            r = bench(size, work, args.warm_runs, args.mlflow_python, pin, bool(args.keep and args.reuse))
            ml = r.get("mlflow_process_s")
            mlflow = f"{ml:.2f} s | {ml / r['warm_s']:.0f}x |" if ml else "n/a | n/a |"
            print(
                f"| {r['runs']:,} | {r['cold_s']:.2f} s ({r['cold_cpu_s']:.2f}) | {r['warm_s']:.2f} s "
                f"({r['warm_cpu_s']:.2f}) | {r['raw_git_s']:.2f} s | {r['cold_s'] / r['raw_git_s']:.1f}x | "
                f"{r['warm_s'] / r['raw_git_s']:.1f}x | {r['diff_cold_s']:.2f} s ({r['diff_cold_cpu_s']:.2f}) | "
                f"{r['diff_warm_s']:.2f} s ({r['diff_warm_cpu_s']:.2f}) | {r['diff_cold_s'] / r['cold_s']:.2f}x | "
                f"{r['diff_warm_s'] / r['warm_s']:.2f}x | {r['cold_peak_rss_mib']:.0f} MiB | {mlflow}",
                flush=True,
            )
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
