"""Runs read as they are asked for: what `ledger ui` serves 100,000 runs through. The runs
newest first where one revision's tree summary allows, without decoding every head
(`read.summary.Newest`), read a few at a time, with the working tree's records laid over
them apart (a running run rewrites its record every few seconds; that must not cost a
re-read of the committed runs)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from ledger.core.workspace import Workspace
from ledger.read.records import Item, scan_entries
from ledger.read.selected import scan_items, shown
from ledger.read.sources import (
    Selection,
    worktree_entries,
)


def newest(ws: Workspace, selection: Selection | None = None) -> Sequence[Item]:
    """The runs of a selection newest first, as `runs()` lists them (each as shown: a dead
    `running` run is crashed). Over one revision each run is made when it is first asked
    for; ranges, `--all` and `--include-deleted` are scanned now."""
    from ledger.read import summary

    selection = selection or Selection()
    view = summary.view(ws, selection)
    found = view.newest(shown=lambda item: shown(ws, item)) if view is not None else None
    if found is not None:
        return found
    return sorted(scan_items(ws, selection), key=_newest_key, reverse=True)


def _newest_key(item: Item) -> tuple[str, str]:
    return str(item.head.get("started_at") or ""), str(item.head["id"])


def statuses(runs: Sequence[Item]) -> list[str | None]:
    """Each run's status as shown, in order; from `newest` runs, only `running` runs are read."""
    from ledger.read import summary

    if isinstance(runs, summary.Newest):
        return runs.statuses()
    return [s if isinstance(s := item.head.get("status"), str) else None for item in runs]


def peek(runs: Sequence[Item], position: int) -> Item:
    """The run at `position` (0 or more) made for this caller only: `runs` does not keep it,
    so a pass over every run leaves nothing behind (nor does its whole record, once read)."""
    import copy

    from ledger.read import summary

    if not isinstance(runs, summary.Newest):
        return copy.copy(runs[position])  # its record, once read, goes with the copy
    made = runs.made.get(position)
    slot = runs.slots[position]
    if made is not None or not isinstance(slot, int):
        return made if made is not None else runs[position]
    item = runs.view.item(slot)
    return runs.shown(item) if runs.shown is not None else item


def heads(runs: Sequence[Item], positions: Iterable[int]) -> Iterator[dict[str, Any]]:
    """The small head of the run at each position (as shown), each read for this caller only."""
    from ledger.read import summary

    if not isinstance(runs, summary.Newest):
        yield from (runs[position].head for position in positions)
        return
    recorded = runs.view.summary.statuses()
    for position in positions:
        slot = runs.slots[position]
        made = runs.made.get(position)
        if made is not None or not isinstance(slot, int) or recorded[slot] == "running":
            yield (made or runs[position]).head  # as shown (a dead run is crashed)
        else:
            yield runs.view.summary.head(slot)


def record_jsons(runs: Sequence[Item], positions: Iterable[int]) -> Iterator[bytes | None]:
    """For each position, the run's whole record as JSON, as the records cache holds it
    (checksum verified), for a caller that can skip a run by its bytes before decoding it;
    None where the record is not read from there (a run of the working tree, a `running`
    run, a line gone from the cache): read that one with `peek(...).record`."""
    from ledger.read import summary

    if not isinstance(runs, summary.Newest):
        yield from (None for _ in positions)
        return
    view = runs.view
    recorded = view.summary.statuses()
    try:
        fh = open(view.cache.path, "rb")  # noqa: SIM115 - closed below; generator
    except OSError:
        yield from (None for _ in positions)
        return
    with fh:
        for position in positions:
            slot = runs.slots[position]
            if not isinstance(slot, int) or recorded[slot] == "running":
                yield None
                continue
            _, blob, offset = view.summary.row(slot)
            yield _full_json(fh, offset, blob)


