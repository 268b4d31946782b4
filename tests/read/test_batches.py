"""Reading records of one shape in batches, column by column, gives what reading them one
at a time gives (`Shape.read`, itself pinned to fastyaml and jsonschema), or hands a record
back; a worker's stream (`bulkread.analyze_all`) gives `analyze`'s payload for every blob."""

from __future__ import annotations

import random

import pytest

from ledger.core import yamlio
from ledger.read import batches, bulkread, cache, fastyaml, shapes, slotschema
from support.fastpath import scalar_texts, with_scalar
from support.fuzz import ODD, _batch_record, compare, mutate
from support.query_helpers import make


def fresh() -> shapes.Shapes:
    return shapes.Shapes(cache.HEAD_FIELDS, slotschema.slot_checks)


def one_by_one(shape: shapes.Shape, texts: tuple[str, ...]) -> tuple[str, str] | None:
    """What the per-record reader makes of a record: its JSON when it vouches for it."""
    try:
        fastyaml.check_characters("\n".join(texts) + "\n")
        read = shape.read(texts, build=False)
    except Exception:  # noqa: BLE001 - NotCanonical, or a number Python cannot read
        return None
    return read.rendered if read.checked else None


def test_a_batch_reads_each_record_as_the_per_record_reader_does() -> None:
    rng = random.Random(42)
    reader = fresh()
    counts = {"vouched": 0, "handed back": 0, "fixed": 0}
    for _ in range(40):
        docs = [yamlio.dumps(_batch_record(rng.randrange(10**6), rng)) for _ in range(rng.choice([1, 5, 150]))]
        for k in range(len(docs)):
            if rng.random() < 0.2:
                docs[k] = with_scalar(docs[k], rng, rng.choice([scalar_texts(rng), rng.choice(ODD)]))
        queues: dict[tuple[shapes.Shape, shapes.Fixed | None], list[tuple[str, ...]]] = {}
        for doc in docs:
            found = reader.match(doc)
            if found is None:
                try:
                    reader.parse(doc)  # learn its layout
                except fastyaml.NotCanonical:
                    pass
                continue
            queues.setdefault((found[0], found[1]), []).append(found[2])
        for (shape, fixed), groups in queues.items():
            got = batches.read(shape, fixed, groups)
            counts["fixed"] += fixed is not None
            for texts, pair in zip(groups, got):
                full = texts if fixed is None else _unfixed(shape, fixed, texts)
                if pair is None:
                    counts["handed back"] += 1
                    continue
                assert pair == one_by_one(shape, full), full
                counts["vouched"] += 1
    assert counts["vouched"] > 1000 and counts["handed back"] > 100 and counts["fixed"] > 5, counts


def _unfixed(shape: shapes.Shape, fixed: shapes.Fixed, texts: tuple[str, ...]) -> tuple[str, ...]:
    """All the slots' texts of a record that `fixed` matched."""
    out = dict(fixed.texts)
    out.update(zip(fixed.slots, texts))
    return tuple(out[slot] for slot in range(len(shape.hints)))


def test_a_shape_fixes_the_texts_a_whole_batch_shares() -> None:
    reader = fresh()
    docs = [yamlio.dumps(make(n, auc=n / 100, tags={"stage": "sweep"})) for n in range(1, 200)]
    reader.parse(docs[0])
    groups = [found[2] for found in map(reader.match, docs) if found is not None]
    shape = reader.by_length[docs[0].count("\n")][0]
    assert shape.fixed is None
    batches.read(shape, None, groups[: batches.FIX_ROWS])
    fixed = shape.fixed
    assert fixed is not None and {"tests", "sweep", "finished"} <= set(fixed.texts.values())
    assert "'2026-11-27T00:00:01.000Z'" not in fixed.texts.values() and len(fixed.slots) >= 4  # id, name, ...
    found = reader.match(docs[100])
    assert found is not None and found[1] is fixed
    odd = docs[100].replace("experiment: tests", "experiment: other")
    found = reader.match(odd)
    assert found is not None and found[1] is None  # the shape's, not the fixed matcher's
    got = batches.read(shape, fixed, [reader.match(doc)[2] for doc in docs[90:110]])  # type: ignore[index]
    assert got == [one_by_one(shape, shape.match(doc).groups()) for doc in docs[90:110]]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("old", "new", "refused"),
    [
        ("status: finished", "status: exploded", True),  # invalid: jsonschema's message
        ("duration_s: 1.0", "duration_s: 1,0.999", True),  # a string: invalid, and no number shifts
        ("name: run-7", "name: yes", True),  # a bool
        ("stage: sweep", "stage: 'a''b'", False),  # a quote inside quotes
        ("stage: sweep", "stage: null", True),
        ("auc: 0.07", "auc: 1e5", True),  # a string to YAML 1.1
        ("auc: 0.07", "auc: 0x1f", False),  # an int (read by PyYAML)
        ("experiment: tests", "experiment: 2026-01-01", False),  # a date, kept as its text (by PyYAML)
        ("experiment: tests", "experiment: a\x07b", True),  # a character YAML refuses
    ],
)
def test_a_stream_mixing_good_and_odd_records_gives_each_its_own_answer(old: str, new: str, refused: bool) -> None:
    rng = random.Random(7)
    docs = [yamlio.dumps(make(n, auc=n / 100, tags={"stage": "sweep"})) for n in range(1, 150)]
    docs = [doc.encode() for doc in docs]
    odd = docs[6].replace(old.encode(), new.encode())
    assert odd != docs[6]
    stream = docs[:80] + [odd] + docs[80:] + [mutate(doc.decode(), rng).encode() for doc in docs[:20]]
    previous = bulkread._SHAPES
    bulkread._SHAPES = fresh()
    try:
        got = dict(bulkread.analyze_all((str(k), data) for k, data in enumerate(stream)))
        bulkread._SHAPES = fresh()
        alone = {str(k): bulkread.analyze(data, keep=False) for k, data in enumerate(stream)}
    finally:
        bulkread._SHAPES = previous
    assert got == alone
    assert all(compare(data, got[str(k)]) in ("accepted", "refused") for k, data in enumerate(stream))
    assert ("e" in got["80"]) == refused, got["80"]


def test_workers_take_chunks_of_consecutive_blobs_in_turn() -> None:
    blobs = [f"{n:040x}" for n in range(2500)]
    shares = [bulkread.share(blobs, k, 2, 512) for k in range(2)]
    assert sorted(shares[0] + shares[1]) == blobs
    assert shares[0][:512] == blobs[:512] and shares[1][:512] == blobs[512:1024]
    assert shares[0][512:1024] == blobs[1024:1536] and shares[0][-452:] == blobs[2048:]
    assert bulkread.share(blobs[:10], 1, 2, 512) == []
