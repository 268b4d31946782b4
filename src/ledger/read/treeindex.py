"""A summary of the runs in one `experiments/` tree, so that an unchanged history costs a
lookup, not a re-read of every cache line.

Git names a tree by its content: the same tree id always holds the same record files, and
(under one cache key) every record file the same verdict. So a scan of a tree can be kept,
whole, under `ledger-cache/trees-<cache key>/<tree id>`, and answered again for any commit
whose `experiments/` is that tree. One file per tree, of checksummed sections:

- `rows`: one line per run, `path TAB blob TAB offset of its line in the records cache TAB
  head JSON` (the head: what a leaderboard reads);
- `warn`: the records the scan skipped, `path TAB JSON of why`, re-warned on each use;
- `m/<metric>`: each run's value for that metric (`query.metric_value`; missing, or NaN
  kept), as one byte per run (1: it has a value) then the values as 8-byte doubles (0.0
  where missing), so a leaderboard ranks from one column, loaded in a few milliseconds,
  and decodes only the heads of the few runs that can be in it;
- `status`, `started`: JSON lists of each run's status and start time (a leaderboard ranks
  finished runs first; the UI counts statuses), and `order`: the rows newest first (start
  time, then id, both descending, as `ledger.runs()` lists them), so a first page of the
  runs table reads a few rows, not every head.

A new tree is built from the most recent summary and the paths `git diff-tree` says changed
(a run committed, a record edited), or, failing that, from a full scan. Like the records
cache, the summary is disposable: it is checked on every read (a bad section means no
summary), never trusted for more than what the tree id determines, and deleting it only
costs time. Full records are not kept here: they are fetched from the records cache by
offset (checked there too), or read again from git.
"""

from __future__ import annotations

import bisect
import json
import os
import tempfile
import weakref
import zlib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from ledger.read.metriccolumn import HAS_KEY, Column, Damaged

MAGIC = b"ledger-tree-summary 4\n"  # 4: metric columns as doubles, statuses, order
MAX_COLUMNS = 64  # metric columns per summary (a record set with more ranks from heads)
KEEP = 4  # summaries kept per cache key (the trees most recently asked for)


Reader = Callable[[int, int], bytes]  # (offset in the body, size) -> bytes


