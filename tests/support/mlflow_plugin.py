"""The MLflow plugin as MLflow finds it: entry points in package metadata.

The test environment's ledger may be installed from another checkout, so the tests put a
small distribution on the path whose `entry_points.txt` is generated from this checkout's
pyproject.toml (the same declarations `pip install ledger-ml[mlflow]` installs).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import tomllib

from support.repo import ROOT

GROUPS = ("mlflow.tracking_store", "mlflow.artifact_repository", "mlflow.model_registry_store")


def declared_entry_points() -> dict[str, dict[str, str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {group: dict(project["entry-points"][group]) for group in GROUPS}


def plugin_site(directory: Path) -> Path:
    """A folder holding a distribution that declares the plugin's entry points."""
    info = directory / "ledger_ml_plugin_under_test-0.0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ledger-ml-plugin-under-test\nVersion: 0.0\n")
    lines = []
    for group, points in declared_entry_points().items():
        lines.append(f"[{group}]")
        lines += [f"{name} = {target}" for name, target in points.items()]
        lines.append("")
    (info / "entry_points.txt").write_text("\n".join(lines), encoding="utf-8")
    return directory


def plugin_env(site: Path, **extra: str) -> dict[str, str]:
    """The environment of a subprocess that finds this checkout and the plugin."""
    path = os.pathsep.join([str(ROOT / "src"), str(site), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path, **extra}


def register_in_process(site: Path) -> None:
    """Load the plugin through its entry points in this process (MLflow reads them when it
    is first imported, which may have happened already)."""
    import importlib

    if str(site) not in sys.path:
        sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    from mlflow.store.artifact.artifact_repository_registry import _artifact_repository_registry
    from mlflow.tracking._model_registry.utils import _get_store_registry
    from mlflow.tracking._tracking_service.utils import _tracking_store_registry

    _tracking_store_registry.register_entrypoints()
    _artifact_repository_registry.register_entrypoints()
    _get_store_registry().register_entrypoints()
