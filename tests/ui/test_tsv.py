"""The fast series reader gives exactly the reference parser's answer, or hands back.

Seeded differential fuzz: valid sidecars as ledger writes them, then mutations a torn write,
a hand edit or a hostile branch could bring (empty fields, spaces, CR, NUL, other line
breaks, hexadecimal and underscored numbers, non-UTF-8 names, repeated headers)."""

from __future__ import annotations

import math
import random

import pytest

from ledger.ui import tsv
from ledger.views.plot.data import parse_series

NAMES = ["loss", "val/auc", "lr", "système"]
MUTATIONS = [b"\t\t", b" ", b"\r", b"\x00", b"\x1c", "\u2028".encode(), b"\xff", b"0x1p3", b"1_000", b"nan",
             b"-inf", b"infinity", b"+7", b"1e400", b"step\tmetric\tvalue\ttime\n", b"\n", b"\t", b"x", b"1.5",
             b"99999999999999999999999"]  # fmt: skip


def sidecar(rng: random.Random, lines: int) -> bytes:
    out = [b"step\tmetric\tvalue\ttime\n"]
    for i in range(lines):
        name = rng.choice(NAMES)
        value = rng.choice([rng.uniform(-5, 5), rng.random() * 1e-9, float(rng.randint(0, 9)), math.nan, math.inf])
        step = rng.choice([i, rng.randint(0, lines)])
        out.append(f"{step}\t{name}\t{value!r}\t{i * 0.01:.3f}\n".encode())
    return b"".join(out)


def reference(data: bytes, wanted: set[str]) -> dict[str, list[tuple[float, float]]]:
    return {k: [(float(s), v) for s, v in pts] for k, pts in parse_series(data, wanted).items()}


def fast(data: bytes, wanted: set[str]) -> dict[str, list[tuple[float, float]]] | None:
    found = tsv.parse(data, wanted)
    if found is None:
        return None
    return {k: list(zip(s.astype(float).tolist(), v.tolist())) for k, (s, v) in found.items()}


def same(a: dict[str, list[tuple[float, float]]], b: dict[str, list[tuple[float, float]]]) -> bool:
    if a.keys() != b.keys():
        return False
    for name in a:
        if len(a[name]) != len(b[name]):
            return False
        for (s1, v1), (s2, v2) in zip(a[name], b[name]):
            if s1 != s2 or not (v1 == v2 or (math.isnan(v1) and math.isnan(v2))):
                return False
    return True


def test_valid_sidecars_take_the_fast_path_and_agree() -> None:
    rng = random.Random(7)
    for _ in range(50):
        data = sidecar(rng, rng.randint(1, 300))
        wanted = set(rng.sample(NAMES, rng.randint(1, len(NAMES))))
        got = fast(data, wanted)
        assert got is not None
        assert same(got, reference(data, wanted))


@pytest.mark.parametrize("seed", range(4))
def test_mutated_sidecars_agree_or_hand_back(seed: int) -> None:
    rng = random.Random(seed)
    handed_back = 0
    for _ in range(400):
        data = bytearray(sidecar(rng, rng.randint(1, 40)))
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(data))
            span = rng.randint(0, 4)
            data[at : at + span] = rng.choice(MUTATIONS)
        wanted = set(NAMES)
        got = fast(bytes(data), wanted)
        if got is None:
            handed_back += 1
            continue
        assert same(got, reference(bytes(data), wanted)), bytes(data)
    assert 0 < handed_back < 400
