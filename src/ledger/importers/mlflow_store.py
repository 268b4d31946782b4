"""Reading an MLflow tracking store directly: a file store (`mlruns/`) or a SQLite database.

MLflow itself is never imported: the file store is YAML and plain files, the database is
read through `sqlite3`, read-only. Both give the same `MlflowRun` values.
"""

from __future__ import annotations

import os
import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse
from urllib.request import pathname2url

from ledger.core import yamlio
from ledger.errors import LedgerError, RecordError

# MLflow's RunStatus numbers, as the file store writes them.
_STATUS_NUMBERS = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
_SQLITE_MAGIC = b"SQLite format 3\x00"
MAX_VALUE_BYTES = 1024 * 1024


@dataclass
class MlflowRun:
    """One MLflow run as stored; metric points are (key, value, timestamp_ms, step)."""

    run_uuid: str
    name: str | None
    experiment_id: str
    experiment: str
    status: str
    start_ms: int | None
    end_ms: int | None
    user: str | None
    lifecycle: str
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    points: list[tuple[str, float, int, int]] = field(default_factory=list)


@dataclass(frozen=True)
class Store:
    kind: str  # "sqlite" or "file"
    path: Path

    @property
    def label(self) -> str:
        return f"{self.kind} store {self.path.name}"


def locate(path_or_uri: str, cwd: Path) -> Store:
    """Where the store is: `sqlite:///mlflow.db`, `file:///.../mlruns`, or a plain path."""
    parsed = urlparse(path_or_uri)
    if parsed.scheme == "sqlite":
        # sqlite:///relative.db and sqlite:////absolute.db, as MLflow writes them
        raw = unquote(path_or_uri[len("sqlite:///") :]) if path_or_uri.startswith("sqlite:///") else ""
        if not raw:
            raise LedgerError(f"bad SQLite URI {path_or_uri!r}: write sqlite:///path/to/mlflow.db")
        path = cwd / raw
        if not path.is_file():
            raise LedgerError(f"no MLflow database at {raw}: check the path in {path_or_uri}")
        return Store("sqlite", path)
    if parsed.scheme == "file":
        path = cwd / unquote(parsed.path)
    elif parsed.scheme and len(parsed.scheme) > 1:
        raise LedgerError(
            f"cannot import from {parsed.scheme}:// stores: give an MLflow file store "
            "directory (mlruns/) or a SQLite database (sqlite:///mlflow.db)"
        )
    else:
        path = cwd / path_or_uri
    if path.is_file():
        with open(path, "rb") as fh:
            if fh.read(len(_SQLITE_MAGIC)) == _SQLITE_MAGIC:
                return Store("sqlite", path)
        raise LedgerError(f"{path_or_uri} is neither an MLflow file store nor a SQLite database")
    if path.is_dir():
        return Store("file", path)
    raise LedgerError(f"no MLflow store at {path_or_uri}: give the mlruns/ folder or mlflow.db")


def read_runs(store: Store) -> list[MlflowRun]:
    """Every run in the store, in a stable order (start time, then id)."""
    runs = list(_sqlite_runs(store.path) if store.kind == "sqlite" else _file_runs(store.path))
    return sorted(runs, key=lambda r: (r.start_ms or 0, r.run_uuid))


# ---------------------------------------------------------------------------- SQLite


def _sqlite_runs(path: Path) -> Iterator[MlflowRun]:
    uri = f"file:{pathname2url(str(path.resolve()))}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        raise LedgerError(f"cannot open {path.name}: {exc}") from None
    try:
        yield from _sqlite_query(conn, path)
    except sqlite3.DatabaseError as exc:
        raise LedgerError(f"{path.name} is not an MLflow tracking database ({exc}): check the path") from None
    finally:
        conn.close()


