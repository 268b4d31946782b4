"""DVC pipelines as they are: what `dvc.yaml` declares, read straight from the files.

`ledger run -- dvc repro` (or any command in a repository with a `dvc.yaml`) needs no
change to the pipeline. Before the command, `-p key=value` overrides are written into the
params file, because pipeline stages read it themselves; afterwards the file is restored
byte for byte. After the command, the record gets what DVC already declares: params from
every params file, metrics from the `metrics:` files (JSON, YAML, TOML), dvclive's step
series from `<dir>/plots/metrics/**.tsv`, data and output hashes from `dvc.lock`, and the
artifacts of the `artifacts:` section.

Nothing here imports DVC (see `ledger.dvc.data`); the files are plain YAML/JSON/TOML/TSV.
"""

from __future__ import annotations

import json
import os
import posixpath
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger.core import yamlio
from ledger.core.digest import md5_file
from ledger.dvc.dag import stage_path
from ledger.dvc.stamps import Fresh, Stamp, any_file, changed_since, stamp_of
from ledger.errors import ConfigError, LedgerError, LedgerWarning, RecordError

__all__ = ["Outputs", "Pipeline", "collect", "find", "load", "snapshot"]

DVC_YAML = "dvc.yaml"
DEFAULT_PARAMS = "params.yaml"
MAX_FILE_BYTES = 16 * 1024 * 1024
DVCLIVE_STEP = "step"


@dataclass(frozen=True)
class Pipeline:
    """What one `dvc.yaml` declares, as repository-relative paths (sorted, unique)."""

    root: Path
    params_files: tuple[str, ...] = ()
    metrics_files: tuple[str, ...] = ()
    artifacts: dict[str, dict[str, Any]] = field(default_factory=dict)


def _params_files(spec: Any, base: str, root: Path) -> set[str]:
    """Files named by a `params:` list: a bare key means the default params.yaml."""
    files: set[str] = set()
    for item in spec if isinstance(spec, list) else []:
        if isinstance(item, str):
            # A bare key (`lr`, `train.epochs`) lives in the default params file; a bare
            # file name (top-level `params:` list) names the file itself.
            name = item if item.endswith((".yaml", ".yml", ".json", ".toml")) else DEFAULT_PARAMS
            path = stage_path(base, name, root)
        elif isinstance(item, dict):
            for name in item:
                path = stage_path(base, str(name), root)
                if path:
                    files.add(path)
            continue
        else:
            continue
        if path:
            files.add(path)
    return files


def _metric_paths(spec: Any, base: str, root: Path) -> set[str]:
    paths: set[str] = set()
    for item in spec if isinstance(spec, list) else []:
        names = [item] if isinstance(item, str) else list(item) if isinstance(item, dict) else []
        for name in names:
            path = stage_path(base, str(name), root)
            if path:
                paths.add(path)
    return paths


def load(root: Path) -> Pipeline | None:
    """The pipeline at the repository root, or None when there is no `dvc.yaml`."""
    path = root / DVC_YAML
    if not path.is_file():
        return None
    try:
        doc = yamlio.load_file(path, source=DVC_YAML)
    except RecordError as exc:
        raise ConfigError(f"{exc}: fix {DVC_YAML} and run again") from None
    if not isinstance(doc, dict):
        return Pipeline(root)
    params = _params_files(doc.get("params"), "", root)
    metrics = _metric_paths(doc.get("metrics"), "", root)
    stages = doc.get("stages")
    for stage in stages.values() if isinstance(stages, dict) else []:
        if not isinstance(stage, dict):
            continue
        wdir = stage.get("wdir") if isinstance(stage.get("wdir"), str) else ""
        base = stage_path("", wdir, root) if wdir and wdir != "." else ""
        if base is None:
            continue
        params |= _params_files(stage.get("params"), base, root)
        metrics |= _metric_paths(stage.get("metrics"), base, root)
    artifacts = {}
    declared = doc.get("artifacts")
    for name, spec in sorted(declared.items()) if isinstance(declared, dict) else []:
        if isinstance(spec, dict) and stage_path("", spec.get("path"), root):
            artifacts[str(name)] = spec
    return Pipeline(root, tuple(sorted(params)), tuple(sorted(metrics)), artifacts)


# ---------------------------------------------------------------------------- reading files


