"""`ledger:` URIs: the tracking URI names a repository, an artifact URI a run's artifacts.

- `ledger:` the repository of the current folder; `ledger:///path/to/repo` (or
  `ledger:relative/path`) another one.
- artifacts: `ledger:///<repository>/experiments/<YYYY-MM>/<run id>/artifacts[/<path>]`,
  the place the run's small artifacts have in its sidecar.
"""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path

from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

from ledger.core import record
from ledger.core.workspace import Workspace
from ledger.errors import LedgerError

SCHEME = "ledger"
_ARTIFACTS = re.compile(
    rf"^(?P<root>.*)/{record.RECORDS_DIR}/\d{{4}}-\d{{2}}/(?P<run>[^/]+)/artifacts(?:/(?P<sub>.*))?$"
)


def workspace_for(store_uri: str | None) -> Workspace:
    """The repository a `ledger:` tracking URI names."""
    parsed = urllib.parse.urlparse(store_uri or f"{SCHEME}:")
    if parsed.scheme != SCHEME:
        raise MlflowException(
            f"not a ledger URI: {store_uri!r} (use `ledger:` or `ledger:///path/to/repo`)", INVALID_PARAMETER_VALUE
        )
    if parsed.netloc not in ("", "localhost"):
        raise MlflowException(
            f"{store_uri!r} names a host: a ledger is a local git repository; use `ledger:///path/to/repo`",
            INVALID_PARAMETER_VALUE,
        )
    path = urllib.parse.unquote(parsed.path)
    try:
        return Workspace.find(Path(path) if path else None)
    except LedgerError as exc:
        raise MlflowException(f"{store_uri}: {exc}", INVALID_PARAMETER_VALUE) from None


def store_uri(ws: Workspace) -> str:
    return f"{SCHEME}://{ws.root.as_posix()}" if ws.root.as_posix().startswith("/") else f"{SCHEME}:{ws.root}"


def artifact_uri(ws: Workspace, run_id: str, sub: str = "") -> str:
    base = f"{store_uri(ws)}/{record.sidecar_dir(run_id)}/artifacts"
    return f"{base}/{sub.strip('/')}" if sub.strip("/") else base


def parse_artifact_uri(uri: str) -> tuple[Workspace, str, str]:
    """(repository, run id, path inside the run's artifacts) of an artifact URI."""
    parsed = urllib.parse.urlparse(uri)
    match = _ARTIFACTS.match(urllib.parse.unquote(parsed.path).rstrip("/"))
    if parsed.scheme != SCHEME or match is None or not record.is_run_id(match["run"]):
        raise MlflowException(f"not a ledger artifact URI: {uri!r}", INVALID_PARAMETER_VALUE)
    return Workspace(Path(match["root"])), match["run"], (match["sub"] or "").strip("/")
