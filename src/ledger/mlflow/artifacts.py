"""MLflow's artifact calls: files, folders, dicts, text and figures become ledger artifacts.

ledger artifacts have plain file names; MLflow's artifact paths (`plots/loss.png`) are
flattened with `__` (`plots__loss.png`) so that nothing is lost.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from ledger.core import yamlio
from ledger.mlflow.exceptions import Unsupported
from ledger.mlflow.fluent import current


def artifact_name(*parts: str | None) -> str:
    """`("plots", "a/b.png")` -> `plots__a__b.png`."""
    pieces = [p for part in parts if part for p in part.replace("\\", "/").split("/") if p]
    return "__".join(pieces)


def log_artifact(local_path: str | os.PathLike[str], artifact_path: str | None = None,
                 run_id: str | None = None) -> None:  # fmt: skip
    """Record one file as an artifact of the active run."""
    path = Path(local_path)
    current(run_id, "log_artifact").run.log_artifact(path, name=artifact_name(artifact_path, path.name))


def log_artifacts(local_dir: str | os.PathLike[str], artifact_path: str | None = None,
                  run_id: str | None = None) -> None:  # fmt: skip
    """Record every file under a folder (names keep their relative path, flattened)."""
    base = Path(local_dir)
    run = current(run_id, "log_artifacts").run
    for path in sorted(p for p in base.rglob("*") if p.is_file()):
        run.log_artifact(path, name=artifact_name(artifact_path, path.relative_to(base).as_posix()))


def _log_file(artifact_file: str, data: bytes, run_id: str | None, call: str) -> None:
    run = current(run_id, call).run
    with tempfile.TemporaryDirectory(prefix="ledger-mlflow-") as tmp:
        path = Path(tmp) / Path(artifact_file).name
        path.write_bytes(data)
        run.log_artifact(path, name=artifact_name(artifact_file))


def log_dict(dictionary: Any, artifact_file: str, run_id: str | None = None) -> None:
    """A dict saved as JSON (or YAML for .yaml/.yml names), as MLflow does."""
    if artifact_file.endswith((".yaml", ".yml")):
        text = yamlio.dumps(dictionary)
    else:
        text = json.dumps(dictionary, indent=2)
    _log_file(artifact_file, text.encode("utf-8"), run_id, "log_dict")


def log_text(text: str, artifact_file: str, run_id: str | None = None) -> None:
    _log_file(artifact_file, text.encode("utf-8"), run_id, "log_text")


def log_figure(figure: Any, artifact_file: str, *, save_kwargs: dict[str, Any] | None = None,
               run_id: str | None = None) -> None:  # fmt: skip
    """A matplotlib figure (`savefig`) or a plotly figure (`write_html`/`write_image`)."""
    run = current(run_id, "log_figure").run
    with tempfile.TemporaryDirectory(prefix="ledger-mlflow-") as tmp:
        path = Path(tmp) / Path(artifact_file).name
        if hasattr(figure, "savefig"):
            figure.savefig(path, **(save_kwargs or {}))
        elif artifact_file.endswith(".html") and hasattr(figure, "write_html"):
            figure.write_html(str(path), **(save_kwargs or {}))
        elif hasattr(figure, "write_image"):
            figure.write_image(str(path), **(save_kwargs or {}))
        else:
            raise Unsupported(f"log_figure({type(figure).__name__})",
                              "pass a matplotlib or plotly figure")  # fmt: skip
        run.log_artifact(path, kind="plot", name=artifact_name(artifact_file))
