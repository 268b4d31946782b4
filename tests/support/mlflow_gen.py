"""Make a real MLflow tracking store (run in a subprocess: `python mlflow_gen.py URI OUT N`).

N finished or failed runs with params, tags, metric histories and nested children, plus
one deleted and one still-running run; writes to OUT (JSON) what MLflow itself answers:
`search_runs(order_by=["metrics.rmse ASC"])`'s run ids, and each run's data.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time

import mlflow
from mlflow.entities import Metric, Param, RunTag
from mlflow.tracking import MlflowClient
from sqlalchemy import event
from sqlalchemy.engine import Engine


@event.listens_for(Engine, "connect")
def _fast_sqlite(connection: object, _record: object) -> None:
    # Test data only: skip fsync on every MLflow transaction (minutes -> seconds).
    if type(connection).__module__.startswith("sqlite3"):
        connection.execute("PRAGMA synchronous=OFF")  # type: ignore[attr-defined]


def main(uri: str, out: str, count: int) -> None:
    if uri.startswith("file:"):
        os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"  # MLflow 3 keeps file stores opt-in
    mlflow.set_tracking_uri(uri)
    client = MlflowClient()
    exp = client.create_experiment("wine-import")
    rng = random.Random(7)
    now = int(time.time() * 1000)
    parent = None
    for i in range(count):
        tags = {"team": "vision" if i % 2 else "nlp", "mlflow.source.git.commit": "ab" * 20}
        if parent is not None and i % 10:
            tags["mlflow.parentRunId"] = parent
        run = client.create_run(exp, run_name=f"trial-{i}", tags=tags, start_time=now + i * 1000)
        run_id = run.info.run_id
        if i % 10 == 0:
            parent = run_id
        rmse = rng.uniform(0.5, 1.5)
        metrics = [Metric("rmse", rmse + (4 - step) * 0.1, now + i * 1000 + step, step) for step in range(5)]
        metrics.append(Metric("r2", rng.uniform(0, 1), now + i * 1000 + 5, 0))
        params = [
            Param("alpha", str(round(rng.uniform(0, 1), 4))),
            Param("l1_ratio", "0.5"),
            Param("model", "elasticnet"),
        ]
        client.log_batch(run_id, metrics=metrics, params=params, tags=[RunTag("mlflow.note.content", f"trial {i}")])
        client.set_terminated(run_id, "FAILED" if i % 17 == 0 else "FINISHED", end_time=now + i * 1000 + 900)
    deleted = client.create_run(exp, run_name="deleted")
    client.set_terminated(deleted.info.run_id)
    client.delete_run(deleted.info.run_id)
    running = client.create_run(exp, run_name="still-running")
    client.log_metric(running.info.run_id, "rmse", 0.01)
    found = mlflow.search_runs(experiment_ids=[exp], order_by=["metrics.rmse ASC"], max_results=10_000)
    runs = {}
    for run in client.search_runs([exp], max_results=10_000):
        runs[run.info.run_id] = {
            "name": run.info.run_name,
            "status": run.info.status,
            "params": run.data.params,
            "metrics": run.data.metrics,
            "tags": run.data.tags,
            "start_time": run.info.start_time,
            "end_time": run.info.end_time,
        }
    with open(out, "w", encoding="utf-8") as fh:
        json.dump({"order": list(found["run_id"]), "running": running.info.run_id, "runs": runs}, fh)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
