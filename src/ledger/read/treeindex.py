"""A summary of the runs in one `experiments/` tree, so that an unchanged history costs a
lookup, not a re-read of every cache line.

Git names a tree by its content: the same tree id always holds the same record files, and
(under one cache key) every record file the same verdict. So a scan of a tree can be kept,
whole, under `ledger-cache/trees-<cache key>/<tree id>`, and answered again for any commit
whose `experiments/` is that tree. One file per tree, of checksummed sections:

- `rows`: one line per run, `path TAB blob TAB offset of its line in the records cache TAB
  head JSON` (the head: what a leaderboard reads);
- `warn`: the records the scan skipped, `path TAB JSON of why`, re-warned on each use;
- `m/<metric>`: a JSON list of each run's value for that metric (`query.metric_value`;
  null when missing or NaN), so a leaderboard ranks from one list and decodes only the
  heads of the few runs that can be in it.

A new tree is built from the most recent summary and the paths `git diff-tree` says changed
(a run committed, a record edited), or, failing that, from a full scan. Like the records
cache, the summary is disposable: it is checked on every read (a bad section means no
summary), never trusted for more than what the tree id determines, and deleting it only
costs time. Full records are not kept here: they are fetched from the records cache by
offset (checked there too), or read again from git.
"""

from __future__ import annotations

import json
import os
import tempfile
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

MAGIC = b"ledger-tree-summary 1\n"
MAX_COLUMNS = 64  # metric columns per summary (a record set with more ranks from heads)
KEEP = 4  # summaries kept per cache key (the trees most recently asked for)


class Summary:
    """One tree's summary, its sections decoded on first use."""

    def __init__(self, header: dict[str, Any], sections: dict[str, bytes]):
        self.header = header
        self.sections = sections
        self.cache_end: int = int(header.get("cache_end", 0))
        self.complete: bool = bool(header.get("complete"))  # every metric has a column
        self._rows: list[bytes] | None = None

    @property
    def rows(self) -> list[bytes]:
        """`path TAB blob TAB offset TAB head JSON`, one per run."""
        if self._rows is None:
            data = self.sections.get("rows", b"")
            self._rows = data.split(b"\n") if data else []
        return self._rows

    def __len__(self) -> int:
        return len(self.rows)

    def row(self, i: int) -> tuple[str, str, int]:
        path, blob, offset, _ = self.rows[i].split(b"\t", 3)
        return path.decode("utf-8"), blob.decode("ascii"), int(offset)

    def head(self, i: int) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.rows[i].split(b"\t", 3)[3])
        return value

    def warnings(self) -> list[tuple[str, dict[str, Any]]]:
        data = self.sections.get("warn", b"")
        out = []
        for line in data.split(b"\n") if data else []:
            path, _, why = line.partition(b"\t")
            out.append((path.decode("utf-8"), json.loads(why)))
        return out

    def column(self, metric: str) -> list[float | None] | None:
        """Each run's value for `metric` (None: missing or NaN); None when there is no
        column for it (then rank from the heads)."""
        data = self.sections.get("m/" + metric)
        if data is None:
            return [None] * len(self) if self.complete else None
        values: list[float | None] = json.loads(data)
        return values if len(values) == len(self) else None

    def columns(self) -> dict[str, list[float | None]]:
        out = {}
        for name in self.sections:
            if name.startswith("m/"):
                column = self.column(name[2:])
                if column is not None:
                    out[name[2:]] = column
        return out

    def find(self, run_ids: Iterable[str]) -> set[int]:
        """The rows of these run ids (a record path ends in `/<id>.yaml`)."""
        data = self.sections.get("rows", b"")
        found = set()
        for run_id in run_ids:
            needle = f"/{run_id}.yaml\t".encode()
            at = data.find(needle)
            while at >= 0:
                found.add(data.count(b"\n", 0, at))
                at = data.find(needle, at + 1)
        return found


def encode(
    rows: Sequence[bytes], warnings: Sequence[bytes], columns: dict[str, list[float | None]], cache_end: int,
    complete: bool,
) -> bytes:  # fmt: skip
    """The bytes of a summary file."""
    sections = {"rows": b"\n".join(rows), "warn": b"\n".join(warnings)}
    for name, values in columns.items():
        sections["m/" + name] = json.dumps(values, separators=(",", ":")).encode("utf-8")
    table: dict[str, list[int]] = {}
    at = 0
    for name, data in sections.items():
        table[name] = [at, len(data), zlib.crc32(data)]
        at += len(data)
    header = {"cache_end": cache_end, "complete": complete, "sections": table}
    return MAGIC + json.dumps(header, separators=(",", ":")).encode("utf-8") + b"\n" + b"".join(sections.values())


def decode(data: bytes, wanted: Iterable[str] | None = None) -> Summary | None:
    """A summary from its bytes; None if anything in it fails its check."""
    try:
        if not data.startswith(MAGIC):
            return None
        end = data.index(b"\n", len(MAGIC))
        header = json.loads(data[len(MAGIC) : end])
        body = end + 1
        sections = {}
        names = header["sections"] if wanted is None else [n for n in wanted if n in header["sections"]]
        for name in names:
            at, size, crc = header["sections"][name]
            part = data[body + at : body + at + size]
            if len(part) != size or zlib.crc32(part) != crc:
                return None
            sections[name] = part
        return Summary(header, sections)
    except (ValueError, KeyError, TypeError):
        return None


class Store:
    """The summaries of one cache key, under the cache directory."""

    def __init__(self, cache_dir: Path, key: str):
        self.dir = cache_dir / f"trees-{key}"

    def path(self, tree: str) -> Path:
        return self.dir / tree

    def load(self, tree: str) -> Summary | None:
        try:
            data = self.path(tree).read_bytes()
        except OSError:
            return None
        summary = decode(data)
        if summary is None:
            self._drop(tree)
        return summary

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

    def save(self, tree: str, data: bytes) -> None:
        """Write atomically; keep the KEEP most recent summaries."""
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, self.path(tree))
            except OSError:
                os.unlink(tmp)
                raise
            found = sorted(self.dir.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
            for old in found[KEEP:]:
                old.unlink()
        except OSError:
            pass

    def _drop(self, tree: str) -> None:
        try:
            self.path(tree).unlink()
        except OSError:
            pass
