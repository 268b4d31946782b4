"""Reading records: from a revision's tree (streamed in bulk) and from the working tree.

Records are untrusted input: a bad one is skipped with a warning naming where it was, and
never stops a query.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ledger import gitstore, record, schema, yamlio
from ledger.capture import LedgerWarning
from ledger.errors import LedgerError, RecordError
from ledger.workspace import Workspace


@dataclass(frozen=True)
class Loaded:
    record: dict[str, Any]
    path: str
    origin: str  # a commit-ish, or "worktree"


def parse_record(data: bytes, source: str, expected_path: str | None = None) -> dict[str, Any]:
    """Parse and validate one record blob; RecordError on anything wrong with it."""
    rec = yamlio.loads(data, source=source)
    schema.validate(rec, source=source)
    if expected_path is not None and record.run_id_from_path(expected_path) != rec["id"]:
        raise RecordError(f"its id {rec['id']!r} does not match its file name", path=source)
    return rec


def _warn_skip(exc: LedgerError) -> None:
    warnings.warn(f"skipped a bad record: {exc}", LedgerWarning, stacklevel=3)


def from_revision(ws: Workspace, rev: str) -> list[Loaded]:
    entries = [
        (path, sha)
        for path, sha in gitstore.ls_tree(ws.root, rev, record.RECORDS_DIR)
        if record.run_id_from_path(path)
    ]
    loaded = []
    with gitstore.BlobStream(ws.root) as stream:
        shas = [sha for _, sha in entries]
        for (path, _sha), (_, data) in zip(entries, stream.read_many(shas, yamlio.MAX_BYTES)):
            source = f"{rev}:{path}"
            if data is None:
                _warn_skip(RecordError(f"larger than {yamlio.MAX_BYTES} bytes", path=source))
                continue
            try:
                loaded.append(Loaded(parse_record(data, source, path), path, rev))
            except RecordError as exc:
                _warn_skip(exc)
    return loaded


def from_worktree(ws: Workspace) -> list[Loaded]:
    loaded = []
    for path in gitstore.untracked_and_modified(ws.root, record.RECORDS_DIR):
        if not record.run_id_from_path(path):
            continue
        try:
            data = ws.path(path).read_bytes()
            loaded.append(Loaded(parse_record(data, path, path), path, "worktree"))
        except RecordError as exc:
            _warn_skip(exc)
        except OSError:
            continue
    return loaded


def dedupe(items: Iterable[Loaded]) -> list[Loaded]:
    """One entry per run id; a later source (the working tree) wins over an earlier one."""
    by_id: dict[str, Loaded] = {}
    for item in items:
        by_id[item.record["id"]] = item
    return sorted(by_id.values(), key=lambda item: item.record["id"])


def load(ws: Workspace, rev: str = "HEAD", worktree: bool = True) -> list[Loaded]:
    """Records reachable at `rev`, plus uncommitted ones in the working tree."""
    committed = from_revision(ws, rev) if gitstore.rev_parse(ws.root, rev) else []
    return dedupe([*committed, *(from_worktree(ws) if worktree else [])])


def find(items: list[Loaded], ref: str) -> Loaded:
    """A run by full id, unique id prefix, or unique name."""
    exact = [i for i in items if i.record["id"] == ref]
    if exact:
        return exact[0]
    matches = [i for i in items if i.record["id"].startswith(ref)] or [
        i for i in items if i.record.get("name") == ref
    ]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        from ledger.errors import RunNotFound

        raise RunNotFound(f"no run matches {ref!r}: `ledger ls` lists the runs")
    names = ", ".join(i.record["id"] for i in matches[:5])
    raise LedgerError(f"{ref!r} matches {len(matches)} runs ({names}, ...): give more of the id")
