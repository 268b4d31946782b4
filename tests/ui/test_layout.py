"""The table's layout (ledger.ui.layout): committed runs less the replaced ones, the working
tree's runs in their place; seeded, against a merge done by hand."""

from __future__ import annotations

import random

from ledger.ui.layout import Key, Layout


def some_keys(rng: random.Random, prefix: str, most: int) -> list[Key]:
    """Distinct (start, id) keys, newest first."""
    found = {(f"{rng.randint(0, 40):02d}", f"{prefix}{rng.randint(0, 99)}") for _ in range(rng.randint(0, most))}
    return sorted(found, reverse=True)


def test_the_layout_is_the_merge_newest_first() -> None:
    rng = random.Random(16)
    for _ in range(400):
        keys = some_keys(rng, "c", 30)
        replaced = sorted(rng.sample(range(len(keys)), rng.randint(0, min(4, len(keys)))))
        added = some_keys(rng, "w", 5)
        layout = Layout(len(keys), added, replaced, keys.__getitem__, lambda item: item)
        expected = sorted([k for c, k in enumerate(keys) if c not in replaced] + added, reverse=True)
        shown = [keys[c] if item is None else item for c, item in map(layout.locate, range(len(layout)))]
        assert shown == expected
        for c, key in enumerate(keys):
            position = layout.position(c)
            assert (position is None) == (c in replaced) and (position is None or shown[position] == key)
        assert layout.merged(keys, lambda item: item) == expected


def test_a_clean_working_tree_is_one_piece() -> None:
    layout = Layout(100_000, [], [], lambda c: ("", str(c)), lambda item: item)
    assert layout.pieces == [(0, 0, 100_000, None)] and layout.locate(99_999) == (99_999, None)
