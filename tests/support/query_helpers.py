"""Records for the read-path tests, written the way ledger writes them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ledger.core import record, yamlio
from support.repo import git


def rid(n: int, slug: str = "run") -> str:
    """A valid run id whose time part orders like n."""
    return f"20261127-{n // 3600 % 24:02d}{n // 60 % 60:02d}{n % 60:02d}-{slug}-{n + 0xABC000:06x}"


def make(n: int, *, slug: str = "run", auc: Any = 0.5, **fields: Any) -> dict[str, Any]:
    run_id = fields.pop("id", None) or rid(n, slug)
    rec: dict[str, Any] = {
        "id": run_id, "name": fields.pop("name", f"{slug}-{n}"), "experiment": "tests",
        "status": fields.pop("status", "finished"), "baseline": False,
        "started_at": fields.pop("started_at", f"2026-11-27T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}.000Z"),
        "ended_at": None, "duration_s": 1.0,
        "params": fields.pop("params", {"lr": 0.1, "model": {"type": "xgb", "depth": 3}}),
        "metrics": fields.pop("metrics", {"auc": auc}),
    }  # fmt: skip
    rec.update(fields)
    return record.canonical(rec)


def write(root: Path, *recs: dict[str, Any], path: str | None = None) -> list[str]:
    paths = []
    for rec in recs:
        rel = path or record.record_path(rec["id"])
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(yamlio.dumps(rec), encoding="utf-8")
        paths.append(rel)
    return paths


def commit(root: Path, *recs: dict[str, Any], message: str = "runs") -> str:
    write(root, *recs)
    git(root, "add", "-A", "experiments")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")


def raw_commit(root: Path, files: dict[str, bytes], message: str = "raw") -> str:
    for rel, data in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    git(root, "add", "-A", "experiments")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")
