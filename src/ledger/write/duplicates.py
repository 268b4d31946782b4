"""Duplicate work: has a finished run with these params, this code and this data already
been recorded?

A run is the same work as an earlier one when all three agree:

- **command**: the same argv.
- **params**: every effective parameter of the new run (params file + overrides) has the
  same value in the earlier record. Values the earlier run logged on top (derived numbers,
  say) are ignored: the params file itself is part of the code, so it is already compared.
- **code**: the same `code.tree` (the code as it ran, ledger's own files left out, so
  ledger's record commits never make identical code look new). In a DVC pipeline, where
  `ledger run` writes the overrides into the params file before capturing the code, the
  new run's tree is computed with them written the same way. `ledger run` also wants the
  user's code committed now (clean): then the same tree means the earlier run ran
  exactly this commit's code, even if it was recorded as dirty (by those overrides).
- **data**: the same input data versions: the `.dvc`-tracked data and the data named in
  ledger.yaml (a pipeline's stage dependencies are code or intermediate results).
"""

from __future__ import annotations

import math
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ledger import gitstore
from ledger.core.redact import redact_file, redactor, scrub_all
from ledger.core.workspace import Workspace
from ledger.dvc import pipeline as dvcpipeline
from ledger.errors import DuplicateRun, LedgerError
from ledger.read.api import Loaded
from ledger.write import overrides as params_overrides
from ledger.write.capture.code import capture_code
from ledger.write.capture.data import from_config, from_dvc_files
from ledger.write.context import effective_params

_MISSING = object()


@dataclass(frozen=True)
class Identity:
    """What makes two runs the same work (see the module docstring)."""

    command: list[str]
    params: dict[str, Any]
    tree: str | None
    dirty: bool
    data: frozenset[tuple[str, str]]


def input_data(entries: Iterable[Any]) -> frozenset[tuple[str, str]]:
    """(path, hash) of the data a run started from: the `.dvc`-tracked data (and the data
    ledger.yaml names). A pipeline's dependencies in `dvc.lock` are either code (already in
    the code tree) or what earlier stages produced (results, which change with each run)."""
    return frozenset(
        (e["path"], str(e.get("hash")))
        for e in entries
        if isinstance(e, dict) and isinstance(e.get("path"), str) and e.get("role") == "data"
    )


def current_code(ws: Workspace) -> tuple[str | None, bool]:
    """(code tree, dirty) of the workspace as it is now."""
    code = capture_code(ws.root, ws.config.source_extensions, ws.config.secrets)
    return code.tree, code.dirty


def current_data(ws: Workspace) -> frozenset[tuple[str, str]]:
    """The data versions a run would start from (declared versions: no DVC needed)."""
    return input_data([*from_dvc_files(ws.root), *from_config(ws.root, ws.config.data)])


def identity(
    ws: Workspace,
    argv: list[str],
    overrides: list[str],
    *,
    code: tuple[str | None, bool] | None = None,
    data: frozenset[tuple[str, str]] | None = None,
) -> Identity:
    """The identity a new run with `overrides` would have; pass `code`/`data` to reuse a
    capture across many candidate runs (a sweep)."""
    tree, dirty = code if code is not None else current_code(ws)
    if tree is not None and overrides:
        tree = _tree_with_written_params(ws, tree, overrides)
    return Identity(
        command=scrub_all(argv, ws.root, ws.config.secrets),
        params=redactor(ws.config.secrets).value(effective_params(ws, overrides)),
        tree=tree,
        dirty=dirty,
        data=data if data is not None else current_data(ws),
    )


