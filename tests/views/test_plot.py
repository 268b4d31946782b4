"""`ledger plot`: every chart kind drawn from real records into valid PNG and SVG files."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.cli import main
from ledger.core.workspace import Workspace
from ledger.errors import LedgerError
from ledger.read.records import Loaded
from ledger.views.plot import charts as plot
from ledger.views.plot import data as plot_data
from support.report_fixtures import HOSTILE_NAME, isolated, make_project, png_size

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    base = tmp_path_factory.mktemp("plots")
    with isolated(base / "home"):
        yield make_project(base / "project")


@pytest.fixture
def in_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(project)
    return project


def _png(path: Path, min_w: int = 400, min_h: int = 200) -> tuple[int, int]:
    width, height = png_size(path.read_bytes())
    assert min_w <= width <= 3000 and min_h <= height <= 3000, (width, height)
    assert path.stat().st_size > 5_000  # an empty canvas compresses to far less
    return width, height


def _svg_texts(path: Path) -> list[str]:
    root = ET.fromstring(path.read_bytes())
    assert root.tag == f"{SVG}svg"
    assert float(root.get("width", "0").rstrip("pt")) > 200
    return ["".join(node.itertext()) for node in root.iter(f"{SVG}text")]


def _plot(tmp_path: Path, *args: str, out: str) -> Path:
    target = tmp_path / out
    assert main(["plot", *args, "-o", str(target)]) == 0
    return target


def test_curves_png_and_svg(in_project: Path, tmp_path: Path) -> None:
    _png(_plot(tmp_path, "curves", out="curves.png"))
    svg = _plot(tmp_path, "curves", "xgb-deeper", "logreg-baseline", "-m", "loss", "-m", "val_loss", out="c.svg")
    texts = _svg_texts(svg)
    assert "Learning curves: loss, val_loss" in texts
    assert "step" in texts
    assert any("xgb-deeper · val_loss" in t for t in texts)
    assert any("logreg-baseline · loss" in t for t in texts)


def test_scatter_numeric_and_categorical_colour(in_project: Path, tmp_path: Path) -> None:
    _png(_plot(tmp_path, "scatter", "--x", "lr", "--color", "model.depth", out="s.png"))
    texts = _svg_texts(_plot(tmp_path, "scatter", "--x", "params.lr", "--y", "f1", "--color", "family", out="s.svg"))
    assert "f1 vs params.lr" in texts
    assert {"xgb", "logreg"} <= set(texts)  # the colour legend names the groups


def test_progress_shows_best_so_far_and_baseline(in_project: Path, tmp_path: Path) -> None:
    assert main(["baseline", "logreg-baseline"]) == 0
    _png(_plot(tmp_path, "progress", out="p.png"))
    texts = _svg_texts(_plot(tmp_path, "progress", out="p.svg"))
    assert "Progress: auc over time (higher is better)" in texts
    assert "best so far" in texts
    assert "baseline (logreg-baseline)" in texts
    assert "xgb-deeper" in texts  # the best run is named on the chart


def test_top_bars_keep_record_text_literal(in_project: Path, tmp_path: Path) -> None:
    _png(_plot(tmp_path, "top", "-n", "3", out="t.png"), min_h=150)
    texts = _svg_texts(_plot(tmp_path, "top", out="t.svg"))
    assert "Top 4 runs by auc (higher is better)" in texts
    # The hostile name is drawn as text: `$x$` is not turned into math, the escape is visible.
    assert plot.label(HOSTILE_NAME, 40) in texts
    assert any("$x$" in t for t in texts)
    assert not any("\x1b" in t for t in texts)


@pytest.mark.parametrize("kind", ["confusion_matrix", "roc_curve", "feature_importance", "residuals"])
def test_artifact_plots(in_project: Path, tmp_path: Path, kind: str) -> None:
    _png(_plot(tmp_path, "artifact", "xgb-deeper", kind, out=f"{kind}.png"))
    texts = _svg_texts(_plot(tmp_path, "artifact", "xgb-deeper", f"{kind}.json", out=f"{kind}.svg"))
    title = {
        "confusion_matrix": "Confusion matrix",
        "roc_curve": "ROC curve",
        "feature_importance": "Feature importance",
        "residuals": "Residuals",
    }[kind]
    assert f"{title}: xgb-deeper" in texts
    if kind == "feature_importance":
        assert "$income$" in texts


def test_bad_requests_are_one_line_errors(in_project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plot", "top", "-o", str(tmp_path / "x.gif")]) == 2
    assert "name the image .png or .svg" in capsys.readouterr().err
    assert main(["plot", "artifact", "xgb-deeper", "-o", str(tmp_path / "a.png")]) == 2
    assert "several plot-data artifacts" in capsys.readouterr().err
    assert main(["plot", "artifact", "xgb-shallow", "-o", str(tmp_path / "a.png")]) == 1
    assert "has no plot data" in capsys.readouterr().err
    assert main(["plot", "progress", "-m", "nope", "-o", str(tmp_path / "p.png")]) == 1
    assert "no run has a value for nope" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.png")) and not list(tmp_path.glob("*.gif"))


def test_series_parsing_skips_damaged_lines() -> None:
    data = b"step\tmetric\tvalue\ttime\n2\tloss\t0.5\t1.0\n0\tloss\t1.0\t0.1\nbroken\nx\tloss\t1\t1\n1\tacc\tnan\t0\n"
    series = plot_data.parse_series(data)
    assert series["loss"] == [(0, 1.0), (2, 0.5)]
    assert len(series["acc"]) == 1
    assert plot_data.parse_series(data, {"acc"}).keys() == {"acc"}


def test_unknown_image_format_and_empty_data_are_errors() -> None:
    with pytest.raises(LedgerError, match="unknown image format"):
        plot.top([("a", 1.0)], metric="auc", direction="max", fmt="jpg")
    with pytest.raises(LedgerError, match="no step series"):
        plot.curves([])


def test_malformed_plot_data_is_a_clear_error(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    folder = tmp_path / "experiments/2026-11/run/artifacts"
    folder.mkdir(parents=True)
    item = Loaded({"id": "20261127-000000-x-abcdef"}, "experiments/2026-11/x.yaml", "worktree")
    cases = {
        "confusion_matrix.json": ('{"matrix": [[1, 2], [3]]}', "square list of lists"),
        "roc_curve.json": ('{"fpr": [0, 1], "tpr": [0]}', "same length"),
        "feature_importance.json": ('{"importances": [true]}', "list of numbers"),
        "residuals.json": ('{"y_pred": [1.0]}', "give `y_true` or `residuals`"),
        "val_roc_curve.json": ("[1, 2]", "must hold a JSON object"),
    }
    for name, (text, message) in cases.items():
        (folder / name).write_text(text, "utf-8")
        art = {"name": name, "path": f"experiments/2026-11/run/artifacts/{name}", "kind": "plot-data"}
        with pytest.raises(LedgerError, match=re.escape(message)):
            plot_data.load_plot_data(ws, item, art)
    escape = {"name": "roc_curve.json", "path": "../outside.json", "kind": "plot-data"}
    with pytest.raises(LedgerError, match="not in git or the working tree"):
        plot_data.load_plot_data(ws, item, escape)
    assert plot_data.plot_data_type({"name": "model.pkl"}) is None


def test_svg_output_is_deterministic() -> None:
    bars = [("a", 0.9), ("b", 0.8)]
    first = plot.top(bars, metric="auc", direction="max", baseline=0.5, fmt="svg")
    assert first == plot.top(bars, metric="auc", direction="max", baseline=0.5, fmt="svg")


def test_matplotlib_is_only_imported_to_draw() -> None:
    code = (
        "import sys\nfrom ledger.cli import build_parser\nbuild_parser()\n"
        "import ledger.views.report.build, ledger.registry, ledger.views.plot.data\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported at startup'\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_best_so_far_is_the_one_line_the_plot_the_report_and_the_ui_draw() -> None:
    from ledger.views.plot.data import best_so_far

    assert best_so_far([0.5, 0.7, 0.6, 0.9], "max") == [0.5, 0.7, 0.7, 0.9]
    assert best_so_far([0.5, 0.7, 0.4, 0.45], "min") == [0.5, 0.5, 0.4, 0.4]
    assert best_so_far([], "max") == []
