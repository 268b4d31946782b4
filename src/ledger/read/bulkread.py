"""Parsing record blobs in bulk: each blob parsed and validated once, in this process or in
worker processes that write straight into the cache.

`analyze` is the one verdict on a blob's bytes, independent of where they were found: a
known record layout (`shapes`, which also validates and renders the cache JSON), else the
strict canonical reader (`fastyaml`), else the safe loader (`yamlio.loads`, every §9
check); then, unless the layout vouched for it, the compiled schema check (`fastschema`)
or else jsonschema for the message.
Big cold scans fork up to WORKERS processes (one per CPU this process may use); each
streams its share of blobs (`share`: chunks of consecutive blobs) through its own
`git cat-file --batch`, reads them with `analyze_all` (records of a known layout a batch at
a time, `batches`; the answers are `analyze`'s) and appends cache lines, which the parent
reads back as they land. Nothing crosses a process boundary but those checksummed JSON
lines (never pickle), and whatever a worker fails to do, the parent does.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from typing import Any

from ledger import gitstore
from ledger.core import yamlio
from ledger.core.workspace import Workspace
from ledger.errors import RecordError, UnsupportedVersion
from ledger.read import batches, fastschema, shapes, slotschema
from ledger.read import cache as cache_mod
from ledger.read.sources import Progress

PARALLEL_MIN = 1500  # uncached blobs worth forking workers for
WORKERS = 4
CHUNK = 512  # consecutive blobs a worker takes in turn
BATCH_BYTES = 1 << 18
BATCH_RECORDS = 512  # records of one shape read together
WAITING_MAX = 2048  # records waiting for their batch, all shapes together
_SHAPES = shapes.Shapes(cache_mod.HEAD_FIELDS, slotschema.slot_checks)


def _json_exact(value: Any) -> bool:
    """True when JSON keeps `value` as is (the safe loader may build non-string keys)."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_exact(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_json_exact(v) for v in value)
    return True


def analyze(data: bytes | None, keep: bool = True) -> dict[str, Any]:
    """Parse and validate one blob, independent of where it was found.

    `{"r": record}`, plus `"x": 1` when the record cannot be cached exactly, or
    `"j": (head JSON, record JSON)` when its shape already gave them (and then `"r"` only
    if `keep`: writing the cache needs just the JSON); or
    `{"e": reason, "p": JSON pointer, "v": 1 when written by a newer ledger}`.
    """
    if data is None or len(data) > yamlio.MAX_BYTES:
        return {"e": f"larger than {yamlio.MAX_BYTES} bytes"}
    exact = True
    rendered = None
    try:
        checked = False
        try:
            rec, rendered, checked = _SHAPES.parse(data.decode("utf-8"), build=keep)
        except Exception:  # noqa: BLE001 - anything unusual goes to the reference loader
            rec = yamlio.loads(data, source="")
            exact = _json_exact(rec)
        if not checked:
            fastschema.validate(rec, source="")
    except UnsupportedVersion as exc:
        return {"e": exc.reason, "p": exc.pointer, "v": 1}
    except RecordError as exc:
        return {"e": exc.reason, "p": exc.pointer}
    if not exact:
        return {"r": rec, "x": 1}
    if rendered is None:
        return {"r": rec}
    return {"r": rec, "j": rendered} if rec is not None else {"j": rendered}


