"""Where each run of the table is: the committed runs, newest first, with the working tree's
runs put in their place and the committed versions they replace left out.

The committed runs are read once per commit (and made only as they are asked for); the
working tree's few runs are read again whenever they change. A Layout maps a table
position to one or the other without copying the committed order: in the usual case (a
clean working tree) it is the committed order itself.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from typing import Any

Key = tuple[str, str]  # (started_at, id): newest first is this key descending


class Layout:
    """`count` committed runs less `replaced` (positions), plus `added` items, each put
    before the first committed run it is newer than; `key(position)` is a committed run's
    order key and `key_of(item)` an added one's."""

    def __init__(
        self, count: int, added: Sequence[Any], replaced: Sequence[int], key: Callable[[int], Key],
        key_of: Callable[[Any], Key],
    ):  # fmt: skip
        self.replaced = sorted(replaced)
        gone = set(self.replaced)
        # Where each added run goes: before the first committed run it is newer than (the
        # committed order is by the same key, so a binary search reads a few of them).
        self.inserts: list[tuple[int, Any]] = []
        for item in added:
            wanted, low, high = key_of(item), 0, count
            while low < high:
                middle = (low + high) // 2
                if key(middle) > wanted:
                    low = middle + 1
                else:
                    high = middle
            self.inserts.append((low, item))
        self.inserts.sort(key=lambda pair: pair[0])  # stable: added runs keep their order
        self.before = [at for at, _ in self.inserts]
        # Pieces: (first table position, first committed position or -1, length, item).
        self.pieces: list[tuple[int, int, int, Any]] = []
        table = committed = 0
        pending = list(self.inserts)
        for bound in sorted(gone | set(self.before)):
            if bound > committed:
                self.pieces.append((table, committed, bound - committed, None))
                table += bound - committed
                committed = bound
            while pending and pending[0][0] == bound:
                self.pieces.append((table, -1, 1, pending.pop(0)[1]))
                table += 1
            if bound in gone:
                committed = bound + 1
        if committed < count:
            self.pieces.append((table, committed, count - committed, None))
            table += count - committed
        self.count = table
        self.starts = [piece[0] for piece in self.pieces]

    def __len__(self) -> int:
        return self.count

    def locate(self, position: int) -> tuple[int, Any]:
        """(committed position, None) or (-1, the added item) at a table position."""
        first, committed, _, item = self.pieces[bisect_right(self.starts, position) - 1]
        return (-1, item) if item is not None else (committed + position - first, None)

    def position(self, committed: int) -> int | None:
        """The table position of a committed run; None when a working tree version replaces it."""
        at = bisect_left(self.replaced, committed)
        if at < len(self.replaced) and self.replaced[at] == committed:
            return None
        return committed - at + bisect_right(self.before, committed)

    def merged(self, committed: Sequence[Any], of_added: Callable[[Any], Any]) -> list[Any]:
        """A per-run list in table order, from the committed runs' list and each added run."""
        out: list[Any] = []
        for _, first, length, item in self.pieces:
            if item is not None:
                out.append(of_added(item))
            else:
                out.extend(committed[first : first + length])
        return out
