"""The fast paths are pinned to their references: fastyaml to yamlio.loads (PyYAML's safe
loader with ledger's checks), fastschema to jsonschema. Seeded random generation, so every
run checks the same thousands of cases and a failure is reproducible."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from ledger.core import schema, yamlio
from ledger.errors import RecordError
from ledger.read import bulkread, fastschema, fastyaml
from support.fastpath import TRICKY, VALUES, full_record, same
from support.query_helpers import make

KEYS = ["k", "lr", "model", "val/auc", "a.b", "1", "true", "null", "-x", "key with space",
        "'q'", "ü", "x" * 130, "", "k: v", "#k", "<<", "y"]  # fmt: skip


def rand_scalar(rng: random.Random) -> Any:
    kind = rng.randrange(8)
    if kind == 0:
        return rng.choice(TRICKY)
    if kind == 1:
        return rng.randint(-(10**12), 10**12)
    if kind == 2:
        return rng.choice([0.1, -2.5, 1e-5, 1e20, 3.0, -0.0, float("nan"), float("inf"), float("-inf"), rng.random()])
    if kind == 3:
        return rng.choice([True, False, None])
    if kind == 4:
        return "".join(rng.choice("ab :#'\"-\n\t\\x1é ") for _ in range(rng.randint(1, 12)))
    return rng.choice(TRICKY[:40]) + rng.choice(["", " x", "\n", "y"])


def rand_value(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if depth < 5 and roll < 0.25:
        return {rng.choice(KEYS) + (str(rng.randrange(3)) if rng.random() < 0.5 else ""): rand_value(rng, depth + 1)
                for _ in range(rng.randint(0, 4))}  # fmt: skip
    if depth < 5 and roll < 0.35:
        return [rand_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return rand_scalar(rng)


def reference(text: str) -> tuple[bool, Any]:
    try:
        return True, yamlio.loads(text.encode("utf-8"))
    except RecordError as exc:
        return False, str(exc)


def check_agrees(text: str) -> bool:
    """fastyaml either declines, or answers exactly what the reference answers."""
    try:
        fast = fastyaml.parse(text)
    except fastyaml.NotCanonical:
        return False
    ok, ref = reference(text)
    assert ok, f"fast path accepted what the safe loader refuses: {text!r} ({ref})"
    assert same(fast, ref), f"fast path differs on {text!r}: {fast!r} != {ref!r}"
    return True


def test_fastyaml_equals_safe_loader_on_generated_documents() -> None:
    rng = random.Random(20261127)
    accepted = 0
    for _ in range(3000):
        doc = {rng.choice(KEYS) + str(i): rand_value(rng, 1) for i in range(rng.randint(1, 6))}
        accepted += check_agrees(yamlio.dumps(doc))
    assert accepted > 1000  # the fast path really is the common path


def test_fastyaml_takes_real_records_fast_and_exactly() -> None:
    rng = random.Random(7)
    for n in range(300):
        rec = make(n, auc=rng.random(), params={"model": {"type": rng.choice(TRICKY[:60]), "depth": n},
                                                "lr": rng.choice([0.1, 1e-5, float("nan")]), "tags": [1, "a"]},
                   notes="first\n\nsecond line\n  indented\n" if n % 3 else None,
                   error={"type": "ValueError", "traceback": "Traceback:\n  File x\nValueError: no\n"},
                   tags={"stage": rng.choice(["final", "yes", "0.5", "2026-01-01"])})  # fmt: skip
        text = yamlio.dumps(rec)
        if "tab" in text or "\x07" in text or '"' in text:
            continue
        assert check_agrees(text), text


def mutate(text: str, rng: random.Random) -> str:
    lines = text.split("\n")
    i = rng.randrange(len(lines))
    roll = rng.randrange(9)
    if roll == 0:
        lines[i] = " " + lines[i]
    elif roll == 1:
        lines[i] = lines[i][1:]
    elif roll == 2:
        lines.insert(i, lines[rng.randrange(len(lines))])
    elif roll == 3:
        lines[i] = lines[i] + rng.choice([" #c", " ", ":", " &a", " *a", " !!str", "'", " |", " - x"])
    elif roll == 4:
        lines.insert(i, rng.choice(["", "  ", "---", "...", "# c", "- x", "? k", "%YAML 1.1", "\t"]))
    elif roll == 5:
        pos = rng.randrange(len(text))
        return text[:pos] + rng.choice(["'", '"', ":", " ", "\n", "-", "|", "\t", "{", "&", "\\"]) + text[pos + 1 :]
    elif roll == 6:
        del lines[i]
    elif roll == 7:
        lines[i] = lines[i].replace(": ", ": |", 1)
    else:
        lines[i] = lines[i].replace(": ", ":", 1)
    return "\n".join(lines)


def test_fastyaml_never_accepts_what_the_reference_reads_differently() -> None:
    rng = random.Random(99)
    bases = [yamlio.dumps(make(n, notes="a\n\n  b\nc\n", params={"x": [1, {"y": "z"}, [2]], "e": {}, "l": []}))
             for n in range(20)]  # fmt: skip
    for _ in range(4000):
        text = rng.choice(bases)
        for _ in range(rng.randint(1, 3)):
            text = mutate(text, rng)
        check_agrees(text)


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\na: 2\n",  # duplicate key
        "a: &x 1\nb: *x\n",  # alias
        "a: !!python/name:os.system x\n",  # tag
        "a: 1 # comment\n",
        "a: 2026-11-27\n",  # timestamp: the loader turns it into an ISO string
        "a: 0x1F\n",
        "a: 1_000\n",
        "a: [1, 2]\n",
        'a: "dq"\n',
        "a: >\n  folded\n",
        "? k\n: v\n",
        "1: int key\n",
        "a: 1",  # no final newline
        "a:\n  b: 1\n   c: 2\n",
        "\ufeffa: 1\n",
        "a: b\r\nc: d\n",
    ],
)
def test_fastyaml_declines_non_canonical_input(text: str) -> None:
    with pytest.raises(fastyaml.NotCanonical):
        fastyaml.parse(text)


def test_fastyaml_declines_deep_nesting_and_the_loader_refuses_it() -> None:
    text = "".join("  " * i + "k:\n" for i in range(40)) + "  " * 40 + "v: 1\n"
    with pytest.raises(fastyaml.NotCanonical):
        fastyaml.parse(text)
    assert "e" in bulkread.analyze(text.encode())


# ---------------------------------------------------------------------------- fastschema


def jsonschema_valid(rec: Any) -> bool:
    return not schema.errors(rec)


def paths_of(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += paths_of(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += paths_of(v, (*prefix, i))
    return out


def test_fastschema_compiles_the_packaged_schema() -> None:
    assert fastschema.validator() is not None


def test_fastschema_agrees_with_jsonschema_on_mutated_records() -> None:
    check = fastschema.validator()
    assert check is not None
    rng = random.Random(5)
    base = full_record(1)
    assert check(base) and jsonschema_valid(base)
    paths = [p for p in paths_of(base) if p]
    seen = {True: 0, False: 0}
    for _ in range(2500):
        rec = copy.deepcopy(base)
        for _ in range(rng.randint(1, 2)):
            path = rng.choice(paths)
            target: Any = rec
            try:
                for part in path[:-1]:
                    target = target[part]
                roll = rng.random()
                if roll < 0.15 and isinstance(target, dict):
                    target.pop(path[-1], None)
                elif roll < 0.3 and isinstance(target, dict):
                    target[rng.choice(["extra", "status", "x y", 1, "metrics"])] = rng.choice(VALUES)
                else:
                    target[path[-1]] = copy.deepcopy(rng.choice(VALUES))
            except (KeyError, IndexError, TypeError):
                continue
        expected = jsonschema_valid(rec)
        assert check(rec) == expected, rec
        seen[expected] += 1
    assert seen[True] > 200 and seen[False] > 200


def test_fastschema_validate_raises_jsonschemas_message() -> None:
    rec = make(1)
    rec["status"] = "exploded"
    with pytest.raises(RecordError) as fast:
        fastschema.validate(rec, source="x.yaml")
    with pytest.raises(RecordError) as slow:
        schema.validate(rec, source="x.yaml")
    assert str(fast.value) == str(slow.value)


def test_fastschema_refuses_unknown_keywords() -> None:
    with pytest.raises(fastschema.Unsupported):
        fastschema.compile_schema({"type": "object", "dependentSchemas": {}})