def read_structured(path: Path, relpath: str) -> Any:
    """A params or metrics file by its extension: YAML (default), JSON or TOML."""
    if path.stat().st_size > MAX_FILE_BYTES:
        raise RecordError(f"larger than {MAX_FILE_BYTES} bytes", path=relpath)
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            return json.loads(path.read_bytes())
        except ValueError as exc:
            raise RecordError(f"invalid JSON: {exc}", path=relpath) from None
    if suffix == ".toml":
        try:
            import tomllib
        except ImportError:  # Python 3.10
            raise RecordError("reading TOML needs Python 3.11 or later", path=relpath) from None
        try:
            return tomllib.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise RecordError(f"invalid TOML: {exc}", path=relpath) from None
    return yamlio.load_file(path, source=relpath, max_bytes=MAX_FILE_BYTES)


def params_key(relpath: str, default_file: str) -> str | None:
    """Where a params file's values go in the record: the default file at the top level,
    any other under its path without the extension (`configs/train.yaml` -> `configs/train`)."""
    if relpath == default_file:
        return None
    return posixpath.splitext(relpath)[0]


def read_params(pipeline: Pipeline, default_file: str) -> dict[str, Any]:
    """Every declared params file (plus the default one), nested as `params_key` says."""
    result: dict[str, Any] = {}
    for relpath in sorted({*pipeline.params_files, default_file}):
        path = pipeline.root / relpath
        if not path.is_file():
            continue
        data = read_structured(path, relpath)
        if not isinstance(data, dict):
            continue
        key = params_key(relpath, default_file)
        if key is None:
            result.update(data)
        else:
            result[key] = data
    return result


def flatten_metrics(data: Any, prefix: str = "") -> dict[str, float]:
    """Numeric leaves of a metrics document as `a/b` names (dvclive's naming)."""
    found: dict[str, float] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            name = f"{prefix}{key}"
            if isinstance(value, dict):
                found.update(flatten_metrics(value, name + "/"))
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                if name and len(name) <= 200 and not any(c.isspace() for c in name):
                    found[name] = float(value)
                else:  # the record's rule: one word; say so rather than drop it silently
                    shown = name if len(name) <= 60 else name[:57] + "..."
                    hint = "_".join(shown.split())
                    message = f"metric {shown!r} left out: metric names are one word (write {hint!r})"
                    warnings.warn(message, LedgerWarning, stacklevel=2)
    return found


def _output_files(pipeline: Pipeline) -> list[Path]:
    files = [pipeline.root / relpath for relpath in pipeline.metrics_files]
    for directory in dvclive_dirs(pipeline):
        files.extend(sorted((directory / "plots" / "metrics").rglob("*.tsv")))
    return [path for path in files if path.is_file()]


def snapshot(pipeline: Pipeline) -> dict[Path, Stamp]:
    """The metrics and series files as they are before a run (mtime, size, content hash)."""
    stamps = {}
    for path in _output_files(pipeline):
        stamp = stamp_of(path)
        if stamp is not None:
            stamps[path] = stamp
    return stamps


def read_metrics(pipeline: Pipeline, fresh: Fresh = any_file) -> dict[str, float]:
    """Final metric values from every declared metrics file that passes `fresh` (default:
    every one there is); a later file wins a clash."""
    metrics: dict[str, float] = {}
    for relpath in pipeline.metrics_files:
        path = pipeline.root / relpath
        if not fresh(path):
            continue
        values = flatten_metrics(read_structured(path, relpath))
        if _is_dvclive_dir(path.parent):
            values.pop(DVCLIVE_STEP, None)  # dvclive's step counter, not a metric
        metrics.update(values)
    return metrics


def _is_dvclive_dir(directory: Path) -> bool:
    return (directory / "plots" / "metrics").is_dir()


def dvclive_dirs(pipeline: Pipeline) -> list[Path]:
    """dvclive output folders: the parents of declared metrics files, and `dvclive/`."""
    candidates = {(pipeline.root / p).parent for p in pipeline.metrics_files}
    candidates.add(pipeline.root / "dvclive")
    return sorted(d for d in candidates if _is_dvclive_dir(d))


def read_series(directory: Path, fresh: Fresh = any_file) -> dict[str, list[tuple[int, float]]]:
    """dvclive's step series: `plots/metrics/<name>.tsv` with `timestamp step <name>`."""
    base = directory / "plots" / "metrics"
    series: dict[str, list[tuple[int, float]]] = {}
    for path in sorted(p for p in base.rglob("*.tsv") if fresh(p)):
        name = path.relative_to(base).with_suffix("").as_posix()
        if any(c.isspace() for c in name) or len(name) > 200:
            continue
        points = _tsv_points(path)
        if points:
            series[name] = points
    return series


