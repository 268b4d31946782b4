"""What the report says was tried: the parameters that varied between runs, the story of
runs and sweeps in order, and the data the runs read (inputs, not outputs or code)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from ledger.core.fields import flatten

MAX_VARIED = 8
# Files that are code, not data: their versions are in the code commit, not under "Data".
CODE_SUFFIXES = (".py", ".ipynb", ".r", ".sh", ".jl", ".scala", ".java", ".js", ".ts", ".sql", ".m", ".cpp", ".c")


def params_of(rec: dict[str, Any] | None) -> dict[str, Any]:
    """A run's parameters as dotted paths."""
    return flatten((rec or {}).get("params") or {})


def varied_params(records: list[dict[str, Any]]) -> list[str]:
    """The parameters whose values differ between the runs (what was tried), the most
    widely set first, at most MAX_VARIED."""
    values: dict[str, set[str]] = {}
    present: Counter[str] = Counter()
    for r in records:
        for key, value in params_of(r).items():
            values.setdefault(key, set()).add(json.dumps(value, sort_keys=True, default=str))
            present[key] += 1
    varied = [k for k, seen in values.items() if len(seen) > 1 or 0 < present[k] < len(records)]
    return sorted(varied, key=lambda k: (-present[k], -len(values[k]), k))[:MAX_VARIED]


def short_names(paths: list[str]) -> list[str]:
    """Dotted paths by their last part (`learning_rate`), whole where two last parts clash."""
    leaves = [p.rsplit(".", 1)[-1] for p in paths]
    return [leaf if leaves.count(leaf) == 1 else p for p, leaf in zip(paths, leaves, strict=True)]


def param_text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    return value if isinstance(value, str) else json.dumps(value, default=str)


def story(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """ "What was tried", oldest first: one entry per sweep (its description once, then its
    points) and per other run that has a description or notes."""
    entries: list[dict[str, Any]] = []
    by_sweep: dict[str, dict[str, Any]] = {}
    for r in records:
        sweep = str((r.get("tags") or {}).get("sweep") or "")
        if sweep and sweep in by_sweep:
            by_sweep[sweep]["runs"].append(r)
            continue
        entry = {"description": r.get("description"), "runs": [r], "sweep": sweep}
        if sweep:
            by_sweep[sweep] = entry
        entries.append(entry)
    for entry in entries:
        runs = entry["runs"]
        entry["notes"] = [(r, r.get("notes")) for r in runs if r.get("notes")]
        if len(runs) > 1:  # a sweep: what varied between its points, and how they ended
            entry["varied"] = varied_params(runs)
            entry["counts"] = dict(sorted(Counter(str(r.get("status")) for r in runs).items()))
    return [e for e in entries if e["description"] or e["notes"]]


def _is_code(path: str) -> bool:
    return path.lower().endswith(CODE_SUFFIXES)


def data_versions(records: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The data the runs read (DVC-tracked data and pipeline inputs, one row per version),
    and how many pipeline outputs and code files were left out (code is versioned by the
    commit; outputs are results, with their hashes in each record)."""
    outputs = {str(d.get("path")) for r in records for d in r.get("data") or [] if d.get("role") == "out"}
    artifacts = [a for r in records for a in r.get("artifacts") or [] if isinstance(a, dict)]
    outputs |= {str(a.get("path")) for a in artifacts}
    made = {str(a.get("hash")) for a in artifacts if a.get("hash")}  # e.g. a model the runs logged
    found: dict[tuple[str, str], dict[str, Any]] = {}
    left_out: dict[str, set[str]] = {"outputs": set(), "code": set()}
    for r in records:
        for d in r.get("data") or []:
            path = str(d.get("path"))
            if _is_code(path):
                left_out["code"].add(path)
                continue
            if path in outputs or d.get("role") == "out" or str(d.get("hash")) in made:
                left_out["outputs"].add(path)
                continue
            key = (path, str(d.get("hash")))
            entry = found.setdefault(
                key,
                {
                    "path": key[0],
                    "hash": d.get("hash"),
                    "size": d.get("size"),
                    "source": d.get("source"),
                    "runs": 0,
                    "first": r.get("started_at"),
                },
            )
            entry["runs"] += 1
    rows = sorted(found.values(), key=lambda e: (e["path"], str(e["first"])))
    return rows, {kind: len(paths) for kind, paths in left_out.items() if paths}
