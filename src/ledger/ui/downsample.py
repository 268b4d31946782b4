"""Series reduced to what a chart can draw: per pixel column, the first, lowest, highest and
last point (M4 aggregation). The line drawn from it is the line drawn from every point, at
a few thousand points instead of a million; the browser never gets what it cannot show."""

from __future__ import annotations

from collections.abc import Sequence

MAX_WIDTH = 4000


def m4(steps: Sequence[float], values: Sequence[float], width: int) -> tuple[list[float], list[float | None]]:
    """(steps, values) of at most 4 * width points, in step order; NaN and infinities come
    back as None (a gap). `steps` must be sorted."""
    import numpy as np  # arrives with matplotlib, a core dependency

    width = max(1, min(int(width), MAX_WIDTH))
    x = np.asarray(steps, dtype=float)
    y = np.asarray(values, dtype=float)
    n = len(x)
    if n > 4 * width:
        size = -(-n // width)  # points per column, rounded up
        pad = size * width - n
        finite = np.isfinite(y)
        low = np.pad(np.where(finite, y, np.inf), (0, pad), constant_values=np.inf).reshape(width, size)
        high = np.pad(np.where(finite, y, -np.inf), (0, pad), constant_values=-np.inf).reshape(width, size)
        starts = np.arange(width) * size
        keep = np.concatenate(
            [starts, starts + low.argmin(axis=1), starts + high.argmax(axis=1), np.minimum(starts + size, n) - 1]
        )
        keep = np.unique(keep[keep < n])
        x, y = x[keep], y[keep]
    ys = [float(v) if np.isfinite(v) else None for v in y.tolist()]
    return x.tolist(), ys
