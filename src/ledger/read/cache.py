"""The disposable record cache: each blob parsed and validated once, ever.

One append-only file under the git directory, `ledger-cache/records-<key>.jsonl`, one line
per blob id:

    <blob id> <crc32 of head> <crc32 of full> <head JSON> TAB <full JSON> LF

`head` holds the few fields a leaderboard needs (so a warm `ledger top` decodes ~300 bytes
per run, not the whole record); `full` is the whole record, checked and decoded only when a
command needs it. A rejected blob is stored as `{"e": reason, "p": JSON pointer or null,
"v": 1 if written by a newer ledger}` and `null`, so a bad record is reported again without
being parsed again. Plain JSON only (never pickle): the cache is data, and reading it runs
nothing.

The cache is never trusted blindly: `<key>` hashes the format, the schema and the parser
limits (a change starts a new file), every line carries a checksum, and a line that fails it
(torn write, bit rot, an edit) is ignored, its blob parsed again, and the file rewritten
without it. Deleting the directory only costs time.
"""

from __future__ import annotations

import hashlib
import json
import json.scanner
import os
import shutil
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ledger.core import schema, yamlio

FORMAT = 3  # 3: verdicts of the reader that shifted numeric slots (`1,0.999`) are dropped
# json.loads without its encoding sniffing and whitespace handling (a warm scan decodes one
# head per run): the standard decoder's own scanner, which raises StopIteration on non-JSON.
_scan = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]
DIRNAME = "ledger-cache"
HEAD_FIELDS = ("id", "name", "status", "experiment", "started_at", "baseline", "metrics")


def cache_key() -> str:
    """Changes whenever what a cached answer depends on changes."""
    text = json.dumps(schema.load_schema("run"), sort_keys=True)
    seed = f"{FORMAT}|{yamlio.MAX_BYTES}|{yamlio.MAX_DEPTH}|{text}"
    return hashlib.sha256(seed.encode()).hexdigest()[:16]


def encode(blob: str, payload: dict[str, Any]) -> bytes:
    """One cache line for a blob's payload: `{"r": record}` (with `"j"`, its head and record
    JSON, when the reader made them) or `{"e": ..., "p": ..., "v": ...}`."""
    rec = payload.get("r")
    rendered = payload.get("j")
    if rendered is not None:  # JSON the reader already made (shapes.py)
        head, full = rendered[0].encode("utf-8"), rendered[1].encode("utf-8")
    elif rec is not None:
        head, full = _dumps({k: rec[k] for k in HEAD_FIELDS if k in rec}), _dumps(rec)
    else:
        head, full = _dumps({k: payload.get(k) for k in ("e", "p", "v")}), b"null"
    return b"%s %08x %08x %s\t%s\n" % (blob.encode("ascii"), zlib.crc32(head), zlib.crc32(full), head, full)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def decode(line: bytes) -> tuple[str, dict[str, Any], bytes] | None:
    """(blob, head, line) for a line whose head is intact, else None. The full record is
    checked later, by `full_record(line)`, only if it is needed."""
    try:
        first = line.index(b" ")
        tab = line.index(b"\t", first)
        start = first + 19
        if line[first + 9 : first + 10] != b" " or line[start - 1 : start] != b" ":
            return None
        head_bytes = line[start:tab]
        if int(line[first + 1 : first + 9], 16) != zlib.crc32(head_bytes):
            return None
        text = head_bytes.decode("utf-8")
        head, end = _scan(text, 0)
        if end != len(text) or not isinstance(head, dict):
            return None
        return line[:first].decode("ascii"), head, line
    except (ValueError, UnicodeDecodeError, StopIteration):  # StopIteration: not JSON at all
        return None


def head_json(line: bytes) -> bytes:
    """The head JSON of a line from `decode` (already checked there)."""
    first = line.index(b" ")
    return line[first + 19 : line.index(b"\t", first)]


def full_record(line: bytes) -> dict[str, Any] | None:
    """The whole record of a line from `decode`; None if that part is damaged."""
    try:
        first = line.index(b" ")
        tab = line.index(b"\t", first)
        full = line[tab + 1 :].rstrip(b"\n")
        if int(line[first + 10 : first + 18], 16) != zlib.crc32(full):
            return None
        value = json.loads(full)
        return value if isinstance(value, dict) else None
    except (ValueError, UnicodeDecodeError):
        return None


