"""Run names collide (re-runs, sweeps, shipped examples): lookups take the id's hash
suffix, plots key colours by run id and tell same-named runs apart, metrics of very
different scales get their own panels, and a running run is drawn from its series."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import ledger
from ledger.cli import main
from ledger.views.plot import charts as plot
from support.repo import records

SVG = "{http://www.w3.org/2000/svg}"


def _twins(repo: Path) -> list[str]:
    ids = []
    for lr in (0.1, 0.3):
        with ledger.start_run(name="gb") as run:
            for step in range(5):
                run.log_metric("auc", 0.5 + lr * step / 10, step=step)
                run.log_metric("loss", 2000.0 / (step + 1), step=step)
        ids.append(run.id)
    return ids


def _svg(path: Path) -> ET.Element:
    return ET.fromstring(path.read_bytes())


def test_lookups_take_the_hash_suffix_where_names_collide(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = _twins(repo)
    suffix = first.rsplit("-", 1)[-1]
    assert main(["show", "gb"]) == 1
    err = capsys.readouterr().err
    assert "'gb' matches 2 runs" in err and "hash suffix (e.g. " in err and err.count("\n") == 1
    assert main(["show", suffix, "--format", "json"]) == 0
    assert first in capsys.readouterr().out
    assert main(["compare", suffix, second.rsplit("-", 1)[-1][:4]]) == 0
    out = capsys.readouterr().out
    assert first in out and second in out


def test_plots_key_colours_by_run_id(repo: Path, tmp_path: Path) -> None:
    first, second = _twins(repo)
    target = tmp_path / "curves.svg"
    assert main(["plot", "curves", first, second, "-m", "auc", "-o", str(target)]) == 0
    root = _svg(target)
    texts = ["".join(node.itertext()) for node in root.iter(f"{SVG}text")]
    for run_id in (first, second):
        assert f"gb ({run_id.rsplit('-', 1)[-1]})" in texts  # same name, told apart
    styles = " ".join(node.get("style", "") for node in root.iter(f"{SVG}path"))
    assert "stroke: #1f77b4" in styles and "stroke: #ff7f0e" in styles  # one colour per run


def test_metrics_of_very_different_scales_get_their_own_panels(repo: Path, tmp_path: Path) -> None:
    lines = [
        plot.Line("a", "auc", [(0, 0.5), (1, 0.9)]),
        plot.Line("a", "accuracy", [(0, 0.4), (1, 0.8)]),
        plot.Line("a", "loss", [(0, 2300.0), (1, 40.0)]),
        plot.Line("a", "lr", [(0, 1e-4), (1, 5e-5)]),
    ]
    assert plot.scale_groups(lines) == [["auc", "accuracy"], ["loss"], ["lr"]]
    assert plot.scale_groups(lines[:2]) == [["auc", "accuracy"]]
    _twins(repo)
    target = tmp_path / "panels.svg"
    assert main(["plot", "curves", "-o", str(target)]) == 0
    root = _svg(target)
    axes = [g for g in root.iter(f"{SVG}g") if (g.get("id") or "").startswith("axes_")]
    assert len(axes) == 2  # auc in one panel, the loss in the thousands in another


def test_a_running_run_is_plotted_from_its_series(repo: Path, tmp_path: Path) -> None:
    run = ledger.start_run(name="live")
    for step in range(10):
        run.log_metric("loss", 1.0 / (step + 1), step=step)
    run.flush()
    target = tmp_path / "live.svg"
    try:
        assert main(["plot", "curves", run.id, "-o", str(target)]) == 0
        texts = ["".join(node.itertext()) for node in _svg(target).iter(f"{SVG}text")]
        assert "Learning curves: loss" in texts
        default = tmp_path / "default.svg"
        assert main(["plot", "curves", "-o", str(default)]) == 0  # the running run is among the defaults
    finally:
        run.end()
    assert len(records(repo)) == 1
