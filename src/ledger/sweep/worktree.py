"""One temporary git worktree per sweep point, for commands that read the params file
themselves (`dvc repro`): each point's `ledger run` writes its overrides into its own copy,
so parallel points never see each other's params.

The worktree checks out the user's branch itself (git allows it with --force), so the
point's record is committed to the user's branch through the shared refs, with the same
compare-and-swap as any run. The worktree gets the user's uncommitted code (the same patch
a record would hold), so the code tree is the user's, and, in a DVC project, DVC's cache
and a checkout of the data through DVC (`ledger.dvc.data`). Afterwards the record files are copied into the user's
checkout (and its index, when committed), so `git status` there stays clean.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

from ledger import gitstore
from ledger.core import processes, record, yamlio
from ledger.core.workspace import Workspace
from ledger.dvc import data as dvcdata
from ledger.errors import LedgerError, LedgerWarning
from ledger.read import api
from ledger.write.capture.code import capture_code
from ledger.write.capture.data import from_dvc_files
from ledger.write.finalize import ledger_files


class Worktrees:
    """Makes, harvests and removes the temporary worktrees of one sweep."""

    def __init__(self, ws: Workspace):
        self.ws = ws
        state = gitstore.head_state(ws.root)
        if state.commit is None:
            raise LedgerError("the repository has no commit yet: commit your code, then sweep")
        self.branch = state.branch if not state.pending_reason else None
        self.commit = state.commit
        code = capture_code(ws.root, ws.config.source_extensions, ws.config.secrets)
        self.patch = code.patch
        # Files holding a secret are in the patch redacted; the points need them as they are.
        self.raw_files = code.redacted
        self.dvc_cache = dvcdata.cache_dir(ws.root) if dvcdata.is_dvc_repo(ws.root) else None
        self._paths: list[Path] = []

    def create(self) -> Path:
        """A fresh worktree of the user's code; returns its root."""
        path = gitstore.temporary_worktree_add(self.ws.root, "sweep", self.commit, processes.owner(), self.branch)
        self._paths.append(path)
        if self.patch:
            gitstore.apply_patch(path, self.patch)
        for relpath in self.raw_files:
            if (self.ws.root / relpath).is_file():
                shutil.copy2(self.ws.root / relpath, path / relpath)
        if self.dvc_cache:
            _dvc_setup(self.ws.root, path, self.dvc_cache)
        return path

    def harvest(self, path: Path, run_id: str) -> None:
        """Copy one run's record files into the user's checkout (and index, if committed)."""
        rec_path = record.record_path(run_id)
        source = Workspace(path)
        if not source.path(rec_path).is_file():
            return
        rec = api.parse_record(source.path(rec_path).read_bytes(), rec_path, rec_path)
        files = ledger_files(source, rec)
        for relpath, data in sorted(files.items()):
            yamlio.write_atomic(self.ws.path(relpath), data)
        if self.branch and gitstore.show_blob(self.ws.root, f"refs/heads/{self.branch}", rec_path):
            gitstore.stage_files(self.ws.root, files)

    def remove(self, path: Path) -> None:
        if path in self._paths:
            self._paths.remove(path)
        gitstore.temporary_worktree_remove(self.ws.root, path)

    def close(self) -> None:
        for path in list(self._paths):
            self.remove(path)


def _dvc_setup(main: Path, path: Path, cache: str) -> None:
    """Share the user's DVC cache (a local config, never committed) and bring the
    `.dvc`-tracked data: copied from the user's checkout when it is there (no DVC process
    to start), else checked out of the cache."""
    (path / ".dvc" / "config.local").write_text(f"[cache]\n    dir = {cache}\n", encoding="utf-8")
    missing = []
    for entry in from_dvc_files(main):
        source, target = main / entry["path"], path / entry["path"]
        if target.exists():
            continue
        if source.is_dir():
            shutil.copytree(source, target)
        elif source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        else:
            missing.append(entry["source"])
    if missing:
        detail = dvcdata.checkout(path, sorted(set(missing)))
        if detail is not None:
            warnings.warn(f"data for a sweep worktree: {detail}: `dvc pull` it first",
                          LedgerWarning, stacklevel=2)  # fmt: skip
