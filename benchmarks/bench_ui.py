"""Benchmark of `ledger ui`'s server side over generated repositories.

    python benchmarks/bench_ui.py                        # 10,000 runs
    python benchmarks/bench_ui.py --sizes 10000 100000   # and 100,000 (minutes to generate)
    python benchmarks/bench_ui.py --repo PATH ...        # repositories already generated
    python benchmarks/bench_ui.py --mlflow-runs 2000     # MLflow's UI search endpoint beside it

The repositories are bench_query.py's (10 realistic records per commit); `--repo` reuses
ones it generated before (read only: nothing is committed, the index is left as it is).
For each it prints, side by side with `ledger top --metric auc` warm (whole process, median
of 5; the budget for the first page), wall time and CPU time (this process and its
children: on a shared, loaded machine the CPU time is the steadier figure):
- first table page: a fresh app (as a newly started server: the parse cache warm)
  answering `GET /api/runs` (default columns, 50 rows), in-process through Starlette's
  TestClient, median of 5;
- the first params filter (`metrics.auc > 0.9 and params.model.type = 'xgb'`) a fresh app
  answers right after its first page, median of 3;
- then, on one app: the next pages (what paging and live refreshes cost), a filter on head
  fields, another params filter (`params.model.depth >= 8 and params.train.optimizer =
  'adam'`), one the prefilter cannot help (`params.model.depth >= 8`: numbers), a sort on
  a param, and the 2-second live poll;
- memory, in a process of its own: resident memory once the app is made, after its first
  page, and after those filters, the sort and a chart request (what it then holds), and
  the peak.
Then a 100,000-point series (a real run logged through the API) reaching the browser
downsampled: `GET /api/run/ID/series?width=1000`.
With `--mlflow-runs N`, the same N runs are loaded into an MLflow SQLite store and MLflow's
own UI backend answers its runs-table request (`POST /ajax-api/2.0/mlflow/runs/search`,
100 rows, newest first, as the MLflow UI asks) and the same param filter, through its Flask
app's test client, in the same way (in-process, warm).
"""

from __future__ import annotations

import argparse
import functools
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
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_query import flat, generate, make_record  # noqa: E402

WHERE_HEAD = "metrics.auc > 0.9 and status = 'finished'"
WHERE_PARAMS = "metrics.auc > 0.9 and params.model.type = 'xgb'"
WHERE_PARAMS_2 = "params.model.depth >= 8 and params.train.optimizer = 'adam'"
WHERE_NUMBERS = "params.model.depth >= 8"


def timed(fn: Any, repeat: int = 1) -> float:
    best = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best.append(time.perf_counter() - start)
    return statistics.median(best)


def cpu() -> float:
    """CPU seconds of this process and its children so far (robust on a loaded machine)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def top_warm(root: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of `ledger top` warm, whole process, medians of 5."""
    argv = [sys.executable, "-m", "ledger", "top", "--metric", "auc", "--format", "json"]
    subprocess.run(argv, cwd=root, check=True, capture_output=True)  # fill the cache
    walls, cpus = [], []
    for _ in range(5):
        start, used = time.perf_counter(), cpu()
        subprocess.run(argv, cwd=root, check=True, capture_output=True)
        walls.append(time.perf_counter() - start)
        cpus.append(cpu() - used)
    return statistics.median(walls), statistics.median(cpus)


def client(root: Path) -> Any:
    from starlette.testclient import TestClient

    from ledger.core.workspace import Workspace
    from ledger.ui.app import create_app
    from ledger.ui.state import Repo

    return TestClient(create_app(Repo(Workspace(root)), 8765), base_url="http://127.0.0.1:8765")


def get(c: Any, url: str, **params: Any) -> Any:
    response = c.get(url, params=params)
    if response.status_code != 200:
        raise SystemExit(f"{url} {params}: {response.status_code} {response.text[:200]}")
    return response.json()


