"""Benchmark: `mlflow.search_runs` over the ledger plugin vs MLflow's own SQLite store.

    python benchmarks/bench_mlflow_store.py              # 10,000 runs
    python benchmarks/bench_mlflow_store.py --runs 1000

The same runs (bench_query's generated records: ~20 params, 10 metrics, tags) are put in
a ledger repository (git fast-import, as bench_query does) and in an MLflow SQLite store.
Loading 10,000 runs through MLflow's client takes many minutes on SQLite, so the SQLite
store is made by MLflow itself (its schema and migrations, from `SqlAlchemyStore`) and the
rows are then inserted with one `executemany` per table (runs, params, tags, metrics,
latest_metrics), the same rows `log_batch` would write. Each query runs in a fresh process
with MLflow's fluent API: `search_runs(order_by=["metrics.auc DESC"], max_results=10)`,
timed after `import mlflow`; ledger cold (no parse cache) and warm, SQLite warm.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from bench_query import RUNS_PER_COMMIT, flat, generate, make_record  # noqa: E402

QUERY = r"""
import json, sys, time
start = time.perf_counter()
import mlflow
imported = time.perf_counter()
mlflow.set_tracking_uri(sys.argv[1])
found = mlflow.search_runs(experiment_names=["churn"], order_by=["metrics.auc DESC"], max_results=10)
done = time.perf_counter()
print(json.dumps({"import_s": imported - start, "search_s": done - imported,
                  "top": list(found["tags.mlflow.runName"])}))
"""

PLUGIN = """[mlflow.tracking_store]
ledger = ledger.mlflow_store.store:LedgerStore

[mlflow.artifact_repository]
ledger = ledger.mlflow_store.artifacts:LedgerArtifactRepository

[mlflow.model_registry_store]
ledger = ledger.mlflow_store.registry:refuse_registry
"""


def plugin_site(work: Path) -> Path:
    """Entry points for an environment whose ledger was installed without them."""
    info = work / "site" / "ledger_ml_bench_plugin-0.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ledger-ml-bench-plugin\nVersion: 0.0\n")
    (info / "entry_points.txt").write_text(PLUGIN)
    return work / "site"


def sqlite_store(db: Path, runs: int) -> None:
    """MLflow's schema from MLflow itself, then the rows in bulk."""
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    store = SqlAlchemyStore(f"sqlite:///{db}", str(db.parent / "artifacts"))
    experiment = store.create_experiment("churn")
    store.engine.dispose()
    rows: dict[str, list[tuple[Any, ...]]] = {"runs": [], "params": [], "tags": [], "metrics": [], "latest": []}
    for i in range(runs):
        if i % RUNS_PER_COMMIT == 0:  # seeded per commit, as bench_query generates them
            rng = random.Random(i // RUNS_PER_COMMIT)
        rec = make_record(i, rng)
        run_uuid = uuid.UUID(int=i + 1).hex
        start = int(1704067200000 + i * 900_000)
        status = "FAILED" if rec["status"] == "failed" else "FINISHED"
        rows["runs"].append((run_uuid, rec["name"], "LOCAL", "", "", "bench", status, start, start + 900, "", "active",
                             f"{db.parent}/artifacts/{run_uuid}", experiment))  # fmt: skip
        rows["params"] += [(k, str(v), run_uuid) for k, v in flat(rec["params"]).items()]
        rows["tags"] += [("mlflow.runName", rec["name"], run_uuid), ("stage", "sweep", run_uuid)]
        for key, value in rec["metrics"].items():
            nan = isinstance(value, float) and math.isnan(value)
            row = (key, 0.0 if nan else value, start, run_uuid, 0, nan)
            rows["metrics"].append(row)
            rows["latest"].append((key, 0.0 if nan else value, start, 0, nan, run_uuid))
    with sqlite3.connect(db) as con:
        con.executemany(
            "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status, "
            "start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows["runs"],
        )
        con.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?,?,?)", rows["params"])
        con.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?,?,?)", rows["tags"])
        con.executemany(
            "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?,?,?,?,?,?)", rows["metrics"]
        )
        con.executemany(
            "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES (?,?,?,?,?,?)",
            rows["latest"],
        )


def query(uri: str, env: dict[str, str], cwd: Path) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-c", QUERY, uri], cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-2000:])
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3, help="warm repetitions (median)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-mlflow-store-"))
    try:
        root = work / "repo"
        generate(root, args.runs)
        db = work / "sqlite" / "mlflow.db"
        db.parent.mkdir()
        sqlite_store(db, args.runs)
        src = Path(__file__).resolve().parents[1] / "src"
        path = os.pathsep.join([str(src), str(plugin_site(work)), os.environ.get("PYTHONPATH", "")])
        env = {**os.environ, "PYTHONPATH": path}
        shutil.rmtree(root / ".git" / "ledger-cache", ignore_errors=True)
        cold = query(f"ledger://{root}", env, root)
        ours = [query(f"ledger://{root}", env, root) for _ in range(args.repeat)]
        theirs = [query(f"sqlite:///{db}", env, work) for _ in range(args.repeat)]
        same = ours[0]["top"] == theirs[0]["top"]
        if not same:
            print("ledger:", ours[0]["top"], "\nsqlite:", theirs[0]["top"])
        warm = statistics.median(r["search_s"] for r in ours)
        sqlite = statistics.median(r["search_s"] for r in theirs)
        print(f"search_runs(order_by=['metrics.auc DESC'], max_results=10) over {args.runs:,} runs, after import:")
        print(f"  ledger plugin, cold cache  {cold['search_s']:.2f} s")
        print(f"  ledger plugin, warm        {warm:.2f} s")
        print(f"  MLflow SQLite store        {sqlite:.2f} s")
        print(f"  ratio SQLite / ledger warm {sqlite / warm:.1f}x   (cold: {sqlite / cold['search_s']:.1f}x)")
        print(f"  import mlflow              {statistics.median(r['import_s'] for r in ours):.2f} s")
        print(f"  same top 10 on both        {same}")
        return 0 if same else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