def _tsv_points(path: Path) -> list[tuple[int, float]]:
    if path.stat().st_size > MAX_FILE_BYTES:
        return []
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    if not lines:
        return []
    header = lines[0].split("\t")
    if DVCLIVE_STEP not in header or len(header) < 2:
        return []
    step_col = header.index(DVCLIVE_STEP)
    value_col = len(header) - 1 if header[-1] != DVCLIVE_STEP else 0
    points = []
    for line in lines[1:]:
        cells = line.split("\t")
        if len(cells) != len(header):
            continue
        try:
            points.append((int(float(cells[step_col])), float(cells[value_col])))
        except ValueError:
            continue
    return points


def artifact_entries(pipeline: Pipeline, data: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`artifacts:` of dvc.yaml as record artifacts, hashed as DVC does (dvc.lock first)."""
    locked = {d["path"]: d for d in data if d.get("hash")}
    entries = []
    for name, spec in pipeline.artifacts.items():
        relpath = stage_path("", spec.get("path"), pipeline.root)
        if relpath is None:
            continue
        known = locked.get(relpath)
        if known:
            md5, size, store = str(known["hash"]), known.get("size"), "dvc"
        elif (pipeline.root / relpath).is_file():
            md5, size = md5_file(pipeline.root / relpath)
            store = "workspace"
        else:
            continue  # not produced: nothing to point at
        kind = str(spec["type"]) if isinstance(spec.get("type"), str) else "artifact"
        entries.append({"name": name[:200], "path": relpath, "hash": md5, "size": size,
                        "kind": kind[:50], "store": store})  # fmt: skip
    return entries


@dataclass
class Outputs:
    """What a pipeline left behind, ready to go into the run's record."""

    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    series: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    data: list[dict[str, Any]] = field(default_factory=list)
    artifacts: list[dict[str, Any]] = field(default_factory=list)


def collect(pipeline: Pipeline, default_params: str, data: list[dict[str, Any]], fresh: Fresh = any_file) -> Outputs:
    """Read everything the pipeline declares, after it ran; metrics and series only from
    the files that pass `fresh`. `data` is the data state after the run (the write path
    captures it), which the declared artifacts are hashed against."""
    out = Outputs()
    out.params = read_params(pipeline, default_params)
    out.metrics = read_metrics(pipeline, fresh)
    for directory in dvclive_dirs(pipeline):
        out.series.update(read_series(directory, fresh))
    out.data = data
    out.artifacts = artifact_entries(pipeline, out.data)
    return out


# ---------------------------------------------------------------------------- into a run


def find(ws_root: Path, cwd: str | os.PathLike[str] | None) -> Pipeline | None:
    """The pipeline the command will run: in the repository that holds `cwd` (a sweep's
    temporary worktree, say), else in the workspace itself."""
    from ledger.core.workspace import find_root

    root = find_root(Path(cwd)) if cwd is not None else ws_root
    try:
        return load(root)
    except LedgerError as exc:
        warnings.warn(f"{exc}; the run is recorded without it", LedgerWarning, stacklevel=2)
        return None


def is_dvc_command(argv: list[str]) -> bool:
    """`dvc ...` or `python -m dvc ...`."""
    if not argv:
        return False
    if os.path.basename(argv[0]) == "dvc":
        return True
    return len(argv) > 2 and os.path.basename(argv[0]).startswith("python") and argv[1:3] == ["-m", "dvc"]


def fresh_outputs(argv: list[str], *, finished: bool, before: dict[Path, Stamp] | None, started: float) -> Fresh:
    """Which declared metrics files the run made, so only those count.

    A file written during the run (another mtime or content than `before`; without a
    snapshot, modified since `started`). One exception: a `dvc` command (`dvc repro`,
    `dvc exp run`) that *finished* answers for every declared metrics file, including those
    of stages DVC skipped as up to date (`dvc.lock` ties them to the current params, code and
    data). A failed or killed run never carries the numbers an earlier run left behind.
    """
    if finished and is_dvc_command(argv):
        return any_file
    if before is not None:
        return changed_since(before)
    since = started - 1.0
    return lambda path: path.is_file() and path.stat().st_mtime >= since
