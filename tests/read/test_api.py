"""The library face on a real repository: `ledger.runs(...).to_pandas()` is one row per run
with flattened columns, and `ledger.top()` ranks exactly as `ledger top --format json`."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas
import pytest

import ledger
from support.query_helpers import commit, make, rid, write
from support.repo import ledger_cli

RUNS = [
    make(1, slug="xgb", auc=0.91, params={"lr": 0.1, "model": {"type": "xgb", "depth": 3}}, tags={"team": "a"}),
    make(2, slug="rf", auc=0.88, params={"lr": 0.2, "model": {"type": "rf", "depth": 8}}),
    make(3, slug="tie", auc=0.91, params={"lr": 0.3, "model": {"type": "xgb", "depth": 5}}, tags={"team": "b"}),
    make(4, slug="nan", auc=math.nan, params={"lr": 0.4}),
    make(5, slug="none", metrics={"loss": 0.3}, params={"lr": 0.5}),
    make(6, slug="failed", auc=0.99, status="failed", params={"lr": 0.6}),
]


@pytest.fixture
def runs_repo(repo: Path) -> Path:
    commit(repo, *RUNS[:5])
    write(repo, RUNS[5])  # uncommitted: part of the default selection too
    return repo


def test_to_pandas_is_one_row_per_run_with_flattened_columns(runs_repo: Path) -> None:
    frame = ledger.runs().to_pandas()
    assert len(frame) == len(RUNS) and frame["id"].is_unique
    assert list(frame["id"]) == [r["id"] for r in reversed(RUNS)]  # newest first, as runs() orders
    for column in ("params.lr", "params.model.type", "params.model.depth", "metrics.auc", "metrics.loss", "tags.team"):
        assert column in frame.columns, column
    row = frame.set_index("id").loc[rid(1, "xgb")]
    assert (row["params.model.type"], row["params.model.depth"], row["metrics.auc"], row["tags.team"]) == (
        "xgb", 3, 0.91, "a",
    )  # fmt: skip
    assert row["status"] == "finished" and row["name"] == "xgb-1"
    missing = frame.set_index("id").loc[rid(5, "none")]
    assert pandas.isna(missing["metrics.auc"]) and pandas.isna(missing["params.model.type"])
    assert not any(c in frame.columns for c in ("params", "metrics", "tags"))  # nothing left nested


def test_to_pandas_of_a_filtered_selection(runs_repo: Path) -> None:
    frame = ledger.runs(where="params.model.type = 'xgb'").to_pandas()
    assert sorted(frame["id"]) == sorted([rid(1, "xgb"), rid(3, "tie")])


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"n": 2},
        {"where": "status = 'finished'"},
        {"direction": "min"},
        {"metric": "loss"},
    ],
)
def test_top_ranks_as_the_cli_does(runs_repo: Path, options: dict[str, object]) -> None:
    metric = str(options.get("metric", "auc"))
    argv = ["top", "--metric", metric, "--format", "json", "-n", str(options.get("n", 10))]
    if "where" in options:
        argv += ["--where", str(options["where"])]
    if options.get("direction") == "min":
        argv.append("--min")
    done = ledger_cli(runs_repo, *argv)
    assert done.returncode == 0, done.stderr
    cli_ids = [row["id"] for row in json.loads(done.stdout)]
    library = ledger.top(
        metric,
        n=int(str(options.get("n", 10))),
        where=options.get("where"),  # type: ignore[arg-type]
        direction=options.get("direction"),  # type: ignore[arg-type]
    )
    assert library.ids == cli_ids
    assert cli_ids, "the comparison must rank something"


def test_top_ranking_rules(runs_repo: Path) -> None:
    """The rules both faces share (docs/query.md): finished runs first, best first, ties to
    the newer run; a run that did not complete after them, whatever its value (the failed
    run's 0.99); NaN last of all; runs without the metric left out."""
    assert ledger.top("auc").ids == [rid(3, "tie"), rid(1, "xgb"), rid(2, "rf"), rid(6, "failed"), rid(4, "nan")]
