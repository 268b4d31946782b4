"""The unlogged-code guard: guarded code is committed only after a run was recorded on it.

ledger.yaml's `guard:` lists path globs (`src/model/**`, `train.py`). When a commit stages
a change to any of them, the tree of what is being committed, with ledger's own files left
out, must equal the `code.tree` of some recorded run: that run was made on exactly this
code. ledger's record commits never trip it (they are written with plumbing, which runs no
hooks, and `experiments/` is not code), and `git commit --no-verify` skips it as usual.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ledger import gitstore
from ledger.core import record, yamlio
from ledger.core.workspace import Workspace
from ledger.errors import LedgerError, RecordError
from ledger.read import api
from ledger.write.capture.code import LEDGER_PATHS


class GuardRefused(LedgerError):
    """Guarded code is being committed without a recorded run on it."""

    def __init__(self, message: str, *, files: tuple[str, ...], tree: str):
        self.files = files
        self.tree = tree
        super().__init__(message)


@dataclass(frozen=True)
class Verdict:
    guarded: tuple[str, ...]  # staged guarded paths (empty: the guard had nothing to do)
    tree: str | None  # the code tree being committed
    run_id: str | None  # a run recorded on exactly that tree


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A `guard:` glob as a regex: `**` crosses folders, `*` and `?` do not; a pattern
    without wildcards also matches everything under it (a folder)."""
    pattern = pattern.strip().lstrip("/")
    folder = pattern.endswith("/")
    pattern = pattern.rstrip("/")
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    body = "".join(out)
    plain = not any(c in pattern for c in "*?")
    tail = "(?:/.*)?" if plain or folder else ""
    return re.compile(f"^{body}{tail}$")


def guarded(paths: Iterable[str], patterns: Iterable[str]) -> tuple[str, ...]:
    regexes = [glob_regex(p) for p in patterns if p.strip()]
    return tuple(sorted(p for p in paths if any(r.match(p) for r in regexes)))


def _runs_on(ws: Workspace, tree: str, index: Path) -> str | None:
    """The id of a non-running recorded run whose code tree is `tree`, or None.

    Runs are looked for in HEAD's history, in the index being committed (a record committed
    together with its code) and in the working tree. `git grep` narrows history to the few
    records that mention the tree id, so the guard stays fast with thousands of records.
    """
    staged = {
        p for status, p in gitstore.staged_paths(ws.root, index, record.RECORDS_DIR)
        if status != "D" and record.run_id_from_path(p)
    }  # fmt: skip
    names: list[tuple[str, str]] = []  # (path, object name for cat-file)
    if gitstore.rev_parse(ws.root, "HEAD"):
        found = gitstore.grep_paths(ws.root, "HEAD", tree, record.RECORDS_DIR)
        names += [(p, f"HEAD:{p}") for p in found if record.run_id_from_path(p)]
    if staged:
        blobs = gitstore.index_blobs(ws.root, index, record.RECORDS_DIR)
        names += [(p, blobs[p]) for p in sorted(staged) if p in blobs]
    candidates: list[tuple[str, bytes | None]] = []
    contents = gitstore.read_blobs(ws.root, [name for _, name in names], yamlio.MAX_BYTES)
    candidates += [(p, data) for (p, _), (_, data) in zip(names, contents, strict=True)]
    for path in gitstore.untracked_and_modified(ws.root, record.RECORDS_DIR):
        if record.run_id_from_path(path):
            try:
                candidates.append((path, ws.path(path).read_bytes()[: yamlio.MAX_BYTES + 1]))
            except OSError:
                continue
    for path, data in sorted(candidates, key=lambda c: c[0], reverse=True):
        if data is None or tree.encode() not in data:
            continue
        try:
            rec = api.parse_record(data, path, path)
        except RecordError:
            continue
        code = rec.get("code") or {}
        if code.get("tree") == tree and rec.get("status") != "running":
            return str(rec["id"])
    return None


def _suggestion(ws: Workspace) -> str:
    """The command of the newest recorded run, as the one to run again."""
    paths = sorted(p for p, _ in gitstore.ls_tree(ws.root, "HEAD", record.RECORDS_DIR) if record.run_id_from_path(p))
    if paths:
        data = gitstore.read_file_at(ws.root, "HEAD", paths[-1], yamlio.MAX_BYTES)
        try:
            rec = api.parse_record(data, paths[-1]) if data else {}
        except RecordError:
            rec = {}
        argv = (rec.get("command") or {}).get("argv")
        if isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv):
            if argv[0].rsplit("/", 1)[-1].startswith("python") and len(argv) > 1:
                argv = ["python", *argv[1:]]
            return "ledger run -- " + " ".join(argv)
    return "ledger run -- python train.py"


def check(ws: Workspace) -> Verdict:
    """Judge the commit being made; raise GuardRefused when guarded code was never run."""
    patterns = ws.config.guard
    if not patterns or gitstore.head_state(ws.root).busy:
        return Verdict((), None, None)  # merges and rebases replay code that was reviewed
    index = gitstore.active_index(ws.root)
    staged = [path for _, path in gitstore.staged_paths(ws.root, index)]
    files = guarded(staged, patterns)
    if not files:
        return Verdict((), None, None)
    tree = gitstore.index_tree_without(ws.root, index, LEDGER_PATHS)
    run_id = _runs_on(ws, tree, index)
    if run_id is None:
        shown = ", ".join(files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")
        raise GuardRefused(
            f"commit refused: {shown} (guarded in ledger.yaml) changed, and no recorded run "
            f"was made on exactly this code: run `{_suggestion(ws)}` on what you are "
            "committing, then commit again (or skip the check with `git commit --no-verify`)",
            files=files,
            tree=tree,
        )
    return Verdict(files, tree, run_id)
