"""Files a record names (artifacts, the code patch), served safely.

Only a path the record itself names is ever read, never one from the request; it must be a
relative path inside the repository (`safe_relpath`: no `..`, no absolute path, no `.git`,
no symlink leading out), it is read from the record's own revision (or the working tree for
an uncommitted run), and it is size-capped. Previews are data (text, rows, JSON), never
markup, so the browser shows them as text.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from ledger import gitstore
from ledger.core.workspace import Workspace, safe_relpath
from ledger.errors import LedgerError
from ledger.read.api import Item
from ledger.views.plot import data as plot_data

MAX_FILE = 8 * 1024 * 1024
MAX_PREVIEW = 64 * 1024
MAX_PATCH = 2 * 1024 * 1024
CSV_ROWS = 20
IMAGES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
          ".webp": "image/webp"}  # fmt: skip
TEXT = (".txt", ".log", ".md", ".py", ".yaml", ".yml", ".toml", ".cfg", ".ini", ".sh", ".patch", ".diff")
TABLES = {".csv": ",", ".tsv": "\t"}


class FileRefused(LedgerError):
    """A file the UI will not serve (not named by the record, outside the repo, too big)."""


def artifact(rec: dict[str, Any], name: str) -> dict[str, Any]:
    for art in rec.get("artifacts") or []:
        if isinstance(art, dict) and art.get("name") == name:
            return art
    raise FileRefused(f"run {rec.get('id')} has no artifact named {name!r}")


def kind(name: str) -> str:
    lower = name.lower()
    suffix = lower[lower.rfind(".") :] if "." in lower else ""
    if suffix in IMAGES:
        return "image"
    if suffix in TABLES:
        return "table"
    if suffix == ".json":
        return "json"
    if suffix in TEXT:
        return "text"
    return "binary"


def read(ws: Workspace, item: Item, relpath: Any, limit: int = MAX_FILE) -> bytes:
    """The bytes of a file the record names, from the record's revision or the working tree."""
    if not isinstance(relpath, str):
        raise FileRefused("the record names no such file")
    try:
        safe = safe_relpath(relpath, ws.root)
    except LedgerError as exc:
        raise FileRefused(str(exc)) from None
    data = plot_data.read_sidecar(ws, item.loaded(), safe, limit)
    if data is None:
        raise FileRefused(f"{safe} is not in git or the working tree, or is larger than {limit // 1024} KiB")
    return data


def artifact_bytes(ws: Workspace, item: Item, name: str) -> tuple[bytes, str]:
    """(bytes, content type) of a small artifact kept in git or the working tree."""
    art = artifact(item.record, name)
    if art.get("store") == "dvc":
        raise FileRefused(f"artifact {name!r} is in DVC's cache: `ledger artifact get {item.head['id']} {name}`")
    data = read(ws, item, art.get("path"))
    lower = name.lower()
    suffix = lower[lower.rfind(".") :] if "." in lower else ""
    return data, IMAGES.get(suffix, "application/octet-stream")


def preview(ws: Workspace, item: Item, name: str) -> dict[str, Any]:
    """A preview as data: {kind: image|text|json|table|binary|unavailable, ...}."""
    art = artifact(item.record, name)
    what = kind(name)
    base = {"name": name, "kind": what, "size": art.get("size"), "store": art.get("store")}
    if what in ("image", "binary"):
        return base
    try:
        data, _ = artifact_bytes(ws, item, name)
    except FileRefused as exc:
        return {**base, "kind": "unavailable", "reason": str(exc)}
    text = data[:MAX_PREVIEW].decode("utf-8", "replace")
    truncated = len(data) > MAX_PREVIEW
    if what == "json":
        try:
            text = json.dumps(json.loads(data.decode("utf-8")), indent=2, ensure_ascii=False)[:MAX_PREVIEW]
        except (ValueError, UnicodeDecodeError):
            what = "text"
    if what == "table":
        suffix = name.lower()[name.lower().rfind(".") :]
        rows = list(csv.reader(io.StringIO(text), delimiter=TABLES[suffix]))[: CSV_ROWS + 1]
        return {**base, "rows": rows, "truncated": truncated or len(rows) > CSV_ROWS}
    return {**base, "kind": what, "text": text, "truncated": truncated}


def patch(ws: Workspace, item: Item) -> str | None:
    """The run's uncommitted-code patch as text, or None when the code was clean."""
    code = item.record.get("code") or {}
    path = code.get("patch") if isinstance(code, dict) else None
    if not path:
        return None
    return read(ws, item, path, MAX_PATCH).decode("utf-8", "replace")


def code_diff(ws: Workspace, a: Item, b: Item) -> dict[str, Any]:
    """The code between two runs: their commits, the diff between the commits, each patch."""
    ca = (a.record.get("code") or {}).get("commit")
    cb = (b.record.get("code") or {}).get("commit")
    diff = None
    if isinstance(ca, str) and isinstance(cb, str) and ca != cb:
        found = gitstore.code_diff(ws.root, ca, cb, MAX_PATCH)
        diff = found.decode("utf-8", "replace") if found is not None else None
    out: dict[str, Any] = {"commits": [ca, cb], "same_commit": ca == cb, "diff": diff, "patches": []}
    for item in (a, b):
        try:
            out["patches"].append(patch(ws, item))
        except FileRefused as exc:
            out["patches"].append(f"(patch unavailable: {exc})")
    return out
