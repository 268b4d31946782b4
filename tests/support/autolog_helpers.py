"""Helpers shared by the autolog tests: reading back what a run recorded."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any

from ledger.core import schema, yamlio
from support.repo import records


def only_record(root: Path) -> dict[str, Any]:
    """The one record in the workspace, validated against the schema."""
    paths = records(root)
    assert len(paths) == 1, [p.name for p in paths]
    rec = yamlio.load_file(paths[0])
    schema.validate(rec, source=str(paths[0]))
    return rec


def all_records(root: Path) -> list[dict[str, Any]]:
    return [yamlio.load_file(p) for p in records(root)]


def artifact(root: Path, rec: dict[str, Any], name: str) -> tuple[dict[str, Any], Path]:
    """The record's entry for artifact `name` and the file, checked against its md5."""
    [entry] = [a for a in rec["artifacts"] if a["name"] == name]
    path = root / entry["path"]
    assert hashlib.md5(path.read_bytes()).hexdigest() == entry["hash"]
    assert entry["size"] == path.stat().st_size
    return entry, path


def plot_data(root: Path, rec: dict[str, Any], name: str) -> Any:
    entry, path = artifact(root, rec, name)
    assert entry["kind"] == "plot-data"
    return json.loads(path.read_text(encoding="utf-8"))


def series(root: Path, rec: dict[str, Any]) -> dict[str, list[tuple[int, float]]]:
    """The sidecar's per-step points, by metric, in file order."""
    points: dict[str, list[tuple[int, float]]] = {}
    with open(root / rec["series"]["path"], encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            points.setdefault(row["metric"], []).append((int(row["step"]), float(row["value"])))
    return points
