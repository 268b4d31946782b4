"""Data versions, read straight from DVC's own files (`*.dvc`, `dvc.lock`).

Each entry names a path (relative to the repository root), DVC's md5, size and file count,
and where the version was declared. Whether the working tree still matches (`matches`) is
answered through DVC's state cache (see `ledger.dvc.data`), so unchanged large data is not
re-read; DVC is only loaded when the repository declares DVC data.
"""

from __future__ import annotations

import posixpath
import warnings
from pathlib import Path
from typing import Any

from ledger import gitstore
from ledger.core import yamlio
from ledger.core.digest import md5_file
from ledger.core.record import RECORDS_DIR
from ledger.core.workspace import safe_relpath
from ledger.dvc import dag
from ledger.dvc import data as dvcdata
from ledger.errors import LedgerError, LedgerWarning, RecordError


def _entry(base: str, out: Any, source: str, role: str, root: Path) -> dict[str, Any] | None:
    if not isinstance(out, dict) or not isinstance(out.get("path"), str):
        return None
    path = posixpath.normpath(posixpath.join(base, out["path"])) if base else out["path"]
    try:
        path = safe_relpath(path, root)
    except LedgerError:
        return None
    md5 = out.get("md5") or out.get("etag") or out.get("checksum")
    size = out.get("size")
    nfiles = out.get("nfiles")
    return {
        "path": path,
        "hash": str(md5) if md5 else None,
        "size": size if isinstance(size, int) else None,
        "nfiles": nfiles if isinstance(nfiles, int) else (None if str(md5).endswith(".dir") else 1),
        "source": source,
        "matches": None,
        "role": role,
    }


def dvc_files(root: Path) -> list[str]:
    found = gitstore.ls_files(root, ["*.dvc"], untracked=True)
    # ledger's own `.dvc` files (large artifacts in run sidecars) are outputs, not data.
    return sorted({p for p in found if p.endswith(".dvc") and not p.startswith(f"{RECORDS_DIR}/")})


def from_dvc_files(root: Path) -> list[dict[str, Any]]:
    entries = []
    for relpath in dvc_files(root):
        try:
            doc = yamlio.load_file(root / relpath, source=relpath)
        except (RecordError, OSError):
            continue
        for out in (doc or {}).get("outs", []) if isinstance(doc, dict) else []:
            entry = _entry(posixpath.dirname(relpath), out, relpath, "data", root)
            if entry:
                entries.append(entry)
    return entries


def from_dvc_lock(root: Path, lock: str = "dvc.lock") -> list[dict[str, Any]]:
    """`dvc.lock`'s entries with roles from the pipeline's DAG: a path some stage produces
    is an `out` of that stage (`source: dvc.lock:<stage>`), however many stages read it; a
    dependency no stage produces is a `dep` (of the first stage, by name, that reads it)."""
    path = root / lock
    if not path.exists():
        return []
    try:
        doc = yamlio.load_file(path, source=lock)
    except RecordError:
        return []
    stages = doc.get("stages", {}) if isinstance(doc, dict) else {}
    if not isinstance(stages, dict):
        return []
    graph = dag.read(root)
    bases = dag.stage_bases(root)
    outs: list[dict[str, Any]] = []
    deps: list[dict[str, Any]] = []
    for name, stage in sorted(stages.items()):
        if not isinstance(stage, dict):
            continue
        base = posixpath.join(posixpath.dirname(lock), bases.get(str(name).split("@")[0], ""))
        base = base.rstrip("/")
        for out in stage.get("outs") or []:
            entry = _entry(base, out, f"{lock}:{name}", "out", root)
            if entry:
                outs.append(entry)
        for dep in stage.get("deps") or []:
            entry = _entry(base, dep, f"{lock}:{name}", "dep", root)
            if entry is None:
                continue
            producer = graph.producer(entry["path"])
            if producer is None:
                deps.append(entry)
            elif not any(o["path"] == entry["path"] for o in outs) and producer not in stages:
                # read by a stage, made by one that has not run yet: still an output
                entry.update(role="out", source=f"dvc.yaml:{producer}")
                outs.append(entry)
    produced = {o["path"] for o in outs}
    return [*outs, *(d for d in deps if d["path"] not in produced)]


def from_config(root: Path, paths: tuple[str, ...]) -> list[dict[str, Any]]:
    """Data named in ledger.yaml that DVC does not track: hashed directly."""
    entries = []
    for relpath in paths:
        target = root / safe_relpath(relpath, root)
        if target.is_file():
            md5, size = md5_file(target)
            entries.append(
                {"path": relpath, "hash": md5, "size": size, "nfiles": 1,
                 "source": "ledger.yaml", "matches": True, "role": "data"}
            )  # fmt: skip
        else:
            entries.append(
                {"path": relpath, "hash": None, "size": None, "nfiles": None,
                 "source": "ledger.yaml", "matches": False, "role": "data"}
            )  # fmt: skip
    return entries


def check_workspace(root: Path, entries: list[dict[str, Any]]) -> None:
    """Set `matches` on DVC-declared entries: does the working tree hold that version?

    Data that differs (modified, missing, or with untracked files inside a tracked folder)
    is recorded as `matches: false` and flagged with a warning. If DVC cannot answer,
    `matches` stays unknown (null) and the run goes on.
    """
    declared = [e for e in entries if e["source"] != "ledger.yaml" and e["hash"]]
    if not declared or not dvcdata.is_dvc_repo(root):
        return
    try:
        hashes = dvcdata.workspace_hashes(root, [e["path"] for e in declared])
    except Exception as exc:  # noqa: BLE001 - capture must never break a run
        warnings.warn(f"could not check data against DVC: {exc}", LedgerWarning, stacklevel=2)
        return
    for entry in declared:
        entry["matches"] = hashes.get(entry["path"]) == entry["hash"]
    # Outputs are about to be remade, and a pipeline dependency tracked by git is code (the
    # code patch records it): only data is worth a warning.
    suspects = sorted({e["path"] for e in declared if not e["matches"] and e["role"] != "out"})
    in_git = set()
    if suspects:
        in_git = set(gitstore.ls_files(root, suspects))
    changed = [path for path in suspects if path not in in_git]
    if changed:
        warnings.warn(
            f"data differs from its DVC version: {', '.join(changed)} (recorded with "
            "matches: false; `dvc checkout` restores it, `dvc add` records the change)",
            LedgerWarning,
            stacklevel=2,
        )


def capture_data(root: Path, extra: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Every declared data version, each checked against the working tree: one entry per
    path and hash, the first declaration winning; a pipeline dependency tracked by a `.dvc`
    file is that file's data (what `dvc.lock` last saw of it is history, not an input)."""
    seen: set[tuple[str, str | None]] = set()
    tracked: set[str] = set()
    result = []
    for entry in [*from_dvc_files(root), *from_dvc_lock(root), *from_config(root, extra)]:
        key = (entry["path"], entry["hash"])
        if key in seen or (entry["role"] == "dep" and entry["path"] in tracked):
            continue
        seen.add(key)
        tracked.add(entry["path"])
        result.append(entry)
    check_workspace(root, result)
    return result