def _full_json(fh: Any, offset: int, blob: str) -> bytes | None:
    """The whole-record JSON of `blob`'s line at `offset` of the records cache (its layout:
    `<blob> <crc of head> <crc of full> <head> TAB <full>`), if it is still there, intact."""
    import zlib

    from ledger.core import yamlio

    if offset < 0:
        return None
    fh.seek(offset)
    line = fh.readline(yamlio.MAX_BYTES * 8)
    first = len(blob)
    if not line.startswith(blob.encode("ascii") + b" "):
        return None
    tab = line.find(b"\t", first)
    if tab < 0:
        return None
    full = line[tab + 1 :].rstrip(b"\n")
    if line[first + 10 : first + 18] != b"%08x" % zlib.crc32(full) or full == b"null":
        return None
    return full


def positions(runs: Sequence[Item], run_ids: Iterable[str]) -> dict[str, int]:
    """Where the runs with these ids are in `runs` (those it has), found without decoding
    every head where the tree summary allows."""
    from ledger.core.record import run_id_from_path
    from ledger.read import summary

    wanted = set(run_ids)
    found: dict[str, int] = {}
    if not wanted:
        return found
    if not isinstance(runs, summary.Newest):
        for position, item in enumerate(runs):
            if str(item.head["id"]) in wanted:
                found[str(item.head["id"])] = position
        return found
    rows = runs.view.summary.find(wanted)
    for position, slot in enumerate(runs.slots):
        if isinstance(slot, int):
            if slot in rows:
                found[str(run_id_from_path(runs.view.summary.row(slot)[0]))] = position
        elif str(slot.head["id"]) in wanted:
            found[str(slot.head["id"])] = position
    return found


def start_overlay(ws: Workspace) -> Callable[[Sequence[Item]], tuple[list[Item], list[int]]]:
    """`overlay`, started now: git lists the working tree's new and changed record files
    (it stats every one: most of the time on 100,000 runs) while the caller reads the
    committed runs, then calls the function returned with them (always: it waits for git)."""
    from ledger.read.sources import start_worktree_listing

    listing = start_worktree_listing(ws)
    return lambda runs: overlay(ws, runs, listing)


def overlay(
    ws: Workspace, runs: Sequence[Item], listed: Callable[[], list[str]] | None = None
) -> tuple[list[Item], list[int]]:
    """The working tree's new and changed records laid over committed `runs` (from `newest`
    with `worktree=False`): the runs to add, each as shown, and the positions in `runs`
    whose run they replace. Of a run in both, the newest version wins, as one scan decides
    (so the answer is `newest` with the working tree, read without re-reading `runs`).
    `listed` answers which files changed when that was asked earlier (`start_overlay`)."""
    from ledger.read import summary
    from ledger.read.sources import WORKTREE, Entry, Source, entry

    found = worktree_entries(ws, listed)
    if not found:
        return [], []
    at = positions(runs, {e.run_id for e in found})
    committed: list[Entry] = []
    cache_from = 0
    for position in at.values():
        if isinstance(runs, summary.Newest) and isinstance(slot := runs.slots[position], int):
            path, blob, _ = runs.view.summary.row(slot)
            made = entry(path, blob, runs.view.source)
        else:  # a scanned run: the working tree (newer than any commit) wins a tie on time
            item = peek(runs, position)
            made = entry(item.path, str(item.blob), Source(item.origin, item.commit, 0))
        if made is not None:
            committed.append(made)
    if isinstance(runs, summary.Newest):
        cache_from = runs.view.summary.cache_end  # what was added since: not every run's line
    added: list[Item] = []
    replaced: list[int] = []
    for item in scan_entries(ws, [*found, *committed], cache_from=cache_from):
        if item.origin == WORKTREE:
            added.append(shown(ws, item))
            if str(item.head["id"]) in at:
                replaced.append(at[str(item.head["id"])])
    return sorted(added, key=_newest_key, reverse=True), sorted(replaced)