def _sqlite_query(conn: sqlite3.Connection, path: Path) -> Iterator[MlflowRun]:
    experiments = dict(conn.execute("SELECT experiment_id, name FROM experiments"))
    params: dict[str, dict[str, str]] = defaultdict(dict)
    for run_uuid, key, value in conn.execute("SELECT run_uuid, key, value FROM params"):
        params[run_uuid][str(key)] = "" if value is None else str(value)
    tags: dict[str, dict[str, str]] = defaultdict(dict)
    for run_uuid, key, value in conn.execute("SELECT run_uuid, key, value FROM tags"):
        tags[run_uuid][str(key)] = "" if value is None else str(value)
    points: dict[str, list[tuple[str, float, int, int]]] = defaultdict(list)
    query = "SELECT run_uuid, key, value, timestamp, step, is_nan FROM metrics"
    for run_uuid, key, value, ts, step, is_nan in conn.execute(query):
        number = float("nan") if is_nan else float(value)
        points[run_uuid].append((str(key), number, int(ts or 0), int(step or 0)))
    query = ("SELECT run_uuid, name, status, start_time, end_time, user_id, lifecycle_stage, "
             "experiment_id FROM runs")  # fmt: skip
    for run_uuid, name, status, start, end, user, lifecycle, exp_id in conn.execute(query):
        yield MlflowRun(
            run_uuid=str(run_uuid), name=name, experiment_id=str(exp_id),
            experiment=str(experiments.get(exp_id, exp_id)), status=str(status),
            start_ms=start, end_ms=end, user=user, lifecycle=str(lifecycle or "active"),
            params=params.get(run_uuid, {}), tags=tags.get(run_uuid, {}),
            points=points.get(run_uuid, []),
        )  # fmt: skip


# ---------------------------------------------------------------------------- file store


def _meta(path: Path) -> dict[str, object]:
    try:
        data = yamlio.load_file(path, source=path.name)
    except (RecordError, OSError):
        return {}
    return data if isinstance(data, dict) else {}


def _file_runs(root: Path) -> Iterator[MlflowRun]:
    experiments = sorted(d for d in root.iterdir() if d.is_dir() and not d.is_symlink() and (d / "meta.yaml").is_file())
    if not experiments and not (root / "meta.yaml").is_file():
        raise LedgerError(f"{root.name} is not an MLflow file store (no experiment folders)")
    for exp_dir in experiments:
        exp_meta = _meta(exp_dir / "meta.yaml")
        exp_name = str(exp_meta.get("name") or exp_dir.name)
        for run_dir in sorted(d for d in exp_dir.iterdir() if d.is_dir() and not d.is_symlink()):
            meta = _meta(run_dir / "meta.yaml")
            if not meta:
                continue
            yield _file_run(run_dir, meta, exp_dir.name, exp_name)


def _file_run(run_dir: Path, meta: dict[str, object], exp_id: str, exp_name: str) -> MlflowRun:
    status = meta.get("status")
    points = []
    for key, text in _key_files(run_dir / "metrics"):
        for line in text.splitlines():
            parts = line.split()
            if len(parts) >= 2:
                try:
                    step = int(parts[2]) if len(parts) > 2 else 0
                    points.append((key, float(parts[1]), int(parts[0]), step))
                except ValueError:
                    continue
    start, end = meta.get("start_time"), meta.get("end_time")
    return MlflowRun(
        run_uuid=str(meta.get("run_id") or meta.get("run_uuid") or run_dir.name),
        name=str(meta["run_name"]) if meta.get("run_name") else None,
        experiment_id=exp_id, experiment=exp_name,
        status=_STATUS_NUMBERS.get(status, str(status)) if isinstance(status, int) else str(status),
        start_ms=start if isinstance(start, int) else None,
        end_ms=end if isinstance(end, int) else None,
        user=str(meta["user_id"]) if meta.get("user_id") else None,
        lifecycle=str(meta.get("lifecycle_stage") or "active"),
        params=dict(_key_files(run_dir / "params")),
        tags=dict(_key_files(run_dir / "tags")),
        points=points,
    )  # fmt: skip


def _key_files(base: Path) -> list[tuple[str, str]]:
    """(key, content) of every file under `base`; keys with `/` are nested folders."""
    if not base.is_dir():
        return []
    found = []
    for dirpath, dirnames, filenames in os.walk(base):  # os.walk never follows symlinks
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.is_symlink() or path.stat().st_size > MAX_VALUE_BYTES:
                continue
            key = path.relative_to(base).as_posix()
            found.append((key, path.read_text(encoding="utf-8", errors="replace")))
        dirnames.sort()
    return sorted(found)
