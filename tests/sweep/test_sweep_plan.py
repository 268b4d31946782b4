"""Sweep plans: grid and random expansion, the spec syntax, shards."""

from __future__ import annotations

import math

import pytest

from ledger.errors import UsageError
from ledger.sweep.plan import format_float, parse_shard, plan, shard, split_top, sweep_id
from ledger.write.capture.params import parse_override


def test_grid_is_the_product_last_key_fastest() -> None:
    points = plan(["lr=0.01,0.1", "depth=3,6", "opt=adam"])
    assert [p.overrides for p in points] == [
        ("lr=0.01", "depth=3", "opt=adam"),
        ("lr=0.01", "depth=6", "opt=adam"),
        ("lr=0.1", "depth=3", "opt=adam"),
        ("lr=0.1", "depth=6", "opt=adam"),
    ]
    assert [p.index for p in points] == [0, 1, 2, 3]


def test_grid_values_keep_yaml_lists_and_ranges() -> None:
    points = plan(["layers=[64,64],[128]", "depth=range(2,8,2)"])
    assert len(points) == 6
    assert points[0].overrides == ("layers=[64,64]", "depth=2")
    assert parse_override(points[0].overrides[0]) == (["layers"], [64, 64])
    assert [p.overrides[1] for p in points[:3]] == ["depth=2", "depth=4", "depth=6"]
    assert plan(["opt=choice(adam,sgd)"])[1].overrides == ("opt=sgd",)


def test_split_top_respects_brackets_and_quotes() -> None:
    assert split_top("a,[1,2],{x: 1, y: 2},'p,q'") == ["a", "[1,2]", "{x: 1, y: 2}", "'p,q'"]


def test_random_plan_is_seeded_in_range_and_typed() -> None:
    specs = ["lr=loguniform(1e-4,1e-1)", "drop=uniform(0,0.5)", "layers=randint(1,4)", "opt=adam,sgd"]
    first = plan(specs, random_count=25, seed=3)
    assert first == plan(specs, random_count=25, seed=3)
    assert first != plan(specs, random_count=25, seed=4)
    assert len(first) == 25
    for point in first:
        values = {key[0]: value for key, value in map(parse_override, point.overrides)}
        assert isinstance(values["lr"], float) and 1e-4 <= values["lr"] <= 1e-1
        assert isinstance(values["drop"], float) and 0 <= values["drop"] <= 0.5
        assert isinstance(values["layers"], int) and 1 <= values["layers"] <= 4
        assert values["opt"] in ("adam", "sgd")
    # Log-uniform: about as many draws below 1e-2.5 as above.
    lrs = [parse_override(p.overrides[0])[1] for p in plan(specs, random_count=400, seed=1)]
    below = sum(1 for v in lrs if math.log10(v) < -2.5)
    assert 120 < below < 280


def test_random_small_space_yields_distinct_points() -> None:
    points = plan(["a=1,2", "b=randint(0,1)"], random_count=50)
    assert len(points) == 4
    assert len({p.overrides for p in points}) == 4


def test_small_floats_read_back_as_floats() -> None:
    assert format_float(1.23456789e-05) == "1.23457e-05"
    assert parse_override(f"x={format_float(1e-05)}")[1] == 1e-05
    assert isinstance(parse_override(f"x={format_float(3e-7)}")[1], float)


@pytest.mark.parametrize(
    ("specs", "random_count", "message"),
    [
        (["lr=uniform(0,1)"], None, "add --random N"),
        (["lr"], None, "write -p key=v1,v2"),
        (["lr=1,,2"], None, "empty value"),
        (["lr=loguniform(0,1)"], 3, "greater than 0"),
        (["lr=uniform(1,0)"], 3, "lower bound comes first"),
        (["lr=uniform(a,1)"], 3, "not a number"),
        (["n=randint(1.5,3)"], 3, "must be integers"),
        (["n=range(5,1)"], None, "range is empty"),
        (["a=1,2", "a=3"], None, "given twice"),
        ([], None, "nothing to sweep"),
        (["a=1,2"], 0, "positive number"),
    ],
)
def test_bad_specs_are_usage_errors(specs: list[str], random_count: int | None, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        plan(specs, random_count=random_count)


@pytest.mark.parametrize("n", [1, 2, 3, 7])
def test_shards_partition_the_plan_exactly(n: int) -> None:
    points = plan(["a=1,2,3,4,5", "b=x,y,z"])
    parts = [shard(points, k, n) for k in range(1, n + 1)]
    flat = [p for part in parts for p in part]
    assert sorted(p.index for p in flat) == [p.index for p in points]  # each once, none lost
    assert all(abs(len(part) - len(points) / n) < 1 for part in parts)  # balanced
    assert parts == [shard(plan(["a=1,2,3,4,5", "b=x,y,z"]), k, n) for k in range(1, n + 1)]


@pytest.mark.parametrize("text", ["0/2", "3/2", "1", "a/b", "1/0"])
def test_bad_shards(text: str) -> None:
    with pytest.raises(UsageError, match="--shard K/N"):
        parse_shard(text)


def test_sweep_id_is_stable_and_specific() -> None:
    assert sweep_id(["python", "t.py"], ["a=1,2"], None, 0) == sweep_id(["python", "t.py"], ["a=1,2"], None, 0)
    assert sweep_id(["python", "t.py"], ["a=1,2"], None, 0) != sweep_id(["python", "t.py"], ["a=1,3"], None, 0)
