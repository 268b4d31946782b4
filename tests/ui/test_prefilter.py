"""The filter prefilter (ledger.ui.prefilter): its tokens are the filter grammar's, it splits
only a top-level `and`, it finds needles only where they are sound, and (seeded, on random
expressions and records) a record an expression matches is never skipped by its plan,
whichever way its JSON is written."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from ledger.read.filter import compile_filter, tokenize
from ledger.ui import prefilter

ODD = [
    "metrics.`val/auc` >= 0.8 and params.optimizer IN ('adam', 'sgd')", "params.\"a.b\" = 'x'",
    "name = 'a and b' and params.x = 'y'", "params.x = 'it''s' AND tags.t = \"q\\\"x\"", "(a = 1 or b = 2) and c = 3",
    "not name LIKE 'tmp%' and params.x IN('a','b')", "metrics.auc>0.9 and(status='finished')", "params.x = -1.5e3",
    "params.`and` = 'or' and params.y = 'z'", "status = 'FINISHED' or not (params.x != 'a')",
]  # fmt: skip


@pytest.mark.parametrize("expr", ODD)
def test_the_tokens_are_the_filter_grammars(expr: str) -> None:
    ours = prefilter.tokens(expr)
    assert ours is not None
    assert [(t.kind, t.text, t.start) for t in ours] == [(t.kind, t.text, t.pos) for t in tokenize(expr)[:-1]]


def test_only_a_top_level_and_splits() -> None:
    assert prefilter.conjuncts("name = 'a and b' and params.x = 'y'") == ["name = 'a and b'", "params.x = 'y'"]
    assert prefilter.conjuncts("(a = 1 or b = 2) and c = 3") == ["(a = 1 or b = 2)", "c = 3"]
    assert prefilter.conjuncts("a = 1 or b = 2 and c = 3") == ["a = 1 or b = 2 and c = 3"]
    assert prefilter.conjuncts("params.`and` = 'or' AND params.y = 'z'") == ["params.`and` = 'or'", "params.y = 'z'"]


def plan(expr: str) -> prefilter.Plan:
    return prefilter.plan(compile_filter(expr))


def test_needles_only_where_sound() -> None:
    found = plan("metrics.auc > 0.9 and params.model.type = 'xgb' and tags.stage IN ('a', \"b c\")")
    assert [p.expr for p in found.on_head] == ["metrics.auc > 0.9"]
    assert found.needles == [(b'"xgb"',), (b'"a"', b'"b c"')]
    for expr in (
        "params.x = '3'", "params.x = ' 3 '", "params.x = 3", "params.x = 'true'", "params.x = 'ünï'",
        "params.x = 'a''b'", "params.x = 'a\\\\b'", "params.x = 'x\"y'", "params.x = ''", "params.x != 'a'",
        "params.x NOT IN ('a')", "params.x IN ('a', 3)", "params.x LIKE 'a%'", "not params.x = 'a'",
        "params.x = 'a' or params.y = 'b'", "tags.mlflow.runName = 'a'", "author = 'a'",
        "params.x = 'a' or status = 'b'",
    ):  # fmt: skip
        assert plan(expr).needles == [], expr
    assert plan("params.x = 'a b/c' and params.y = '1e'").needles == [(b'"a b/c"',), (b'"1e"',)]


def test_may_match_needs_one_of_each_group() -> None:
    found = plan("params.a = 'x' and params.b IN ('y', 'z')")
    assert found.may_match(b'{"a":"x","b":"z"}') and not found.may_match(b'{"a":"x","b":"w"}')
    assert not found.may_match(b'{"a":"xx","b":"y"}')


# ---------------------------------------------------------------------------- soundness, seeded

VALUES: list[Any] = ["a", "b", "A", "a b", "x/y", "3", " 3", "3.0", "true", "false", "nan", "", "é", 'q"', "a\\b",
                     3, 3.0, -1, 0.5, True, False, None, float("nan"), ["a"], {"a": 1}, "it's"]  # fmt: skip
LITERALS = ["'a'", "'b'", "\"a\"", "'A'", "'a b'", "'x/y'", "'3'", "' 3'", "'true'", "'nan'", "''", "'é'", "3", "3.0",
            "true", "null", "'it''s'", "'q\"'", "-1", "0.5"]  # fmt: skip
FIELDS = ["params.p", "params.g.q", "params.`g.q`", "tags.t", "metrics.m", "status", "name", "author"]


def random_record(rng: random.Random) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "id": "r",
        "name": rng.choice(["a", "b", "run"]),
        "status": rng.choice(["finished", "FAILED"]),
    }
    params: dict[str, Any] = {}
    if rng.random() < 0.8:
        params["p"] = rng.choice(VALUES)
    if rng.random() < 0.5:
        params["g"] = {"q": rng.choice(VALUES)}
    elif rng.random() < 0.5:
        params["g.q"] = rng.choice(VALUES)
    rec["params"] = params
    if rng.random() < 0.7:
        rec["tags"] = {"t": rng.choice([v for v in VALUES if isinstance(v, str)])}
    if rng.random() < 0.7:
        rec["metrics"] = {"m": rng.choice([0.5, 3.0, -1.0, float("nan")])}
    if rng.random() < 0.5:
        rec["author"] = {"name": rng.choice(["a", "b"])}
    return rec


def random_comparison(rng: random.Random) -> str:
    field = rng.choice(FIELDS)
    shape = rng.random()
    if shape < 0.5:
        op = rng.choice(["=", "==", "!=", "<", ">="])
        literal = rng.choice([v for v in LITERALS if not v[0].isdigit() and v[0] != "-"] if field == "metrics.m" and op
                             in ("<", ">=") else LITERALS)  # fmt: skip
        if field == "metrics.m":
            literal = rng.choice(["3", "0.5", "-1", "null"])
        return f"{field} {op} {literal}"
    if shape < 0.8 and field != "metrics.m":
        options = ", ".join(rng.sample(LITERALS, rng.randint(1, 3)))
        return f"{field} {rng.choice(['IN', 'in', 'NOT IN'])} ({options})"
    if field == "metrics.m":
        return "metrics.m > 0.1"
    return f"{field} {rng.choice(['LIKE', 'ILIKE'])} '{rng.choice(['a%', '%b', '3%', 'tr%', 'n_n', '%'])}'"


def random_expression(rng: random.Random, depth: int = 0) -> str:
    roll = rng.random()
    if depth < 2 and roll < 0.45:
        joiner = rng.choice([" and ", " AND ", " and ", " or "])
        return joiner.join(random_expression(rng, depth + 1) for _ in range(rng.randint(2, 3)))
    if depth < 2 and roll < 0.55:
        return f"({random_expression(rng, depth + 1)})"
    if depth < 2 and roll < 0.6:
        return f"not {random_expression(rng, depth + 1)}"
    return random_comparison(rng)


def test_a_matching_record_is_never_skipped() -> None:
    rng = random.Random(1616)
    records = [random_record(rng) for _ in range(300)]
    spellings = [
        [json.dumps(r, ensure_ascii=False, separators=(",", ":")).encode() for r in records],
        [json.dumps(r, ensure_ascii=True, indent=1).encode() for r in records],
    ]
    helped = checked = 0
    for _ in range(600):
        expr = random_expression(rng)
        found = compile_filter(expr)
        found_plan = prefilter.plan(found)
        helped += bool(found_plan.needles or found_plan.on_head)
        for i, rec in enumerate(records):
            if not found(rec):
                continue
            checked += 1
            head = {k: rec[k] for k in ("id", "name", "status", "experiment", "started_at", "metrics") if k in rec}
            assert all(part(head) for part in found_plan.on_head), (expr, rec)
            for spelled in spellings:
                assert found_plan.may_match(spelled[i]), (expr, rec)
    assert helped > 150 and checked > 10_000  # the plans did skip things, on many matching records
