"""A column of scalar texts is typed as each text alone (`columns.typed`, pinned to fastyaml
and PyYAML elsewhere): the same value, type and JSON, or the row handed back. Seeded random
columns of every kind, and words checked against PyYAML itself."""

from __future__ import annotations

import json
import random

from ledger.core import yamlio
from ledger.errors import RecordError
from ledger.read import columns, fastyaml
from support.fastpath import TRICKY, same
from support.fuzz import ODD

ONE_LINE = [t for t in TRICKY + ODD if "\n" not in t]
WORD_CHARS = "0123456789abcdefbxtTZEyYnNoOfF._-/@gqr"


def expected(text: str) -> tuple[object, str] | None:
    """What `typed` makes of `text` alone; None where the per-record reader must decide."""
    if fastyaml.refused(text):
        return None
    try:
        return columns.typed(text)
    except Exception:  # noqa: BLE001 - NotCanonical, or an int too long for Python
        return None


def random_word(rng: random.Random) -> str:
    return "".join(rng.choice(WORD_CHARS) for _ in range(rng.randint(1, 8)))


def random_column(rng: random.Random) -> list[str]:
    rows = rng.choice([1, 2, 7, 64])
    kind = rng.randrange(6)
    if kind == 0:
        texts = [str(rng.choice([rng.randint(-999, 10**6), round(rng.uniform(-9, 9), rng.randint(1, 6))]))
                 for _ in range(rows)]  # fmt: skip
    elif kind == 1:
        texts = [random_word(rng) for _ in range(rows)]
    elif kind == 2:
        texts = [f"'{random_word(rng)}'" if rng.random() < 0.5 else random_word(rng) for _ in range(rows)]
    elif kind == 3:
        texts = [rng.choice(ONE_LINE)] * rows
    elif kind == 4:
        texts = [rng.choice(["finished", "failed", "true", "0.5", "'x'", "{}", "[]"]) for _ in range(rows)]
    else:
        texts = [rng.choice(ONE_LINE) for _ in range(rows)]
    for _ in range(rng.choice([0, 0, 1, 3])):  # a few odd texts in an otherwise plain column
        texts[rng.randrange(rows)] = rng.choice(ONE_LINE)
    return texts


def test_a_column_is_typed_as_each_text_alone() -> None:
    rng = random.Random(15)
    kinds = set()
    handed_back = 0
    for _ in range(3000):
        texts = random_column(rng)
        column = columns.column(tuple(texts), rng.choice([*range(columns.ONE_BY_ONE + 1)]))
        kinds.add(column.kind)
        bad = set(column.bad)
        for row, text in enumerate(texts):
            want = expected(text)
            if want is None:
                assert row in bad, text  # what fastyaml refuses is never typed in bulk
                handed_back += 1
                continue
            assert row not in bad, text
            value = column.values[0 if column.constant else row]
            text_json = column.jsons[0 if column.constant else row]
            assert type(value) is type(want[0]) and same(value, want[0]), (text, value, want)
            assert text_json == want[1], (text, text_json, want)
        if not bad:
            assert column.kinds == set(map(type, column.values)), texts
    assert kinds == set(range(columns.ONE_BY_ONE + 1)) and handed_back > 200, (kinds, handed_back)


def test_words_read_in_bulk_are_the_strings_pyyaml_reads() -> None:
    rng = random.Random(1)
    taken = 0
    for _ in range(20_000):
        text = random_word(rng)
        if columns._STRINGS(text) is None:
            continue
        taken += 1
        assert yamlio.loads(f"k: {text}\n", source="w")["k"] == text, text
    # The hard cases are taken where they are strings, and left to fastyaml where not.
    for text in ["20240101-010000-mlp-sweep-00000004", "4b825dc642cb6eb9a060e54bf8d69288fbee4904", "0b1b", "1e5",
                 "000000000000000000000000000000000000000b", "trial-4", "finals", "x/y@z"]:  # fmt: skip
        assert columns._STRINGS(text) is not None and yamlio.loads(f"k: {text}\n", source="w")["k"] == text
    for text in ["0b101", "0x1f", "2026-01-01", "1_000", "yes", "null", "Off", "12.5", "1:20", "final"]:
        assert columns._STRINGS(text) is None, text
    assert taken > 5000, taken


def test_numbers_are_read_together_around_a_few_odd_texts() -> None:
    texts = ["0.5", "1", "-0", "-0.0", ".nan", "1,0.999", "1e5", "0x1f", "12345678901234567890", "9" * 4400]
    texts += [str(n / 8) for n in range(70)]
    column = columns.column(tuple(texts), columns.NUMBERS_KIND)
    assert column.kind == columns.NUMBERS_KIND
    # `0x1f` is left to PyYAML (fastyaml converts only the simplest ints), and so is an int
    # past Python's digit limit (PyYAML refuses the record).
    assert list(column.bad) == [7, 9]
    for row, (text, value, text_json) in enumerate(zip(texts, column.values, column.jsons)):
        if row not in (7, 9):
            want = columns.typed(text)
            assert type(value) is type(want[0]) and same(value, want[0]) and text_json == want[1], text
    assert column.values[5] == "1,0.999" and column.values[6] == "1e5"
    try:
        yamlio.loads(f"k: {texts[9]}\n", source="n")
    except RecordError:
        pass
    else:
        raise AssertionError("PyYAML reads an int past the digit limit")
    joined = json.loads(f"[{','.join(column.jsons[:9])}]")
    assert same(joined[:5], [0.5, 1, 0, -0.0, float("nan")])


def test_a_text_with_a_refused_character_is_never_typed_in_bulk() -> None:
    for texts in (["'a\x07b'", "'c'"], ["a\x85b"] * 3, ["'a\u2028b'"] * 2, ["x", "a\x07b"]):
        column = columns.column(tuple(texts), columns.STRINGS)
        assert [row for row, text in enumerate(texts) if fastyaml.refused(text)] == sorted(set(column.bad))
