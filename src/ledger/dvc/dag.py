"""Which paths a DVC pipeline produces, and which stage produces each: the DAG as the
files (`dvc.yaml`, `dvc.lock`) declare it, read without importing DVC.

A path some stage writes (its `outs:`, `metrics:` or `plots:`) is an output of the pipeline;
a dependency no stage writes is a true input (raw data, code, params). Lineage roles and
`ledger reproduce` follow this, never the alphabetical order of stages.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger.core import yamlio
from ledger.core.workspace import safe_relpath
from ledger.errors import LedgerError, RecordError

DVC_YAML = "dvc.yaml"
DVC_LOCK = "dvc.lock"
OUT_SECTIONS = ("outs", "metrics", "plots")


@dataclass(frozen=True)
class Dag:
    """Outputs of one pipeline, as repository-relative paths."""

    producers: dict[str, str] = field(default_factory=dict)  # output path -> stage name
    frozen: frozenset[str] = frozenset()  # stages `dvc repro` never runs
    uncached: frozenset[str] = frozenset()  # outputs DVC keeps out of its cache (`cache: false`)
    data_outs: frozenset[str] = frozenset()  # outputs under `outs:` (not metrics or plots)

    def producer(self, path: str) -> str | None:
        """The stage that writes `path` (or a folder holding it), None for a true input."""
        probe = path
        while probe:
            if probe in self.producers:
                return self.producers[probe]
            probe = posixpath.dirname(probe)
        return None


def stage_path(base: str, path: Any, root: Path) -> str | None:
    """A path from dvc.yaml (relative to a stage's `wdir`) made repository-relative; None
    for templates and unsafe paths."""
    if not isinstance(path, str) or not path or "${" in path:
        return None
    joined = posixpath.normpath(posixpath.join(base, path)) if base else posixpath.normpath(path)
    try:
        return safe_relpath(joined, root)
    except LedgerError:
        return None


def _load(root: Path, name: str) -> dict[str, Any]:
    path = root / name
    if not path.is_file():
        return {}
    try:
        doc = yamlio.load_file(path, source=name)
    except (RecordError, OSError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _items(spec: Any) -> list[tuple[str, dict[str, Any]]]:
    """`outs:` style lists: `path` or `{path: {options}}`."""
    found: list[tuple[str, dict[str, Any]]] = []
    for item in spec if isinstance(spec, list) else []:
        if isinstance(item, str):
            found.append((item, {}))
        elif isinstance(item, dict):
            for name, options in item.items():
                found.append((str(name), options if isinstance(options, dict) else {}))
    return found


def stage_bases(root: Path) -> dict[str, str]:
    """Each stage's working directory (repository-relative, "" for the root) from dvc.yaml."""
    stages = _load(root, DVC_YAML).get("stages")
    bases = {}
    for name, stage in stages.items() if isinstance(stages, dict) else []:
        wdir = stage.get("wdir") if isinstance(stage, dict) else None
        base = stage_path("", wdir, root) if isinstance(wdir, str) and wdir not in ("", ".") else ""
        if base is not None:
            bases[str(name)] = "" if base == "." else base
    return bases


def read(root: Path) -> Dag:
    """The outputs `dvc.yaml` declares, plus those of `dvc.lock` (which names the resolved
    stages of `foreach`/`matrix` templates that `dvc.yaml` only describes)."""
    producers: dict[str, str] = {}
    frozen: set[str] = set()
    uncached: set[str] = set()
    data_outs: set[str] = set()
    bases = stage_bases(root)
    stages = _load(root, DVC_YAML).get("stages")
    for name, stage in stages.items() if isinstance(stages, dict) else []:
        if not isinstance(stage, dict) or str(name) not in bases:
            continue
        base = bases[str(name)]
        if stage.get("frozen") is True:
            frozen.add(str(name))
        for section in OUT_SECTIONS:
            for path, options in _items(stage.get(section)):
                relpath = stage_path(base, path, root)
                if relpath is None:
                    continue
                producers.setdefault(relpath, str(name))
                if options.get("cache") is False:
                    uncached.add(relpath)
                if section == "outs":
                    data_outs.add(relpath)
    locked = _load(root, DVC_LOCK).get("stages")
    for name, stage in sorted(locked.items()) if isinstance(locked, dict) else []:
        if not isinstance(stage, dict):
            continue
        base = bases.get(str(name).split("@")[0], "")
        for out in stage.get("outs") or []:
            relpath = stage_path(base, out.get("path") if isinstance(out, dict) else None, root)
            if relpath is not None:
                producers.setdefault(relpath, str(name))
    return Dag(producers, frozenset(frozen), frozenset(uncached), frozenset(data_outs))
