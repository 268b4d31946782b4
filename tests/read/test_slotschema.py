"""The schema checks split by slot give jsonschema's verdict: for one record, and for a
batch of records checked one slot's column at a time (a column check may only vouch for
values jsonschema takes; what it cannot vouch for is checked value by value)."""

from __future__ import annotations

import random
from typing import Any

from ledger.core import schema, yamlio
from ledger.read import cache, columns, shapes, slotschema
from support.fastpath import VALUES
from support.fuzz import _batch_record
from support.query_helpers import make

ONE_LINE = [v for v in VALUES if not isinstance(v, (dict, list)) or not v]
ODD_VALUES = ONE_LINE + [-1, -0.5, 3.0, 2.5, float("nan"), "../x", "/abs", "C:x", "~x", "a\\b", "a" * 90,
                         "exploded", "dep", "git", "2026-11-27T05:12:03Z", "2026-11-27 05:12:03Z", "g" * 40, "0" * 40,
                         True, 1]  # fmt: skip


def layout_of(rec: dict[str, Any]) -> tuple[shapes.Shape, slotschema.SlotChecks]:
    shape = shapes.learn(yamlio.dumps(rec), cache.HEAD_FIELDS)
    checks = slotschema.slot_checks(shape.layout, shapes._slot_number, rec)
    assert checks is not None
    return shape, checks


def key(value: Any) -> str:
    return repr((type(value).__name__, value))


def test_batches_are_checked_as_jsonschema_checks_each_record() -> None:
    rng = random.Random(7)
    base = _batch_record(1, rng)
    shape, checks = layout_of(base)
    count = len(shape.hints)
    found = {"valid": 0, "invalid": 0}
    for _ in range(120):
        rows = rng.choice([1, 3, 20])
        # Each slot's column: the values of records of this layout, a few replaced by odd ones.
        records = [_batch_record(rng.randrange(10**6), rng) for _ in range(rows)]
        per_row = []
        for rec in records:
            try:
                per_row.append(_slot_values(shape, rec))
            except ValueError:  # another layout (a value that takes several lines)
                per_row.append(_slot_values(shape, base))
        by_slot = [list(column) for column in zip(*per_row)]
        for _ in range(rng.choice([0, 4, 16])):
            by_slot[rng.randrange(count)][rng.randrange(rows)] = rng.choice(ODD_VALUES)
        typed = []
        for values in by_slot:
            if rng.random() < 0.3:  # a slot that holds one value in the whole batch
                values[:] = [values[0]] * rows
                typed.append(columns.Column(values[:1], [], columns.CONSTANT, constant=True))
            else:
                typed.append(columns.Column(values, [], columns.REMEMBERED))
        keys = [[key(v) for v in values] for values in by_slot]
        bad = checks.bad_rows(typed, keys, rows)
        for row in range(rows):
            values = [column[row] for column in by_slot]
            record = shapes._build(shape.recipe, values)
            invalid = bool(schema.errors(record))
            assert (row in bad) == invalid, (row, record)
            assert checks.valid(values, [key(v) for v in values]) == (not invalid)
            found["invalid" if invalid else "valid"] += 1
    assert min(found.values()) > 200, found


def _slot_values(shape: shapes.Shape, rec: dict[str, Any]) -> list[Any]:
    found = shape.match(yamlio.dumps(rec))
    if found is None:
        raise ValueError("another layout")
    return [columns.typed(text)[0] for text in found.groups()]


def test_column_checks_vouch_only_for_values_that_pass() -> None:
    """Each keyword's column check, on columns of one type and of mixed types."""
    compiler = slotschema._ColumnCompiler(slotschema.fastschema.Compiler(schema.load_schema("run")))
    nodes = [{"type": "integer"}, {"type": ["integer", "null"], "minimum": 0}, {"type": ["number", "null"]},
             {"enum": ["dep", "out", 1, True, None]}, {"const": 1}, {"pattern": "^[0-9a-f]{40,64}$"},
             {"maxLength": 3}, {"minLength": 2}, {"exclusiveMaximum": 1}, {"$ref": "#/$defs/relpath"},
             {"anyOf": [{"$ref": "#/$defs/timestamp"}, {"type": "null"}]}, {"required": ["a"]},
             {"not": {"pattern": "^x"}}, {"oneOf": [{"type": "string"}]}]  # fmt: skip
    pool = ODD_VALUES + [0, 1, 2, 1.0, 0.0, -0.0, 10**30, "a" * 40, "x", "xy", "dep", {}, []]
    rng = random.Random(3)
    vouched = 0
    for node in nodes:
        each = slotschema.fastschema.Compiler(schema.load_schema("run")).compile(node)
        check = compiler.compile(node)
        for _ in range(300):
            kind = rng.choice([str, int, float, None])
            same_kind = [v for v in pool if kind is None or type(v) is kind]
            values = [rng.choice(same_kind) for _ in range(rng.randint(1, 5))]
            column = columns.Column(values, [], columns.REMEMBERED)
            if check(column):
                vouched += 1
                assert all(each(v) for v in values), (node, values)
    assert vouched > 500, vouched


def test_a_layout_learnt_from_an_invalid_record_learns_its_checks_from_a_valid_one() -> None:
    reader = shapes.Shapes(cache.HEAD_FIELDS, slotschema.slot_checks)
    bad = yamlio.dumps(make(1, status="exploded"))
    assert reader.parse(bad).rendered is not None  # learnt, but without slot checks
    assert not reader.parse(bad).checked
    good = reader.parse(yamlio.dumps(make(2)))
    assert good.checked and good.rendered is not None