def rss_mib() -> float:
    """Resident memory of this process now, MiB."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def measured(fn: Any, repeat: int) -> tuple[float, float]:
    """(wall, CPU) seconds of `fn`, medians of `repeat` calls."""
    walls, cpus = [], []
    for _ in range(repeat):
        start, used = time.perf_counter(), cpu()
        fn()
        walls.append(time.perf_counter() - start)
        cpus.append(cpu() - used)
    return statistics.median(walls), statistics.median(cpus)


def bench_table(root: Path) -> dict[str, float]:
    out: dict[str, float] = {}
    out["top_warm_s"], out["top_warm_cpu_s"] = top_warm(root)
    size = 0

    def first_page() -> None:
        nonlocal size
        size = get(client(root), "/api/runs")["total"]

    out["first_page_s"], out["first_page_cpu_s"] = measured(first_page, 5)
    out["runs"] = size
    firsts, cpus = [], []
    for _ in range(3):  # a fresh app: its first page, then at once a filter on params
        c = client(root)
        get(c, "/api/runs")
        start, used = time.perf_counter(), cpu()
        get(c, "/api/runs", where=WHERE_PARAMS)
        firsts.append(time.perf_counter() - start)
        cpus.append(cpu() - used)
    out["params_first_s"], out["params_first_cpu_s"] = statistics.median(firsts), statistics.median(cpus)
    c = client(root)
    get(c, "/api/runs")
    out["next_page_s"], _ = measured(lambda: get(c, "/api/runs", offset=size // 2), 5)
    out["filter_head_s"], out["filter_head_cpu_s"] = measured(lambda: get(c, "/api/runs", where=WHERE_HEAD), 1)
    out["params_again_s"], out["params_again_cpu_s"] = measured(lambda: get(c, "/api/runs", where=WHERE_PARAMS_2), 1)
    out["numbers_s"], out["numbers_cpu_s"] = measured(lambda: get(c, "/api/runs", where=WHERE_NUMBERS), 1)
    out["sort_param_s"], out["sort_param_cpu_s"] = measured(
        lambda: get(c, "/api/runs", sort="params.lr", order="asc"), 1
    )
    out["state_poll_s"], _ = measured(lambda: get(c, "/api/state"), 5)
    out.update(memory(root))
    return out


MEMORY_SCRIPT = r"""
import json, resource, sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from bench_ui import client, get, rss_mib, WHERE_HEAD, WHERE_NUMBERS, WHERE_PARAMS, WHERE_PARAMS_2
c = client(Path(sys.argv[1]))
out = {"mem_app_mib": rss_mib()}
get(c, "/api/runs")
out["mem_first_page_mib"] = rss_mib()
for where in (WHERE_PARAMS, WHERE_HEAD, WHERE_PARAMS_2, WHERE_NUMBERS):
    get(c, "/api/runs", where=where)
get(c, "/api/runs", sort="params.lr")
get(c, "/api/charts")
import gc; gc.collect()
out["mem_after_mib"] = rss_mib()
out["mem_peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def memory(root: Path) -> dict[str, float]:
    """Resident memory (MiB) of a process serving `root`: the app made, after its first page,
    after filters, a sort and a chart (what it holds then), and its peak."""
    here = str(Path(__file__).resolve().parent)
    proc = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, str(root), here], capture_output=True, text=True,
                          check=True)  # fmt: skip
    found: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return found


def wall_cpu(r: dict[str, float], name: str) -> str:
    return f"{r[name + '_s'] * 1000:,.0f} ms ({r[name + '_cpu_s'] * 1000:,.0f} ms)"


