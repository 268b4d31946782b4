"""M4 downsampling: what reaches a chart draws the same line as every point would."""

from __future__ import annotations

import math
import random

import pytest

from ledger.ui.downsample import m4


def test_short_series_pass_through_and_nan_becomes_a_gap() -> None:
    steps, values = m4([0, 1, 2], [1.0, float("nan"), float("inf")], width=100)
    assert steps == [0.0, 1.0, 2.0] and values == [1.0, None, None]


@pytest.mark.parametrize("n,width", [(100_000, 800), (10_001, 7), (4_000, 999), (123_457, 1000)])
def test_each_column_keeps_its_first_last_lowest_and_highest_point(n: int, width: int) -> None:
    rng = random.Random(n)
    ys = [math.sin(i / 500) + rng.gauss(0, 0.3) for i in range(n)]
    ys[n // 3] = 50.0  # a spike that must survive
    ys[n // 2] = float("nan")
    steps, values = m4(list(range(n)), ys, width)
    assert len(steps) <= 4 * width and steps == sorted(set(steps))
    assert steps[0] == 0 and steps[-1] == n - 1
    kept = dict(zip(steps, values))
    size = -(-n // width)
    for start in range(0, n, size):
        column = [(i, ys[i]) for i in range(start, min(start + size, n)) if math.isfinite(ys[i])]
        low = min(column, key=lambda p: p[1])
        high = max(column, key=lambda p: p[1])
        assert kept[low[0]] == low[1] and kept[high[0]] == high[1]
    assert kept[n // 3] == 50.0
