"""A project of many runs for the table's tests: committed runs with awkward values (text
that looks like a number or a boolean, quotes, backslashes, non-ASCII, lists, mappings,
flat MLflow-style keys, NaN, missing fields), plus the working tree's own: a new run, a
changed committed run, a running version of a finished run, and committed `running` runs
whose process is alive or gone, and a `feature` branch with runs of its own."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger.core import processes, record
from support.query_helpers import commit, make, write
from support.repo import git
from support.report_fixtures import isolated

RUNS = 150
TYPES: list[Any] = ["xgb", "lgbm", "rf", "XGB", "xgb ", "xgbx", "ünï", 'x"g', "a\\b", True, "true", 3, "3", 3.0,
                    None, ["xgb"], {"xgb": 1}, "nan", "", "adam", "a'b"]  # fmt: skip


def awkward(n: int) -> dict[str, Any]:
    """Run n of the many: its params, tags, metrics, status and name vary with n."""
    params: dict[str, Any] = {"model": {"type": TYPES[n % len(TYPES)], "depth": n % 10}, "lr": round(0.01 * (n % 5), 2)}
    if n % 11 == 0:
        params = {"model.type": "xgb", "lr": 0.5}  # MLflow's flat spelling
    if n % 7:
        params["opt"] = ["adam", "adamw", "sgd"][n % 3]
    metrics: dict[str, Any] = {"auc": round(n / RUNS, 4), "loss": 1 - n / RUNS}
    if n % 13 == 0:
        metrics["auc"] = float("nan")
    if n % 17 == 0:
        del metrics["auc"]
    fields: dict[str, Any] = {"params": params, "metrics": metrics}
    if n % 4 == 0:
        fields["tags"] = {"stage": "final" if n % 8 == 0 else "sweep"}
    if n % 9 == 0:
        fields["tags"] = {**fields.get("tags", {}), "mlflow.runName": f"mlf-{n}"}
    if n % 5 == 0:
        fields["status"] = "failed"
    return make(n, slug="xgb" if n % 6 == 0 else "run", **fields)


def running(n: int, alive: bool) -> dict[str, Any]:
    """A `running` record: of this very process (alive), or of a host long silent (dead)."""
    now = record.timestamp(record.utcnow())
    process = {"pid": os.getpid(), "host": processes.host(), "heartbeat_at": now} if alive else {
        "pid": 1, "host": "gone-host.example", "heartbeat_at": "2026-11-27T00:00:00.000Z"}  # fmt: skip
    started = now if alive else None
    rec = awkward(n)
    extra = {"status": "running", "process": process, **({"started_at": started} if started else {})}
    return record.canonical({**rec, **extra})


def build_many(root: Path) -> dict[str, str]:
    """The project; returns the ids of the runs the working tree plays a part in."""
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    (root / "ledger.yaml").write_text("experiment: tests\nprimary_metric: auc\n", encoding="utf-8")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "initial")
    half = RUNS // 2
    commit(root, *(awkward(n) for n in range(half)), message="first half")
    dead, alive = running(RUNS, alive=False), running(RUNS + 1, alive=True)
    commit(root, *(awkward(n) for n in range(half, RUNS)), dead, alive)
    git(root, "checkout", "-q", "-b", "feature")  # runs only `--all` shows
    changed_there = awkward(3)
    changed_there["metrics"]["auc"] = 0.123
    commit(root, *(awkward(n) for n in range(RUNS + 10, RUNS + 13)), changed_there, message="feature")
    git(root, "checkout", "-q", "main")
    changed = awkward(20)
    changed["params"]["opt"] = "adam"
    changed["metrics"]["auc"] = 0.999
    finished = awkward(21)
    later = running(21, alive=False)
    later["started_at"] = finished["started_at"]
    new = make(RUNS + 5, slug="new", params={"model": {"type": "xgb"}, "opt": "adam"})
    write(root, new, changed, later)
    return {"new": new["id"], "changed": changed["id"], "kept": finished["id"], "dead": dead["id"],
            "alive": alive["id"]}  # fmt: skip


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    base = tmp_path_factory.mktemp("many")
    with isolated(base / "home"):
        yield base / "project", build_many(base / "project")
