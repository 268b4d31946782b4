"""One field-path spelling (ledger.core.fields), read the same by `--where`, `--columns`,
plots, the library face and the MLflow shim."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.core import fields
from ledger.read import known
from ledger.read.api import flat_row
from ledger.read.filter import compile_filter
from ledger.views.plot.data import lookup as plot_lookup

REC: dict[str, Any] = {
    "id": "r1",
    "status": "finished",
    "params": {"lr": 0.1, "model": {"depth": 3, "type": "xgb"}, "a.b": "flat", "opt.lr": 0.5, "empty": {}},
    "metrics": {"auc": 0.9, "val/auc": 0.8, "val.loss": 0.2, "train loss": 1.5},
    "tags": {"stage": "dev", "mlflow.source": "nb"},
    "resources": {"wall_s": 12.0},
    "odd.name": "top-level key with a dot",
}

CASES = [
    # spelling                  record path                          value
    ("metrics.auc", ("metrics", "auc"), 0.9),
    ("metric.auc", ("metrics", "auc"), 0.9),
    ("metrics.`val/auc`", ("metrics", "val/auc"), 0.8),
    ('metrics."val/auc"', ("metrics", "val/auc"), 0.8),
    ("metrics.val/auc", ("metrics", "val/auc"), 0.8),
    ("metrics.val.loss", ("metrics", "val.loss"), 0.2),  # a metric name is one key
    ("metrics.`train loss`", ("metrics", "train loss"), 1.5),
    ("tags.stage", ("tags", "stage"), "dev"),
    ("tag.mlflow.source", ("tags", "mlflow.source"), "nb"),
    ("params.lr", ("params", "lr"), 0.1),
    ("param.lr", ("params", "lr"), 0.1),
    ("params.model.depth", ("params", "model", "depth"), 3),
    ("params.`a.b`", ("params", "a.b"), "flat"),
    ("params.a.b", ("params", "a", "b"), "flat"),  # no such nesting: the flat key
    ("params.opt.lr", ("params", "opt", "lr"), 0.5),
    ("params.empty", ("params", "empty"), {}),
    ("resources.wall_s", ("resources", "wall_s"), 12.0),
    ("`odd.name`", ("odd.name",), "top-level key with a dot"),
    ("status", ("status",), "finished"),
    ("metrics.nope", ("metrics", "nope"), None),
    ("params.model.depth.deeper", ("params", "model", "depth", "deeper"), None),
    ("nothing.here", ("nothing", "here"), None),
]


@pytest.mark.parametrize(("spelling", "path", "value"), CASES)
def test_one_spelling(spelling: str, path: tuple[str, ...], value: Any) -> None:
    assert fields.field_path(spelling) == path
    assert fields.resolve(REC, spelling) == value
    assert known.lookup(REC, spelling) == value  # `--columns` of ls/top/show


# `--where` takes metrics/params/tags and the run attributes it knows (status, name, ...),
# and compares scalars only.
FILTERABLE = [
    c
    for c in CASES
    if c[2] is not None and not isinstance(c[2], dict) and c[1][0] in ("metrics", "params", "tags", "status")
]


@pytest.mark.parametrize(("spelling", "path", "value"), FILTERABLE)
def test_the_filter_reads_the_same_field(spelling: str, path: tuple[str, ...], value: Any) -> None:
    literal = repr(value) if isinstance(value, str) else str(value)
    assert compile_filter(f"{spelling} = {literal}")(REC), spelling
    assert not compile_filter(f"{spelling} != {literal}")(REC), spelling


@pytest.mark.parametrize(
    ("spelling", "value"),
    [("model.depth", 3), ("params.model.depth", 3), ("metrics.`val/auc`", 0.8), ("tags.stage", "dev"), ("a.b", "flat")],
)
def test_plots_read_the_same_field_with_params_implied(spelling: str, value: Any) -> None:
    assert plot_lookup(REC, spelling) == value


def test_every_column_of_a_flat_row_reads_back() -> None:
    """`to_pandas()` columns are spellings too: each one resolves to its own cell."""
    rec = {k: v for k, v in REC.items() if k != "odd.name"}
    row = flat_row(rec)
    assert {"params.model.depth", "params.a.b", "metrics.val/auc", "metrics.val.loss", "tags.mlflow.source"} <= set(row)
    for column, cell in row.items():
        assert fields.resolve(rec, column) == cell, column


def test_mlflow_order_by_takes_backquoted_names(repo: Any) -> None:
    from ledger.mlflow.entities import from_record
    from ledger.mlflow.search import order

    runs = [
        from_record({**REC, "id": f"20261127-00000{i}-r-abc00{i}", "name": f"r{i}",
                     "started_at": f"2026-11-27T00:00:0{i}.000Z", "metrics": {"val/auc": auc}}, "file:///x")
        for i, auc in enumerate([0.5, 0.9, 0.7], 1)
    ]  # fmt: skip
    ranked = order(runs, ["metrics.`val/auc` DESC"])
    assert [r.data.metrics["val/auc"] for r in ranked] == [0.9, 0.7, 0.5]
