"""A small, real project for the UI tests and screenshots: the report's six runs (one failed,
one hostile, one via `ledger run`), plus a run with image/CSV/JSON/text artifacts and a long
series, a hostile `<img onerror>` name, a model decision, a baseline, and a `feature` branch
with runs of its own for the review page."""

from __future__ import annotations

import json
import math
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

import ledger
from ledger.write import tracking
from support.report_fixtures import make_project

IMG_NAME = "<img src=x onerror=alert(1)>"
SERIES_STEPS = 2000


def tiny_png(width: int = 24, height: int = 16) -> bytes:
    """A real PNG (a blue gradient), written by hand so no imaging library is needed."""
    rows = b"".join(b"\x00" + bytes(v for x in range(width) for v in (40, 90, 120 + 5 * x)) for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def _cli(root: Path, *args: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "ledger", *args], cwd=root, capture_output=True, text=True,
                          timeout=120, env=dict(os.environ))  # fmt: skip
    assert proc.returncode == 0, proc.stderr


def _rich_run(root: Path) -> None:
    files = root.parent / "artifacts"
    files.mkdir(exist_ok=True)
    (files / "curve.png").write_bytes(tiny_png())
    (files / "predictions.csv").write_text(
        "id,label,score\n" + "".join(f"{i},{i % 2},{i / 50:.2f}\n" for i in range(40))
    )
    (files / "summary.json").write_text(json.dumps({"auc": 0.88, "note": "<b>not bold</b>"}))
    (files / "log.txt").write_text("epoch 1 done\n<script>alert(1)</script>\n")
    with ledger.start_run(name="lgbm-long", description="A long run: 2,000 steps.", tags={"stage": "final"}) as run:
        run.log_params({"lr": 0.05, "model": {"depth": 6}, "family": "lgbm", "seed": 1})
        for step in range(SERIES_STEPS):
            run.log_metrics({"loss": 1.0 / (1 + step / 50) + 0.02 * math.sin(step / 7),
                             "val_loss": 1.1 / (1 + step / 60) + 0.05}, step=step)  # fmt: skip
        for name in ("curve.png", "predictions.csv", "summary.json", "log.txt"):
            run.log_artifact(files / name)
        run.log_metrics({"auc": 0.88, "f1": 0.8})
        run.note("Long run with artifacts of every previewable kind.")
    tracking._active.clear()


def _plain_run(name: str, auc: float, depth: int, seed: int) -> None:
    with ledger.start_run(name=name) as run:
        run.log_params({"lr": 0.1, "model": {"depth": depth}, "family": name.split("-")[0], "seed": seed})
        for step in range(5):
            run.log_metric("loss", 1.0 / (step + 1), step=step)
        run.log_metrics({"auc": auc, "f1": auc - 0.1})
    tracking._active.clear()


def make_ui_project(base: Path) -> Path:
    root = make_project(base / "project")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        _rich_run(root)
        _plain_run(IMG_NAME, 0.7, 2, 0)
        for seed in (1, 2):
            _plain_run(f"rf-seed{seed}", 0.78 + seed / 100, 4, seed)
        _cli(root, "baseline", "logreg-baseline")
        _cli(root, "select", "lgbm-long", "--rationale", "Best AUC; beats <b>the</b> baseline.", "--stage", "prod")
        _git(root, "checkout", "-q", "-b", "feature")
        _plain_run("feature-try", 0.9, 8, 3)
        _git(root, "checkout", "-q", "main")
    return root