class Summary:
    """One tree's summary; each section read (and checked) on first use, and single rows
    read on their own, so a leaderboard reads one column and a few rows of the file."""

    def __init__(self, header: dict[str, Any], read: Reader):
        self.header = header
        self.table: dict[str, list[int]] = header["sections"]
        self.read = read
        self.cache_end: int = int(header.get("cache_end", 0))
        self.complete: bool = bool(header.get("complete"))  # every metric has a column
        self.count: int = int(header["n"])
        self._sections: dict[str, bytes] = {}
        self._rows: list[bytes] | None = None
        self._lists: dict[str, list[Any]] = {}
        self._starts: list[int] | None = None

    def section(self, name: str) -> bytes | None:
        if name not in self._sections:
            if name not in self.table:
                return None
            at, size, crc = self.table[name]
            data = self.read(at, size)
            if len(data) != size or zlib.crc32(data) != crc:
                raise Damaged(name)
            self._sections[name] = data
        return self._sections[name]

    @property
    def rows(self) -> list[bytes]:
        """`crc path TAB blob TAB offset TAB head JSON`, one per run (the whole section)."""
        if self._rows is None:
            data = self.section("rows") or b""
            self._rows = data.split(b"\n") if data else []
            if len(self._rows) != self.count:
                raise Damaged("rows")
        return self._rows

    def __len__(self) -> int:
        return self.count

    def starts(self) -> list[int]:
        """Where each row starts in the `rows` section (and where the section ends)."""
        if self._starts is None:
            try:
                starts = json.loads(self.section("o") or b"[]")
            except (ValueError, UnicodeDecodeError):
                raise Damaged("o") from None
            if not isinstance(starts, list) or len(starts) != self.count + 1:
                raise Damaged("o")
            self._starts = starts
        return self._starts

    def _searched(self) -> bytes:
        """The `rows` section for a search, checked, kept only if it was already loaded
        (a search over 100,000 rows does not keep 50 MB alive)."""
        if "rows" in self._sections or "rows" not in self.table:
            return self.section("rows") or b""
        at, size, crc = self.table["rows"]
        data = self.read(at, size)
        if len(data) != size or zlib.crc32(data) != crc:
            raise Damaged("rows")
        return data

    def _row_of(self, at: int) -> int:
        """The row that holds byte `at` of the `rows` section."""
        return bisect.bisect_right(self.starts(), at) - 1

    def _line(self, i: int) -> bytes:
        if self._rows is not None:
            return self._rows[i]
        starts = self.starts()
        at = self.table["rows"][0] + starts[i]
        line = self.read(at, starts[i + 1] - starts[i] - 1)
        if line[8:9] != b" " or line[:8] != b"%08x" % zlib.crc32(line[9:]):
            raise Damaged("a row")
        return line

    def row(self, i: int) -> tuple[str, str, int]:
        path, blob, offset, _ = self._line(i)[9:].split(b"\t", 3)
        return path.decode("utf-8"), blob.decode("ascii"), int(offset)

    def head(self, i: int) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self._line(i)[9:].split(b"\t", 3)[3])
        return value

    def warnings(self) -> list[tuple[str, dict[str, Any]]]:
        data = self.section("warn") or b""
        out = []
        for line in data.split(b"\n") if data else []:
            path, _, why = line.partition(b"\t")
            out.append((path.decode("utf-8"), json.loads(why)))
        return out

    def column(self, metric: str) -> list[float | None] | None:
        """Each run's value for `metric` (None: missing; NaN kept); None when there is no
        column for it (then rank from the heads)."""
        found = self.stored_column(metric)
        if found is None:
            return [None] * self.count if self.complete else None
        return found.numbers()

    def stored_column(self, metric: str) -> Column | None:
        data = self.section("m/" + metric)
        return Column.decode(data, self.count, metric) if data is not None else None

    def present(self, metric: str) -> bytes | None:
        """One byte per run, 1 where the run has `metric` (a value, or null), else 0;
        None: no column."""
        data = self.section("m/" + metric)
        if data is None:
            return bytes(self.count) if self.complete else None
        if len(data) != self.count * 9:
            raise Damaged(metric)
        return data[: self.count].translate(HAS_KEY)

    def rows_with(self, needle: bytes) -> list[int]:
        """The rows whose line holds `needle` (a cheap cut: callers check the heads)."""
        data = self._searched()
        found = []
        at = data.find(needle)
        while at >= 0:
            row = self._row_of(at)
            found.append(row)
            at = data.find(needle, self.starts()[row + 1])
        return found

    def columns(self) -> dict[str, Column]:
        out = {}
        for name in self.table:
            if name.startswith("m/"):
                column = self.stored_column(name[2:])
                if column is not None:
                    out[name[2:]] = column
        return out

    def _list(self, name: str) -> list[Any]:
        """A JSON list section, one value per run (decoded once; a section that passes its
        checksum but is not such a list counts as damaged)."""
        found = self._lists.get(name)
        if found is None:
            try:
                found = json.loads(self.section(name) or b"[]")
            except (ValueError, UnicodeDecodeError):
                raise Damaged(name) from None
            if not isinstance(found, list) or len(found) != self.count:
                raise Damaged(name)
            self._lists[name] = found
        return found

    def statuses(self) -> list[str | None]:
        """Each run's status, as recorded (a dead `running` run is shown crashed by the reader)."""
        return self._list("status")

    def started(self) -> list[str]:
        """Each run's start time ("" when it has none)."""
        return self._list("started")

    def order(self) -> list[int]:
        """The rows newest first (start time, then id, both descending)."""
        found = self._list("order")
        if sorted(found) != list(range(self.count)):
            raise Damaged("order")
        return found

    def find(self, run_ids: Iterable[str]) -> set[int]:
        """The rows of these run ids (a record path ends in `/<id>.yaml`)."""
        data = self._searched()
        found = set()
        for run_id in run_ids:
            needle = f"/{run_id}.yaml\t".encode()
            at = data.find(needle)
            while at >= 0:
                found.add(self._row_of(at))
                at = data.find(needle, at + 1)
        return found


def row_line(path: str, blob: str, offset: int, head_json: bytes) -> bytes:
    """One row of the `rows` section, with its own checksum."""
    rest = f"{path}\t{blob}\t{offset}\t".encode() + head_json
    return b"%08x " % zlib.crc32(rest) + rest


def newest_first(started: Sequence[str], ids: Sequence[str]) -> list[int]:
    """Row numbers, newest start first, then by id descending (`ledger.runs()`'s order)."""
    return sorted(range(len(ids)), key=lambda i: (started[i], ids[i]), reverse=True)


