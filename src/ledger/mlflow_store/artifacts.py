"""`LedgerArtifactRepository`: MLflow's artifact calls on a run's ledger artifacts.

`log_artifact`/`log_model` files become the run's ledger artifacts (small ones beside the
record in git, large ones in DVC's cache), through `tracking.Run.log_artifact`. A ledger
artifact has a plain file name, so MLflow's folders are kept in it with `__`
(`plots/loss.png` is the artifact `plots__loss.png`) and given back as folders when
MLflow lists or downloads them. Files of a logged model have the kind `model`.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path
from typing import Any

from mlflow.entities import FileInfo
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import RESOURCE_DOES_NOT_EXIST
from mlflow.store.artifact.artifact_repo import ArtifactRepository

from ledger.errors import LedgerError
from ledger.mlflow.artifacts import artifact_name
from ledger.mlflow_store import live, models
from ledger.mlflow_store.unsupported import Unsupported
from ledger.mlflow_store.uri import parse_artifact_uri
from ledger.write.artifacts import copy_entry

SEPARATOR = "__"


def mlflow_path(name: str) -> str:
    return name.replace(SEPARATOR, "/")


class LedgerArtifactRepository(ArtifactRepository):
    """Artifacts of one ledger run (or of a folder inside it, such as a logged model)."""

    def __init__(self, artifact_uri: str, tracking_uri: str | None = None, registry_uri: str | None = None) -> None:
        super().__init__(artifact_uri, tracking_uri, registry_uri)
        self.ws, self.run_id, self.base = parse_artifact_uri(artifact_uri)

    def _full(self, *parts: str | None) -> str:
        return posixpath.normpath(posixpath.join(self.base, *[p.strip("/") for p in parts if p])).lstrip("./")

    def log_artifact(self, local_file: str, artifact_path: str | None = None) -> None:
        opened = live.writable(self.run_id)
        path = self._full(artifact_path, os.path.basename(local_file))
        kind = "model" if path.split("/", 1)[0] in opened.model_dirs else "artifact"
        try:
            entry = opened.run.log_artifact(local_file, kind=kind, name=artifact_name(path))
        except LedgerError as exc:
            raise MlflowException.invalid_parameter_value(f"log_artifact {path}: {exc}") from None
        opened.artifacts[path] = entry

    def log_artifacts(self, local_dir: str, artifact_path: str | None = None) -> None:
        base = Path(local_dir)
        for file in sorted(p for p in base.rglob("*") if p.is_file()):
            rel = file.parent.relative_to(base).as_posix()
            sub = posixpath.join(artifact_path or "", "" if rel == "." else rel)
            self.log_artifact(str(file), sub or None)

    def _entries(self) -> tuple[Any, dict[str, dict[str, Any]], set[str]]:
        """(read-path item or None, MLflow path -> artifact entry, logged-model folders)."""
        opened = live.get(self.run_id)
        if opened is not None and opened.record is None:
            return None, dict(opened.artifacts), set(opened.model_dirs)
        from ledger.mlflow_store.store import LedgerStore

        if opened is not None:
            rec, item = opened.record or {}, None
        else:
            item = LedgerStore.find_item(self.ws, self.run_id)
            rec = item.record
        found = {mlflow_path(str(a["name"])): a for a in rec.get("artifacts") or []}
        return (item.loaded() if item is not None else None), found, models.model_dirs(rec)

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        _, found, model_dirs = self._entries()
        prefix = self._full(path)
        listed: dict[str, FileInfo] = {}
        for full, entry in found.items():
            if prefix and not full.startswith(prefix + "/"):
                continue
            if not self.base and full.split("/", 1)[0] in model_dirs:
                continue  # a logged model's files: MLflow lists them through the model, as in MLflow 3
            rest = full[len(prefix) + 1 :] if prefix else full
            head, _, tail = rest.partition("/")
            rel = (
                posixpath.relpath(posixpath.join(prefix, head), self.base)
                if self.base
                else posixpath.join(prefix, head)
            )
            if tail:
                listed.setdefault(rel, FileInfo(rel, True, None))
            else:
                listed[rel] = FileInfo(rel, False, int(entry.get("size") or 0))
        return [listed[k] for k in sorted(listed)]

    def _download_file(self, remote_file_path: str, local_path: str) -> None:
        item, found, _ = self._entries()
        full = self._full(remote_file_path)
        entry = found.get(full)
        if entry is None:
            raise MlflowException(f"run {self.run_id} has no artifact {full}", RESOURCE_DOES_NOT_EXIST)
        try:
            copy_entry(self.ws, item, entry, Path(local_path))
        except LedgerError as exc:
            raise MlflowException(str(exc)) from None

    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        raise Unsupported("delete_artifacts")
