"""The --where grammar: every operator, the boolean structure, numbers vs text, errors."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.read.filter import FilterError, compile_filter

RUN: dict[str, Any] = {
    "id": "20261127-051203-xgb-deeper-7f3a9c",
    "name": "xgb-deeper",
    "status": "finished",
    "experiment": "churn",
    "started_at": "2026-11-27T05:12:03.000Z",
    "baseline": False,
    "author": {"name": "Ada", "email": "ada@example.com"},
    "metrics": {"auc": 0.93, "val/auc": 0.91, "loss": float("nan"), "steps": 100},
    "params": {
        "model": {"type": "xgb", "depth": 6},
        "lr": "0.05",
        "flag": True,
        "opt.name": "adam",
        "note": "n/a",
    },  # fmt: skip
    "tags": {"stage": "final", "owner": "Ada"},
}


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("metrics.auc > 0.9", True),
        ("metrics.auc >= 0.93", True),
        ("metrics.auc < 0.93", False),
        ("metrics.auc <= 0.93", True),
        ("metrics.auc = 0.93", True),
        ("metrics.auc == 0.93", True),
        ("metrics.auc != 0.93", False),
        ("metrics.auc <> 0.5", True),
        ("metrics.steps = 100.0", True),  # numbers compare as numbers
        ("metric.auc > 0.9", True),  # MLflow's singular prefixes work too
        ("metrics.`val/auc` > 0.9", True),
        ("metrics.val/auc > 0.9", True),
        ('metrics."val/auc" > 0.9', True),  # MLflow's double-quoted key
        ('"val/auc" > 0.9', None),  # a lone quoted string is a value, not a field
        ("params.model.type = 'xgb'", True),
        ('params.model.type = "xgb"', True),
        ("params.model.depth > 5", True),
        ("params.model.depth > '10'", False),  # numeric strings compare as numbers
        ("params.lr = 0.05", True),  # "0.05" (a string) and 0.05 are both numbers
        ("params.lr < 0.1", True),
        ("params.flag = true", True),
        ("params.flag = 'true'", True),
        ("params.`opt.name` = 'adam'", True),
        ("params.opt.name = 'adam'", True),  # a flat dotted key is found too
        ("params.note = 'n/a'", True),
        ("tags.stage = 'final'", True),
        ("tag.owner = 'Ada'", True),
        ("status = 'finished'", True),
        ("attributes.status = 'finished'", True),
        ("name LIKE 'xgb%'", True),
        ("name LIKE 'XGB%'", False),
        ("name ILIKE 'XGB%'", True),
        ("name like 'xgb-_eeper'", True),
        ("name NOT LIKE 'xgb%'", False),
        ("status IN ('finished', 'killed')", True),
        ("status NOT IN ('finished', 'killed')", False),
        ("params.model.depth IN (3, 6)", True),
        ("author = 'Ada'", True),
        ("author.email LIKE '%@example.com'", True),
        ("started_at > '2026-11-27'", True),
        ("id LIKE '20261127-%'", True),
        ("baseline = false", True),
        ("experiment = 'churn'", True),
        ("metrics.auc > 0.9 and params.model.type = 'xgb' and tags.stage = 'final' and status = 'finished'", True),
        ("metrics.auc > 0.95 or tags.stage = 'final'", True),
        ("metrics.auc > 0.95 OR tags.stage = 'draft'", False),
        ("not metrics.auc > 0.95", True),
        ("NOT (metrics.auc > 0.9 and status = 'finished')", False),
        ("(status = 'failed' or status = 'finished') and not name like 'tmp%'", True),
        ("metrics.auc > 0.9 or metrics.auc < 0.1 and status = 'failed'", True),  # and binds tighter
        ("(metrics.auc > 0.9 or metrics.auc < 0.1) and status = 'failed'", False),
        ("metrics.missing > 0", False),  # a run without the field matches no comparison
        ("metrics.missing < 0", False),
        ("not metrics.missing > 0", True),
        ("metrics.loss > 0", False),  # NaN equals and orders with nothing
        ("metrics.loss < 0", False),
        ("metrics.loss != 0", True),
        ("params.model = 'xgb'", False),  # a mapping matches nothing
        ("params.absent = null", False),
        ("params.absent != null", False),
        ("tags.stage != null", True),
    ],
)
def test_operators_and_structure(expr: str, expected: bool | None) -> None:
    if expected is None:
        with pytest.raises(FilterError):
            compile_filter(expr)
        return
    assert compile_filter(expr)(RUN) is expected


def test_null_compares_with_present_null_fields() -> None:
    rec = {**RUN, "description": None}
    assert compile_filter("description = null")(rec)
    assert not compile_filter("description != null")(rec)


def test_fields_lists_the_top_level_keys_read() -> None:
    assert compile_filter("metrics.auc > 1 or name = 'x'").fields == {"metrics", "name"}
    assert compile_filter("params.a = 1 and author = 'x'").fields == {"params", "author"}


@pytest.mark.parametrize(
    ("expr", "column", "says"),
    [
        ("metrics.auc >", 14, "expected a value"),
        ("metrics.auc > 0.9 and", 22, "expected a field"),
        ("metrics.auc 0.9", 13, "expected an operator"),
        ("(status = 'finished'", 21, "expected `)`"),
        ("status = 'finished')", 20, "expected `and`, `or` or the end"),
        ("status ~ 'x'", 8, "unexpected character"),
        ("bogus = 1", 1, "unknown field 'bogus'"),
        ("metrics = 1", 1, "needs a name after it"),
        ("name LIKE 3", 11, "quoted pattern"),
        ("status IN 'a'", 11, "IN needs a list"),
        ("status IN ('a' 'b')", 16, "expected `,` or `)`"),
        ("status NOT = 'a'", 12, "expected LIKE, ILIKE or IN after NOT"),
        ("status = 'unterminated", 10, "unterminated quote"),
        ("", 1, "empty"),
    ],
)
def test_errors_are_one_line_and_point_at_the_column(expr: str, column: int, says: str) -> None:
    with pytest.raises(FilterError) as info:
        compile_filter(expr)
    message = str(info.value)
    assert "\n" not in message
    assert f"column {column}:" in message and says in message
    assert info.value.exit_code == 2


# MLflow's habits (issue 13, item 5): statuses in capitals, the run name as a system tag.
MLFLOW_STYLE = {"id": "r1", "name": "enet", "status": "finished", "tags": {"stage": "final"}}


@pytest.mark.parametrize(
    "expr",
    [
        "attributes.status = 'FINISHED'",
        "status = 'Finished'",
        "status IN ('FAILED', 'FINISHED')",
        "status LIKE 'FIN%'",
        "status != 'FAILED'",
        "tags.mlflow.runName = 'enet'",
        "tags.mlflow.runName LIKE 'en%' and tags.stage = 'final'",
    ],
)
def test_mlflow_spellings_match(expr: str) -> None:
    assert compile_filter(expr)(MLFLOW_STYLE)


@pytest.mark.parametrize("expr", ["attributes.status = 'FAILED'", "tags.mlflow.runName = 'other'"])
def test_mlflow_spellings_still_filter(expr: str) -> None:
    assert not compile_filter(expr)(MLFLOW_STYLE)


def test_a_recorded_run_name_tag_wins_over_the_name() -> None:
    rec = {**MLFLOW_STYLE, "tags": {"mlflow.runName": "from-mlflow"}}
    assert compile_filter("tags.mlflow.runName = 'from-mlflow'")(rec)
    assert not compile_filter("tags.mlflow.runName = 'enet'")(rec)