def encode(
    rows: Sequence[bytes], warnings: Sequence[bytes], columns: dict[str, Column], cache_end: int,
    complete: bool, lists: dict[str, list[Any]],
) -> list[bytes]:  # fmt: skip
    """A summary file as a list of pieces to write one after the other (the rows are not
    joined into one more copy of themselves)."""
    starts = [0]
    crc = 0
    for k, row in enumerate(rows):
        crc = zlib.crc32(row, crc)
        if k < len(rows) - 1:
            crc = zlib.crc32(b"\n", crc)
        starts.append(starts[-1] + len(row) + 1)
    size = max(0, starts[-1] - 1)
    pieces: list[bytes] = [b"\n"] * (2 * len(rows) - 1) if rows else []
    pieces[::2] = rows  # each row, then a newline (no copy of the rows)
    sections: dict[str, bytes] = {"o": json.dumps(starts).encode(), "warn": b"\n".join(warnings)}
    for name, listed in lists.items():  # status, started, order
        sections[name] = json.dumps(listed, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    for name, column in columns.items():
        sections["m/" + name] = column.encode()
    table: dict[str, list[int]] = {"rows": [0, size, crc]}
    at = size
    for name, data in sections.items():
        table[name] = [at, len(data), zlib.crc32(data)]
        at += len(data)
    header = {"n": len(rows), "cache_end": cache_end, "complete": complete, "sections": table}
    first = MAGIC + json.dumps(header, separators=(",", ":")).encode("utf-8") + b"\n"
    return [first, *pieces, *sections.values()]


def _header(first: bytes) -> tuple[dict[str, Any], int] | None:
    """The header of a summary and where its body starts, from its first bytes."""
    if not first.startswith(MAGIC):
        return None
    end = first.find(b"\n", len(MAGIC))
    if end < 0:
        return None
    try:
        header = json.loads(first[len(MAGIC) : end])
        int(header["n"]), dict(header["sections"])
    except (ValueError, KeyError, TypeError):
        return None
    return header, end + 1


def decode(data: bytes) -> Summary | None:
    """A summary held in memory (one just built)."""
    found = _header(data[:HEADER_MAX])
    if found is None:
        return None
    header, body = found
    return Summary(header, lambda at, size: data[body + at : body + at + size])


HEADER_MAX = 1 << 16


class Store:
    """The summaries of one cache key, under the cache directory."""

    def __init__(self, cache_dir: Path, key: str):
        self.dir = cache_dir / f"trees-{key}"

    def path(self, tree: str) -> Path:
        return self.dir / tree

    def load(self, tree: str) -> Summary | None:
        """The summary of `tree`, read from its file as it is used."""
        try:
            fd = os.open(self.path(tree), os.O_RDONLY)
        except OSError:
            return None
        try:
            found = _header(os.pread(fd, HEADER_MAX, 0))
        except OSError:
            found = None
        if found is None:
            os.close(fd)
            self._drop(tree)
            return None
        header, body = found

        def read(at: int, size: int) -> bytes:
            try:
                return os.pread(fd, size, body + at)
            except OSError:
                return b""  # fails its check

        summary = Summary(header, read)
        weakref.finalize(summary, os.close, fd)  # the file stays open while the summary is used
        return summary

    def drop(self, tree: str) -> None:
        self._drop(tree)

    def latest(self) -> tuple[str, Summary] | None:
        """The most recently used summary (to build the next one from)."""
        try:
            found = sorted(self.dir.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
        except OSError:
            return None
        for path in found:
            if len(path.name) in (40, 64) and all(c in "0123456789abcdef" for c in path.name):
                summary = self.load(path.name)
                if summary is not None:
                    return path.name, summary
        return None

    def touch(self, tree: str) -> None:
        try:
            os.utime(self.path(tree))
        except OSError:
            pass

    def save(self, tree: str, pieces: list[bytes]) -> bool:
        """Write atomically; keep the KEEP most recent summaries. Whether it was written."""
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.writelines(pieces)
                os.replace(tmp, self.path(tree))
            except OSError:
                os.unlink(tmp)
                raise
            found = sorted(self.dir.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
            for old in found[KEEP:]:
                old.unlink()
        except OSError:
            return False
        return True

    def _drop(self, tree: str) -> None:
        try:
            self.path(tree).unlink()
        except OSError:
            pass