def bench_series(work: Path, points: int) -> dict[str, float]:
    root = work / "series"
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    (root / "ledger.yaml").write_text("experiment: bench\nprimary_metric: loss\n")
    env = {"GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "b@example.com", "GIT_COMMITTER_NAME": "Bench",
           "GIT_COMMITTER_EMAIL": "b@example.com"}  # fmt: skip
    os.environ.update(env)
    subprocess.run(["git", "add", "."], cwd=root, check=True)
    subprocess.run(["git", "commit", "-qm", "init"], cwd=root, check=True)
    script = (
        "import math, ledger\nwith ledger.start_run(name='long') as run:\n"
        f"    for i in range({points}):\n"
        "        run.log_metric('loss', 1 / (1 + i / 100) + 0.01 * math.sin(i), step=i)\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=root, check=True)
    c = client(root)
    run_id = get(c, "/api/runs")["rows"][0]["id"]
    first = timed(lambda: get(c, f"/api/run/{run_id}/series", metrics="loss", width=1000))
    walls, cpus = [], []
    for _ in range(5):
        start, used = time.perf_counter(), cpu()
        get(c, f"/api/run/{run_id}/series", metrics="loss", width=1000)
        walls.append(time.perf_counter() - start)
        cpus.append(cpu() - used)
    again, again_cpu = statistics.median(walls), statistics.median(cpus)
    answer = get(c, f"/api/run/{run_id}/series", metrics="loss", width=1000)["series"]["loss"]
    assert answer["count"] == points, answer["count"]
    return {"points": points, "series_first_s": first, "series_s": again, "series_cpu_s": again_cpu,
            "sent_points": len(answer["steps"])}  # fmt: skip


MLFLOW_SCRIPT = r"""
import json, os, sys, time
records = json.load(open(sys.argv[1]))
uri = "sqlite:///" + sys.argv[2] + "/mlflow.db"
os.environ["MLFLOW_TRACKING_URI"] = uri
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
    client.set_terminated(run.info.run_id)
os.environ["_MLFLOW_SERVER_FILE_STORE"] = uri
os.environ["MLFLOW_BACKEND_STORE_URI"] = uri
from mlflow.server import app
c = app.test_client()
def search(**extra):
    body = {"experiment_ids": [exp], "max_results": 100, "order_by": ["attributes.start_time DESC"],
            "run_view_type": "ACTIVE_ONLY", **extra}
    start = time.perf_counter()
    r = c.post("/ajax-api/2.0/mlflow/runs/search", json=body)
    took = time.perf_counter() - start
    assert r.status_code == 200, r.data[:300]
    return took, len(r.get_json().get("runs", []))
first, rows = search()
page = sorted(search()[0] for _ in range(5))[2]
filt, _ = search(filter="metrics.auc > 0.9 and params.`model.type` = 'xgb'")
filt2, _ = search(filter="params.`train.optimizer` = 'adam' and params.`data.features` = 'v2'")
print(json.dumps({"first_page_s": first, "page_s": page, "filter_s": filt, "filter_again_s": filt2, "rows": rows}))
"""


def bench_mlflow(work: Path, runs: int, python: str) -> dict[str, Any] | None:
    rng = random.Random(0)
    recs = []
    for i in range(runs):
        rec = make_record(i, rng)
        metrics = {k: (None if v != v else v) for k, v in rec["metrics"].items()}
        recs.append({"name": rec["name"], "metrics": metrics, "params": flat(rec["params"])})
    folder = work / "mlflow"
    folder.mkdir()
    (folder / "runs.json").write_text(json.dumps(recs))
    (folder / "bench.py").write_text(MLFLOW_SCRIPT)
    proc = subprocess.run([python, "bench.py", "runs.json", str(folder)], cwd=folder, capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"  mlflow failed: {proc.stderr.strip().splitlines()[-3:]}", file=sys.stderr)
        return None
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000])
    parser.add_argument("--repo", type=Path, action="append", default=[],
                        help="a repository bench_query.py generated (instead of --sizes; repeatable)")  # fmt: skip
    parser.add_argument("--points", type=int, default=100_000, help="series length (default 100,000)")
    parser.add_argument("--mlflow-runs", type=int, default=0, help="also time MLflow's UI backend on N runs")
    parser.add_argument("--mlflow-python", default=sys.executable, help="an interpreter with mlflow installed")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ledger-bench-ui-"))
    try:
        print("| runs | `ledger top` warm, whole process: wall (CPU) | first table page, fresh server: wall (CPU) "
              "| first params filter, fresh server: wall (CPU) | next page | filter on head fields | another params "
              "filter | params filter on numbers | sort on a param | live poll | memory: app, first page, after "
              "filters + sort + charts (peak) |")  # fmt: skip
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|", flush=True)
        sizes = [] if args.repo else list(args.sizes)
        if args.mlflow_runs and args.mlflow_runs not in sizes:
            sizes.insert(0, args.mlflow_runs)
        repos: list[tuple[Path, bool]] = [(path.resolve(), False) for path in args.repo]
        for size in sizes:
            root = work / f"repo-{size}"
            start = time.perf_counter()
            generate(root, size)
            subprocess.run(["git", "update-index", "-q", "--refresh"], cwd=root, check=False)
            print(f"  generated {size} runs in {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
            repos.append((root, True))
        for root, made in repos:
            r = bench_table(root)
            both = functools.partial(wall_cpu, r)
            print(f"| {r['runs']:,.0f} | {both('top_warm')} | {both('first_page')} | {both('params_first')} "
                  f"| {r['next_page_s'] * 1000:.0f} ms | {both('filter_head')} | {both('params_again')} "
                  f"| {both('numbers')} | {both('sort_param')} | {r['state_poll_s'] * 1000:.0f} ms "
                  f"| {r['mem_app_mib']:.0f} / {r['mem_first_page_mib']:.0f} / {r['mem_after_mib']:.0f} MiB "
                  f"({r['mem_peak_mib']:.0f}) |", flush=True)  # fmt: skip
            if made:
                shutil.rmtree(root, ignore_errors=True)
        s = bench_series(work, args.points)
        print(f"\nseries of {s['points']:,} points -> {s['sent_points']:,} points sent for a 1,000-pixel chart: "
              f"{s['series_first_s'] * 1000:.0f} ms first, {s['series_s'] * 1000:.0f} ms again "
              f"({s['series_cpu_s'] * 1000:.0f} ms CPU)",
              flush=True)  # fmt: skip
        if args.mlflow_runs:
            m = bench_mlflow(work, args.mlflow_runs, args.mlflow_python)
            if m:
                print(f"\nMLflow UI backend, {args.mlflow_runs:,} runs in SQLite (runs/search, 100 rows): first "
                      f"{m['first_page_s']:.2f} s, warm {m['page_s']:.2f} s; filter on metric + param "
                      f"{m['filter_s']:.2f} s, another param filter {m['filter_again_s']:.2f} s",
                      flush=True)  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
