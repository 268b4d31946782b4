"""Arguments and helpers shared by several commands."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from ledger.cli import output
from ledger.core.workspace import Workspace
from ledger.errors import UsageError
from ledger.read import api, known
from ledger.read.api import Item, Loaded, Selection


def add_format(parser: argparse.ArgumentParser, default: str = "table") -> None:
    parser.add_argument(
        "--format", choices=output.FORMATS, default=default,
        help=f"output format (default: {default})",
    )  # fmt: skip


def add_sources(parser: argparse.ArgumentParser) -> None:
    """--all / --rev / --include-deleted: which records a reading command looks at."""
    group = parser.add_argument_group("which runs (default: HEAD plus uncommitted runs)")
    group.add_argument(
        "--all",
        dest="all_branches",
        action="store_true",
        help="every local and remote-tracking branch, plus the working tree",
    )
    group.add_argument(
        "--rev", metavar="REV", help="one revision (branch, tag, commit), or A..B: runs added or changed on B since A"
    )
    group.add_argument("--include-deleted", action="store_true",
                       help="also runs whose record was deleted (found in history)")  # fmt: skip


def selection(args: argparse.Namespace) -> Selection:
    rev = getattr(args, "rev", None)
    if rev is not None and (not rev.strip() or rev.startswith("-")):
        raise UsageError(f"bad --rev {rev!r}: give a branch, tag, commit or A..B")
    if rev is not None and getattr(args, "all_branches", False):
        raise UsageError("--rev and --all cannot be combined: pick one")
    if rev is not None and ".." in rev and getattr(args, "include_deleted", False):
        raise UsageError("--include-deleted does not apply to a range A..B: drop one of them")
    return Selection(
        rev=rev,
        all_branches=getattr(args, "all_branches", False),
        include_deleted=getattr(args, "include_deleted", False),
    )


def scan(ws: Workspace, args: argparse.Namespace | None = None, where: str | None = None) -> Iterator[Item]:
    """The runs a command's source arguments select and `where` keeps, read through the
    library's one reader (which writes nothing: a dead run is shown as crashed)."""
    progress = output.Progress()
    try:
        yield from api.scan_items(ws, selection(args) if args is not None else None, where, progress)
    finally:
        progress.finish()


def short_time(ts: str | None) -> str:
    """`2026-11-27T05:12:03.123Z` -> `2026-11-27 05:12`."""
    return ts[:16].replace("T", " ") if ts else ""


def load_records(ws: Workspace, args: argparse.Namespace | None = None) -> list[Loaded]:
    """Records on HEAD plus the working tree (or what `args` select), sorted by id."""
    items = [item.loaded() for item in scan(ws, args)]
    return sorted(items, key=lambda item: item.record["id"])


lookup = known.lookup  # the one resolver of dotted columns lives in the read library
