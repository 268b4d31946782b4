"""One metric's values across the runs of a tree summary (`treeindex.py`), 9 bytes a run."""

from __future__ import annotations

import array
from collections.abc import Sequence


class Damaged(Exception):
    """A part of a summary fails its check: answer without the summary."""


HAS_KEY = bytes([0, 1, 1]) + bytes(253)  # presence byte -> 1 where the run has the key


class Column:
    """One metric's values while a summary is built, 9 bytes a run: a presence byte (0: the
    run has no such metric, 1: a value, 2: the key with null or a non-number), and the value
    as a double (0.0 where it has none)."""

    __slots__ = ("present", "values")

    def __init__(self) -> None:
        self.present = bytearray()
        self.values = array.array("d")

    def __len__(self) -> int:
        return len(self.present)

    def append(self, value: float | None, has_key: bool = True) -> None:
        self.present.append(1 if value is not None else 2 if has_key else 0)
        self.values.append(0.0 if value is None else value)

    def pad(self, count: int) -> None:
        """Runs without the metric up to `count` runs."""
        if count > len(self.present):
            missing = count - len(self.present)
            self.present.extend(bytes(missing))
            self.values.extend(array.array("d", bytes(8 * missing)))

    def extend(self, other: Column) -> None:
        self.present += other.present
        self.values += other.values

    def take(self, rows: Sequence[int]) -> Column:
        out = Column()
        out.present = bytearray(self.present[i] for i in rows)
        out.values = array.array("d", [self.values[i] for i in rows])
        return out

    def filled(self) -> int:
        return len(self.present) - self.present.count(0)

    def numbers(self) -> list[float | None]:
        """Each run's value (None where it has none)."""
        return [v if p == 1 else None for v, p in zip(self.values, self.present)]

    def encode(self) -> bytes:
        return bytes(self.present) + self.values.tobytes()

    @classmethod
    def decode(cls, data: bytes, count: int, name: str = "") -> Column:
        if len(data) != count * 9 or data[:count].translate(None, b"\x00\x01\x02"):
            raise Damaged(name)
        out = cls()
        out.present = bytearray(data[:count])
        out.values.frombytes(data[count:])
        return out
