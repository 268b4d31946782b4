"""Reading by shape is pinned to fastyaml: the same record, or NotCanonical exactly when
fastyaml refuses too; the JSON it renders decodes to that record; its schema verdict is
jsonschema's. Seeded random generation, as in test_store_fastpath."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from ledger.core import schema, yamlio
from ledger.read import bulkread, cache, columns, fastyaml, shapes, slotschema
from support.fastpath import full_record, same, scalar_texts, with_scalar
from support.query_helpers import make


def fresh() -> shapes.Shapes:
    return shapes.Shapes(cache.HEAD_FIELDS, slotschema.slot_checks)


def agree(reader: shapes.Shapes, text: str) -> str:
    """How `reader` took `text` ("shaped", "read" or "declined"), checked against fastyaml."""
    try:
        expected: Any = fastyaml.parse(text)
    except fastyaml.NotCanonical:
        expected = None
    try:
        got = reader.parse(text)
    except fastyaml.NotCanonical:
        assert expected is None, f"declined what fastyaml reads: {text!r}"
        return "declined"
    assert expected is not None, f"read what fastyaml refuses: {text!r}"
    assert same(got.record, expected), text
    if got.rendered is None:
        return "read"
    head, full = got.rendered
    assert same(json.loads(full), expected), text
    assert same(json.loads(head), {k: expected[k] for k in cache.HEAD_FIELDS if k in expected}), text
    if got.checked:
        assert not schema.errors(expected), f"vouched for an invalid record: {text!r}"
    return "shaped"


def test_shapes_read_variants_of_a_learnt_layout_exactly() -> None:
    rng = random.Random(1127)
    reader = fresh()
    seen = {"shaped": 0, "read": 0, "declined": 0}
    for n in range(120):
        params = {"model": {"type": rng.choice(["xgb", "yes", "0.5"]), "depth": n}, "lr": 10.0 ** -rng.randint(1, 6),
                  "list": [1, "a", [2, "b"], {"k": "v"}], "e": {}, "l": []}  # fmt: skip
        command = {"argv": ["python", "x.py"], "cwd": "."}
        rec = make(n, auc=rng.choice([0.5, float("nan"), 1, None]), params=params,
                   tags={"stage": rng.choice(["final", "sweep"])}, command=command)  # fmt: skip
        base = yamlio.dumps(rec)
        assert agree(reader, base) in ("shaped", "read")
        for _ in range(25):
            variant = base
            for _ in range(rng.randint(1, 3)):
                variant = with_scalar(variant, rng, scalar_texts(rng))
            seen[agree(reader, variant)] += 1
    assert min(seen.values()) > 400, seen  # every path really ran


def test_shaped_verdicts_are_jsonschemas() -> None:
    rng = random.Random(27)
    reader = fresh()
    verdicts = {True: 0, False: 0}
    base = yamlio.dumps(full_record(1))
    assert reader.parse(base).checked
    for _ in range(1500):
        text = with_scalar(base, rng, scalar_texts(rng))
        try:
            got = reader.parse(text)
        except fastyaml.NotCanonical:
            continue
        if got.rendered is None:
            continue
        assert got.record is not None
        valid = not schema.errors(got.record)
        assert got.checked == valid, text  # this layout's schema splits by slot: exact
        verdicts[valid] += 1
    assert verdicts[True] > 200 and verdicts[False] > 200, verdicts


def test_slot_checks_decline_what_does_not_split_by_slot() -> None:
    layout = {"schema_version": "\x010", "seed": {"a": "\x011"}}

    def slot_of(node: Any) -> int | None:
        return int(node[1:]) if isinstance(node, str) and node.startswith("\x01") else None

    example = make(1, seed={"a": 1})
    assert not schema.errors(example)
    # `seed` is anyOf(null, integer, object): its verdict would combine the object's slots.
    assert slotschema.slot_checks(layout, slot_of, example) is slotschema.UNSPLIT
    invalid = make(1, status="exploded")
    assert slotschema.slot_checks({"status": "\x010"}, slot_of, invalid) is None


def test_numbers_typed_together_are_typed_as_fastyaml_types_them() -> None:
    rng = random.Random(3)
    for _ in range(3000):
        texts = ["".join(rng.choice("0123456789.-") for _ in range(rng.randint(1, 6))) for _ in range(5)]
        joined = ",".join(texts)
        if columns.NUMBERS(joined) is None:
            continue
        for text, value in zip(texts, json.loads(f"[{joined}]")):
            expected = fastyaml.scalar(text)
            assert type(value) is type(expected) and same(value, expected), text


def test_learning_stops_when_shapes_do_not_pay_off() -> None:
    reader = fresh()
    for n in range(60):
        assert agree(reader, yamlio.dumps(make(n, params={f"p{n}": n}))) in ("shaped", "read")
    assert reader.learnt == shapes._FREE_LEARNS  # each layout was new: then no more learning


@pytest.fixture
def own_shapes(monkeypatch: pytest.MonkeyPatch) -> None:
    """bulkread's shapes start empty (other tests may have used up its learning)."""
    monkeypatch.setattr(bulkread, "_SHAPES", fresh())


@pytest.mark.usefixtures("own_shapes")
def test_worker_payloads_give_the_cache_line_of_the_full_path() -> None:
    rec = make(4, auc=float("nan"), params={"lr": 0.25, "name": "it's"})
    data = yamlio.dumps(rec).encode()
    bulkread.analyze(data)  # learns the shape
    lean = bulkread.analyze(data, keep=False)
    assert "r" not in lean and "j" in lean
    line = cache.encode("b" * 40, lean)
    decoded = cache.decode(line)
    assert decoded is not None
    assert same(cache.full_record(line), rec)
    assert same(decoded[1], {k: rec[k] for k in cache.HEAD_FIELDS if k in rec})


@pytest.mark.usefixtures("own_shapes")
def test_a_shaped_invalid_record_gets_jsonschemas_message() -> None:
    good = yamlio.dumps(make(5)).encode()
    bulkread.analyze(good)
    bad = good.replace(b"status: finished", b"status: exploded")
    payload = bulkread.analyze(bad, keep=False)
    assert bulkread._SHAPES.hits == 1  # the shape answered, and handed the record on
    with pytest.raises(Exception) as slow:
        schema.validate(yamlio.loads(bad), source="")
    assert payload["e"] == slow.value.reason and payload["p"] == slow.value.pointer  # type: ignore[attr-defined]
