"""A fast reader for a series sidecar (`step  metric  value  time` lines) that gives exactly
what `views.plot.data.parse_series` gives, or hands back (None).

It takes the fast path only when every line provably has four non-empty tab-separated
fields and no other whitespace: then one `bytes.split()` yields exactly the fields, in
groups of four, and the numbers are read by the same `int` and `float` as the reference.
Any other file (a torn line, a hand edit, a name with a space) goes to the reference parser.
"""

from __future__ import annotations

from typing import Any

HEADER = b"step\tmetric\tvalue\ttime"
# NUL, whitespace other than tab and newline, and what str.splitlines() (the reference's
# line split) also breaks on: \x1c-\x1e; NEL, LINE and PARAGRAPH SEPARATOR are checked apart.
_REFUSED = b"\x00 \x0b\x0c\r\x1c\x1d\x1e"
_BREAKS = (b"\xc2\x85", b"\xe2\x80\xa8", b"\xe2\x80\xa9")


def _well_formed(body: bytes) -> bool:
    import numpy as np  # arrives with matplotlib, a core dependency

    if not body.endswith(b"\n") or body.startswith((b"\t", b"\n")) or b"step\t" in body:
        return False
    if any(bad in body for bad in (b"\t\t", b"\n\t", b"\t\n", b"\n\n", *_BREAKS)):
        return False
    if len(body.translate(None, _REFUSED)) != len(body):
        return False
    try:
        body.decode("utf-8")  # the reference reads names as UTF-8 (with replacement)
    except UnicodeDecodeError:
        return False
    raw = np.frombuffer(body, dtype=np.uint8)
    ends = np.flatnonzero(raw == 10)
    tabs = np.flatnonzero(raw == 9)
    if len(tabs) != 3 * len(ends):
        return False
    starts = np.concatenate(([-1], ends[:-1]))
    return bool((tabs[0::3] > starts).all() and (tabs[2::3] < ends).all())  # three tabs on each line


def parse(data: bytes, wanted: set[str]) -> dict[str, tuple[Any, Any]] | None:
    """{metric: (steps, values)} as int64/float64 arrays sorted by step, or None."""
    import numpy as np

    body = data[len(HEADER) + 1 :] if data.startswith(HEADER + b"\n") else data
    if not body or not _well_formed(body):
        return None
    tokens = body.split()
    names = tokens[1::4]
    out: dict[str, tuple[Any, Any]] = {}
    try:
        for name in wanted:
            key = name.encode("utf-8")
            rows = [4 * i for i, found in enumerate(names) if found == key]
            if not rows:
                continue
            steps = np.array([int(tokens[r]) for r in rows], dtype=np.int64)
            values = np.array([float(tokens[r + 2]) for r in rows], dtype=np.float64)
            order = np.argsort(steps, kind="stable")
            out[name] = (steps[order], values[order])
    except (ValueError, OverflowError):
        return None
    return out