def _tree_with_written_params(ws: Workspace, tree: str, overrides: list[str]) -> str:
    """The code tree a DVC pipeline run will capture: its params file with the overrides
    written in, exactly as `ledger.write.overrides` writes them for the run."""
    pipeline = dvcpipeline.find(ws.root, None)
    if pipeline is None:
        return tree
    relpath = ws.config.params_file
    path = pipeline.root / relpath
    try:
        original = path.read_bytes() if path.is_file() else None
        current = dvcpipeline.read_structured(path, relpath) if original is not None else {}
        written = params_overrides.render(path, original, current or {}, overrides)
    except (LedgerError, OSError, TypeError, AttributeError):
        # Cannot tell what the run would write: the tree stays as it is, so nothing
        # matches and the run goes ahead (never a wrong refusal).
        return tree
    prefix = pipeline.root.relative_to(ws.root).as_posix() if pipeline.root != ws.root else ""
    written = redact_file(relpath, written, ws.config.secrets)  # as capture_code stages it
    return gitstore.tree_with(ws.root, tree, {posixpath.join(prefix, relpath): written})


def _leaves(value: Any, prefix: str = "") -> Iterable[tuple[str, Any]]:
    if isinstance(value, dict) and value:
        for key, child in value.items():
            yield from _leaves(child, f"{prefix}{key}.")
    else:
        yield prefix.rstrip("."), value


def _lookup(params: Any, dotted: str) -> Any:
    node = params
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


def params_match(wanted: dict[str, Any], recorded: Any) -> bool:
    """Every leaf of `wanted` has the same value in `recorded`."""
    if not isinstance(recorded, dict):
        return not wanted
    return all(_same(value, _lookup(recorded, path)) for path, value in _leaves(wanted) if path)


def same_work(ident: Identity, rec: dict[str, Any], *, clean_only: bool = True) -> bool:
    """True when `rec` is a finished run of exactly the work `ident` describes.

    `clean_only` (the default, what `ledger run` uses) also demands that the user's code
    is committed now; a sweep resuming its own points passes False, since the tree alone
    pins the code down and a sweep over uncommitted code must still resume.
    """
    if rec.get("status") != "finished":
        return False
    code = rec.get("code") or {}
    if ident.tree is None or code.get("tree") != ident.tree:
        return False
    if clean_only and ident.dirty:
        return False
    if (rec.get("command") or {}).get("argv") != ident.command:
        return False
    if input_data(rec.get("data") or []) != ident.data:
        return False
    return params_match(ident.params, rec.get("params"))


def find(ident: Identity, loaded: Iterable[Loaded], *, clean_only: bool = True) -> dict[str, Any] | None:
    """The newest finished record of the same work, or None."""
    matches = [item.record for item in loaded if same_work(ident, item.record, clean_only=clean_only)]
    if not matches:
        return None
    return max(matches, key=lambda r: (r.get("started_at") or "", r["id"]))


def describe(rec: dict[str, Any], metric: str | None) -> str:
    """`<id> (finished, auc=0.93)`: the earlier run and its primary result."""
    result = str(rec.get("status"))
    value = (rec.get("metrics") or {}).get(metric) if metric else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        result += f", {metric}={value:.6g}"
    return f"{rec['id']} ({result})"


def refuse_duplicate(ws: Workspace, argv: list[str], overrides: list[str], loaded: Iterable[Loaded]) -> None:
    """Raise DuplicateRun when the run `ledger run` is about to start was done already."""
    command = scrub_all(argv, ws.root, ws.config.secrets)
    candidates = [
        item for item in loaded
        if item.record.get("status") == "finished"
        and (item.record.get("command") or {}).get("argv") == command
    ]  # fmt: skip
    if not candidates:
        return  # the common case, decided without capturing the code state
    ident = identity(ws, argv, overrides)
    if ident.dirty:
        return  # uncommitted code: never called a duplicate (clean_only)
    earlier = find(ident, candidates)
    if earlier is not None:
        raise DuplicateRun(
            f"already done: run {describe(earlier, ws.config.primary_metric)} has the same "
            "params, code and data: look at it with `ledger show "
            f"{earlier['id']}`, or pass --force to run again",
            run_id=earlier["id"],
        )