class Cache:
    """The cache file of one repository; every failure to use it just means a slower query."""

    def __init__(self, git_dir: Path):
        self.dir = git_dir / DIRNAME
        self.path = self.dir / f"records-{cache_key()}.jsonl"
        self.damaged = 0

    def size(self) -> int:
        try:
            return self.path.stat().st_size if self.path.is_file() else 0
        except OSError:
            return 0

    def read(self, wanted: set[str], start: int = 0) -> Iterator[tuple[str, dict[str, Any], bytes, int]]:
        """(blob, head, line, offset of the line) for blobs in `wanted`, in file order, from
        byte offset `start`."""
        try:
            fh = open(self.path, "rb")  # noqa: SIM115 - closed below; generator
        except OSError:
            return
        with fh:
            fh.seek(start)
            offset = start
            for line in fh:
                at = offset
                offset += len(line)
                if len(line) < 42:
                    continue  # blank (or hopelessly short) line
                blob = line[: line.find(b" ")].decode("ascii", "replace")
                if blob not in wanted:
                    continue
                entry = decode(line)
                if entry is None or entry[0] != blob:
                    self.damaged += 1
                    continue
                yield (*entry, at)

    def line_at(self, offset: int, blob: str) -> bytes | None:
        """The line of `blob` at byte `offset` (what `read` or a batch reported), if it is
        still there and intact; None otherwise (the file was rewritten, or damaged)."""
        if offset < 0:
            return None
        try:
            with open(self.path, "rb") as fh:
                fh.seek(offset)
                line = fh.readline(yamlio.MAX_BYTES * 8)
        except OSError:
            return None
        if not line.startswith(blob.encode("ascii") + b" "):
            return None  # rewritten since: the offset is stale, not damage
        entry = decode(line.rstrip(b"\n"))
        if entry is None or entry[0] != blob:
            self.damaged += 1
            return None
        return entry[2]

    def writable(self) -> bool:
        try:
            self.dir.mkdir(exist_ok=True)
            return os.access(self.dir, os.W_OK) and not self.path.is_dir()
        except OSError:
            return False

    def append(self, lines: Iterable[bytes]) -> int | None:
        """Add lines in one O_APPEND write (a blank line first isolates a torn earlier write);
        the offset where the first line landed, or None if it did not."""
        data = b"\n" + b"".join(lines)
        if len(data) <= 1:
            return None
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError:
            return None
        try:
            if os.write(fd, data) != len(data):
                return None
            # O_APPEND writes whole, at the end: the offset after it tells where it went,
            # whatever other processes appended before.
            return os.lseek(fd, 0, os.SEEK_CUR) - len(data) + 1
        except OSError:
            return None
        finally:
            os.close(fd)

    def batch(self, limit: int = 1 << 18, offsets: dict[str, int] | None = None) -> Batch:
        """A buffer of lines for this cache, written in one append per `limit` bytes (the
        offset of each line written goes into `offsets`, when given)."""
        return Batch(self, limit, offsets)

    def repair(self) -> None:
        """Rewrite the file without damaged lines, and drop the files and tree summaries of
        other cache keys (left by an older ledger)."""
        try:
            for other in self.dir.glob("records-*.jsonl"):
                if other != self.path:
                    other.unlink()
            mine = "trees-" + self.path.stem.removeprefix("records-")
            for folder in self.dir.glob("trees-*"):
                if folder.name != mine and folder.is_dir() and not folder.is_symlink():
                    shutil.rmtree(folder, ignore_errors=True)
            if not self.damaged:
                return
            for index in self.dir.glob("trees-*/*"):
                index.unlink()  # they point at lines by offset; rebuilt on the next query
            tmp = self.path.with_suffix(".tmp")
            with open(self.path, "rb") as src, open(tmp, "wb") as dst:
                for line in src:
                    entry = decode(line) if line.strip() else None
                    if entry is not None and (entry[1].get("e") or full_record(line) is not None):
                        dst.write(line if line.endswith(b"\n") else line + b"\n")
            os.replace(tmp, self.path)
            self.damaged = 0
        except OSError:
            pass


class Batch:
    """Cache lines gathered and appended in a few large writes (see `Cache.append`)."""

    def __init__(self, cache: Cache, limit: int, offsets: dict[str, int] | None = None):
        self.cache = cache
        self.limit = limit
        self.offsets = offsets
        self.blobs: list[str] = []
        self.lines: list[bytes] = []
        self.size = 0

    def add(self, blob: str, payload: dict[str, Any]) -> None:
        line = encode(blob, payload)
        self.lines.append(line)
        self.blobs.append(blob)
        self.size += len(line)
        if self.size > self.limit:
            self.flush()

    def flush(self) -> None:
        start = self.cache.append(self.lines)
        if start is not None and self.offsets is not None:
            for blob, line in zip(self.blobs, self.lines):
                self.offsets[blob] = start
                start += len(line)
        self.lines, self.blobs, self.size = [], [], 0