def analyze_all(items: Iterable[tuple[str, bytes | None]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(blob, `analyze(data, keep=False)`) for each (blob, data), not in their order.

    A record of a known shape waits for others of its shape, and each batch of them is read
    a column at a time (`batches.read`); a record the batch cannot vouch for, and any
    other blob, goes through `analyze` alone, so every answer is `analyze`'s.
    """
    queues: dict[tuple[shapes.Shape, shapes.Fixed | None], list[tuple[str, bytes, tuple[str, ...]]]] = {}
    waiting = 0
    for blob, data in items:
        found = None
        if data is not None and len(data) <= yamlio.MAX_BYTES:
            try:
                found = _SHAPES.match(data.decode("utf-8"))
            except UnicodeDecodeError:
                pass
        if found is None or data is None:
            yield blob, analyze(data, keep=False)
            continue
        shape, fixed, texts = found
        queue = queues.setdefault((shape, fixed), [])
        queue.append((blob, data, texts))
        waiting += 1
        if len(queue) >= BATCH_RECORDS:
            waiting -= len(queue)
            yield from _read_batch(shape, fixed, queues.pop((shape, fixed)))
        elif waiting >= WAITING_MAX:
            for (shape, fixed), queue in queues.items():
                yield from _read_batch(shape, fixed, queue)
            queues.clear()
            waiting = 0
    for (shape, fixed), queue in queues.items():
        yield from _read_batch(shape, fixed, queue)


def _read_batch(
    shape: shapes.Shape, fixed: shapes.Fixed | None, queue: list[tuple[str, bytes, tuple[str, ...]]]
) -> Iterator[tuple[str, dict[str, Any]]]:
    try:
        rendered = batches.read(shape, fixed, [texts for _, _, texts in queue])
    except Exception:  # noqa: BLE001 - anything unusual goes to the per-record reader
        rendered = [None] * len(queue)
    for (blob, data, _), pair in zip(queue, rendered):
        yield blob, ({"j": pair} if pair is not None else analyze(data, keep=False))


def _head(rec: dict[str, Any]) -> dict[str, Any]:
    return {k: rec[k] for k in cache_mod.HEAD_FIELDS if k in rec}


def parse_here(
    ws: Workspace, cache: cache_mod.Cache | None, blobs: list[str], data: dict[str, bytes], progress: Progress | None,
    offsets: dict[str, int] | None = None,
) -> Iterator[tuple[str, dict[str, Any], dict[str, Any] | None]]:  # fmt: skip
    """(blob, head or error, record) for blobs parsed in this process; cached as it goes
    (where each line landed goes into `offsets`, once written)."""
    batch = cache.batch(BATCH_BYTES, offsets) if cache is not None else None
    from_git = [b for b in blobs if b not in data]
    done = 0

    def one(blob: str, payload: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
        nonlocal done
        if batch is not None and "x" not in payload:
            batch.add(blob, payload)
        done += 1
        if progress is not None and done % 250 == 0:
            progress(done, len(blobs))
        rec = payload.get("r")
        return (blob, _head(rec), rec) if rec is not None else (blob, payload, None)

    for blob in blobs:
        if blob in data:
            yield one(blob, analyze(data[blob]))
    if from_git:
        for blob, state, content in gitstore.iter_blobs(ws.root, from_git, yamlio.MAX_BYTES):
            if state == "missing":
                yield blob, {"e": "its blob is missing from the repository (a partial clone?)"}, None
                continue
            yield one(blob, analyze(content))
    if batch is not None:
        batch.flush()


def _worker(ws: Workspace, cache: cache_mod.Cache, blobs: list[str]) -> None:
    batch = cache.batch(BATCH_BYTES)
    found = gitstore.iter_blobs(ws.root, blobs, yamlio.MAX_BYTES)
    for blob, payload in analyze_all((blob, content) for blob, state, content in found if state != "missing"):
        if "x" in payload:
            continue  # not cacheable: the parent parses it itself
        batch.add(blob, payload)
    batch.flush()


def share(blobs: list[str], k: int, count: int, chunk: int = CHUNK) -> list[str]:
    """Worker k's share of `blobs` (of `count` workers): chunks of consecutive blobs, in
    turn. Consecutive blobs in listing order are close in git's pack, so each worker's
    `git cat-file` resolves far fewer deltas than from every count-th blob."""
    return [blob for start in range(k * chunk, len(blobs), count * chunk) for blob in blobs[start : start + chunk]]


def parallel_worthwhile(count: int) -> bool:
    """Whether `count` uncached blobs are worth worker processes here."""
    return count >= PARALLEL_MIN and _cpus() > 1 and hasattr(os, "fork")


def _cpus() -> int:
    """CPUs this process may run on (its affinity, e.g. under taskset or a container)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def parse_in_workers(
    ws: Workspace, cache: cache_mod.Cache, blobs: list[str], progress: Progress | None,
    offsets: dict[str, int] | None = None,
) -> Iterator[tuple[str, dict[str, Any], bytes | None]]:  # fmt: skip
    """Fork workers that parse into the cache file; read their lines back as they land
    (and note where each landed in `offsets`)."""
    start = cache.size()
    count = max(1, min(WORKERS, _cpus()))
    pids = []
    for k in range(count):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            code = 1
            try:
                _worker(ws, cache, share(blobs, k, count, CHUNK))
                code = 0
            finally:
                os._exit(code)
        pids.append(pid)
    wanted = set(blobs)
    seen = 0
    buffer = b""
    at = start  # the file offset of `buffer`
    try:
        with open(cache.path, "ab+") as fh:
            fh.seek(start)
            while True:
                alive = [pid for pid in pids if os.waitpid(pid, os.WNOHANG) == (0, 0)]
                chunk = fh.read()
                if chunk:
                    buffer += chunk
                    *lines, buffer = buffer.split(b"\n")
                    for line in lines:
                        line_at = at
                        at += len(line) + 1
                        entry = cache_mod.decode(line) if line else None
                        if entry is not None and entry[0] in wanted:
                            wanted.discard(entry[0])
                            seen += 1
                            if offsets is not None:
                                offsets[entry[0]] = line_at
                            yield entry
                    if progress is not None:
                        progress(seen, len(blobs))
                elif not alive:
                    break
                else:
                    time.sleep(0.01)
                pids = alive
    finally:
        for pid in pids:
            try:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
            except OSError:
                pass
