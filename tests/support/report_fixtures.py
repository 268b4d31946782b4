"""A small, real project for the plot, report and registry tests: runs recorded by ledger
itself (the API and `ledger run`), including a failed run and one with hostile text."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import ledger
from ledger.write import tracking

HOSTILE_NAME = "<script>alert(1)</script> | $x$ \x1b[31mred"
HOSTILE_DESC = (
    'Pipes | break | tables, <img src="http://127.0.0.1:{port}/leak"> and '
    "<script>fetch('http://127.0.0.1:{port}/x')</script>, math $x$, ANSI \x1b[31mred\x1b[0m, "
    "a [link](http://127.0.0.1:{port}/md) and **bold**"
)


DATA_HASHES = ("0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210")


def _data_version(root: Path, md5: str) -> None:
    """A DVC-tracked data file as DVC writes its `.dvc` file (no DVC needed to read it)."""
    (root / "data").mkdir(exist_ok=True)
    (root / "data/train.csv.dvc").write_text(f"outs:\n- md5: {md5}\n  size: 1234\n  path: train.csv\n", "utf-8")


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def _plot_files(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    docs = {
        "confusion_matrix.json": {"labels": ["no", "yes"], "matrix": [[50, 7], [5, 38]]},
        "roc_curve.json": {"fpr": [0.0, 0.1, 0.3, 1.0], "tpr": [0.0, 0.6, 0.9, 1.0], "auc": 0.86},
        "feature_importance.json": {"features": ["age", "tenure", "$income$"], "importances": [0.5, 0.3, 0.2]},
        "residuals.json": {"y_true": [1.0, 2.0, 3.0, 4.0], "y_pred": [1.1, 1.8, 3.3, 3.9]},
    }
    paths = []
    for name, doc in docs.items():
        path = folder / name
        path.write_text(json.dumps(doc), encoding="utf-8")
        paths.append(path)
    return paths


def _api_run(
    name: str,
    auc: float,
    *,
    port: int,
    description: str | None = None,
    steps: int = 6,
    artifacts: list[Path] | None = None,
    fail: bool = False,
) -> None:
    try:
        with ledger.start_run(name=name, description=description) as run:
            run.log_params({"lr": auc / 10, "model": {"depth": int(auc * 10)}, "family": name.split("-")[0]})
            for step in range(steps):
                run.log_metrics({"loss": 1.0 / (step + 1), "val_loss": 1.2 / (step + 1) + 0.05}, step=step)
            run.note(f"Tried {name}: see how the validation loss follows the training loss.")
            run.log_cost(0.25, "USD", "GPU rental")
            for path in artifacts or []:
                run.log_artifact(path, kind="plot-data")
            if fail:
                raise ValueError("diverged: loss is nan at step 7")
            run.log_metrics({"auc": auc, "f1": auc - 0.1})
    except ValueError:
        pass
    finally:
        tracking._active.clear()


def make_project(root: Path, port: int = 9) -> Path:
    """A git repository with six runs (one failed, one hostile, one via `ledger run`)."""
    root.mkdir(parents=True)
    _git(root, "init", "-q", "-b", "main")
    (root / "params.yaml").write_text("lr: 0.1\n", encoding="utf-8")
    (root / "ledger.yaml").write_text(
        "# project settings\nexperiment: churn   # the client project\nprimary_metric: auc\n"
        "metrics: {auc: max, loss: min, val_loss: min}\n",
        encoding="utf-8",
    )
    (root / "train.py").write_text("import sys, ledger\nledger.log_metric('auc', 0.5)\nsys.exit(3)\n", encoding="utf-8")
    _data_version(root, DATA_HASHES[0])
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "initial")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        _api_run("logreg-baseline", 0.71, port=port, description="The simple baseline: logistic regression.")
        _api_run("xgb-shallow", 0.80, port=port, description="Gradient boosting, depth 3.")
        _data_version(root, DATA_HASHES[1])
        _git(root, "commit", "-q", "-am", "cleaned data")
        _api_run(
            "xgb-deeper",
            0.86,
            port=port,
            description="Deeper trees help?",
            steps=12,
            artifacts=_plot_files(root.parent / "plotdata"),
        )
        _api_run(HOSTILE_NAME, 0.75, port=port, description=HOSTILE_DESC.format(port=port))
        _api_run("mlp-wide", 0.0, port=port, description="A wide MLP.", fail=True)
    proc = subprocess.run(
        [sys.executable, "-m", "ledger", "run", "--name", "script-exit-3", "--", sys.executable, "train.py"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
    )
    assert proc.returncode == 3, proc.stderr
    return root


@contextlib.contextmanager
def isolated(home: Path) -> Iterator[pytest.MonkeyPatch]:
    """The same isolation as conftest's autouse fixture, for module-scoped projects."""
    home.mkdir(parents=True, exist_ok=True)
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Test Author\n\temail = author@example.com\n"
        "[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n[tag]\n\tgpgSign = false\n",
        encoding="utf-8",
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(home))
        mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
        for var in ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"):
            mp.setenv(var, "Test Author")
        for var in ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"):
            mp.setenv(var, "author@example.com")
        for name in (tracking.ENV_RUN_ID, tracking.ENV_RUN_DIR, tracking.ENV_ROOT):
            mp.delenv(name, raising=False)
        yield mp


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (after checking the signature)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
