"""Shared by the example's stages: where files are, reading the data, the active run."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

import ledger

HERE = Path(__file__).resolve().parent
RAW = HERE / "data" / "breast_cancer.csv"
OUT = HERE / "out"
PREPARED = OUT / "prepared"
MODEL = OUT / "model.pkl"
METRICS = OUT / "metrics.json"


def params() -> dict[str, Any]:
    """The effective params: params.yaml plus `ledger run -p` overrides."""
    return ledger.params()


def run() -> ledger.Run | None:
    """The run this stage belongs to (under `ledger run -- dvc repro`), else None: the
    stages also work with a plain `dvc repro`, they just record nothing then."""
    return ledger.active_run()


def read_split(name: str) -> tuple[np.ndarray, np.ndarray]:
    table = np.loadtxt(PREPARED / f"{name}.csv", delimiter=",", skiprows=1)
    return table[:, :-1], table[:, -1].astype(int)


def header() -> str:
    return RAW.read_text(encoding="utf-8").splitlines()[0]


def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(1)
