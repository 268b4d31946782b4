"""The report tells the story: what varied and what won, the data the runs read (not every
output and script, sizes readable), each sweep described once, no empty metric columns,
and table headers that never break inside a word (checked in a real headless Chromium)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.cli import main
from support.query_helpers import commit, make, rid
from support.report_fixtures import isolated

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DESCRIPTION = "does boosting beat the baseline?"

DATA = [
    {"path": "data/cancer.csv", "hash": "ab761d6a12b5a92820951fdf2bd9a24c", "size": 121388, "nfiles": 1,
     "source": "data/cancer.csv.dvc", "matches": True, "role": "data"},
    {"path": "src/train.py", "hash": "ff8ac5fa514b1364d00827b1a9b69791", "size": 1544, "nfiles": 1,
     "source": "dvc.lock:train", "matches": True, "role": "dep"},
    {"path": "out/prepared", "hash": "055af9f809791ea70ae0c80b08adfb72.dir", "size": 40428, "nfiles": 3,
     "source": "dvc.lock:prepare", "matches": True, "role": "out"},
    {"path": "out/prepared", "hash": "055af9f809791ea70ae0c80b08adfb72.dir", "size": 40428, "nfiles": 3,
     "source": "dvc.lock:train", "matches": True, "role": "dep"},
    # an output recorded as a later stage's dep: known as an output by the model artifact's hash
    {"path": "out/model.pkl", "hash": "04e3d7d15cd8b0e27042035db83a4a67", "size": 51812, "nfiles": 1,
     "source": "dvc.lock:evaluate", "matches": True, "role": "dep"},
]  # fmt: skip


MODEL = {"name": "model.pkl", "path": "experiments/2026-11/20261127-000001-baseline-abc001/artifacts/model.pkl",
         "hash": "04e3d7d15cd8b0e27042035db83a4a67", "size": 51812, "kind": "model", "store": "git"}  # fmt: skip


def _params(family: str, lr: float) -> dict:
    return {"model": {"family": family, "seed": 0, "gradient_boosting": {"learning_rate": lr, "max_depth": 2}}}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    base = tmp_path_factory.mktemp("story")
    root = base / "project"
    root.mkdir()
    with isolated(base / "home") as mp:
        from support.repo import git

        git(root, "init", "-q", "-b", "main")
        (root / "ledger.yaml").write_text("experiment: cancer\nprimary_metric: auc\n", encoding="utf-8")
        git(root, "add", ".")
        git(root, "commit", "-qm", "initial")
        code = {"commit": git(root, "rev-parse", "HEAD"), "branch": "main", "dirty": False}
        runs = [make(1, slug="baseline", name="baseline", params=_params("logistic_regression", 0.1),
                     metrics={"auc": 0.80, "f1": 0.7}, description="logistic regression baseline",
                     baseline=True, data=DATA, code=code, artifacts=[MODEL])]  # fmt: skip
        for n, lr in enumerate((0.05, 0.3, 0.1)):
            runs.append(make(10 + n, slug="gb", name=f"gb-learning_rate={lr}", params=_params("gradient_boosting", lr),
                             metrics={"auc": 0.85 + lr / 10, "f1": 0.75}, description=DESCRIPTION, data=DATA,
                             code=code, tags={"sweep": "6f8c8790", "sweep_point": str(n)}))  # fmt: skip
        runs.append(make(20, slug="rf", name="rf-max_depth=0", status="failed", params=_params("random_forest", 0.1),
                         metrics={"debug_only": 1.0}, description="an invalid depth", code=code))  # fmt: skip
        commit(root, *runs)
        mp.chdir(root)
        assert main(["select", rid(11, "gb"), "--rationale", "Best validation AUC by a clear margin."]) == 0
        assert main(["report", "-o", str(base / "report.html")]) == 0
        assert main(["report", "-o", str(base / "report.md")]) == 0
        yield base


def _section(text: str, section: str) -> str:
    return text.split(f'<section id="{section}">', 1)[1].split("</section>", 1)[0]


def test_what_varied_and_what_won(project: Path) -> None:
    page = (project / "report.html").read_text()
    summary = _section(page, "summary")
    assert "What varied:" in summary and "<code>model.gradient_boosting.learning_rate</code>" in summary
    assert "What won:</strong> the selected run, gb-learning_rate=0.3, has" in summary
    assert "<code>model.family</code> = gradient_boosting" in summary
    board = _section(page, "progress")
    assert "<th><code>learning_rate</code></th>" in board and "<th><code>family</code></th>" in board
    decision = _section(page, "decision")
    assert "<h3>Parameters</h3>" in decision and "logistic_regression" in decision
    markdown = (project / "report.md").read_text()
    assert (
        "**What won:** the selected run, gb\\-learning\\_rate\\=0.3, has `model.family` = gradient\\_boosting"
        in markdown
    )


def test_data_versions_are_the_inputs_with_readable_sizes(project: Path) -> None:
    provenance = _section((project / "report.html").read_text(), "provenance")
    data = provenance.split("<h3>Data versions</h3>", 1)[1].split("<h3>", 1)[0]
    assert "data/cancer.csv" in data and "118.5 KiB" in data
    for output_or_code in ("src/train.py", "out/prepared", "out/model.pkl", "e+05"):
        assert output_or_code not in data
    assert "Not listed: 2 pipeline outputs and 1 code file" in data
    markdown = (project / "report.md").read_text()
    assert "| data/cancer.csv | `ab761d6a12b5` | 118.5 KiB |" in markdown and "out/model.pkl" not in markdown


def test_a_sweep_is_described_once(project: Path) -> None:
    story = _section((project / "report.html").read_text(), "narrative")
    assert story.count(DESCRIPTION) == 1
    assert (
        "A sweep of 3 runs</strong> (3 finished); varied: <code>model.gradient_boosting.learning_rate</code>" in story
    )
    assert story.index("baseline") < story.index(DESCRIPTION) < story.index("an invalid depth")
    assert (project / "report.md").read_text().count(DESCRIPTION) == 1


def test_no_column_for_a_metric_no_finished_run_has(project: Path) -> None:
    page = (project / "report.html").read_text()
    assert "debug_only" not in _section(page, "summary") and "debug_only" not in _section(page, "progress")
    assert "Secondary metrics: f1" in page


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install -y chromium)")
def test_headers_never_break_inside_a_word_in_chromium(project: Path) -> None:
    from playwright.sync_api import sync_playwright

    broken_words = """() => {
      const broken = [];
      for (const th of document.querySelectorAll('th')) {
        const text = th.textContent;
        for (const m of text.matchAll(/\\S+/g)) {
          const walker = document.createTreeWalker(th, NodeFilter.SHOW_TEXT);
          let node, offset = m.index;
          while ((node = walker.nextNode()) && offset >= node.length) offset -= node.length;
          if (!node || offset + m[0].length > node.length) continue;
          const range = document.createRange();
          range.setStart(node, offset); range.setEnd(node, offset + m[0].length);
          const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
          if (tops.size > 1) broken.push(m[0]);
        }
      }
      return broken;
    }"""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 720, "height": 900})
            page.goto((project / "report.html").as_uri())
            assert page.evaluate(broken_words) == []
            history = page.locator("#decisions")
            history.screenshot(path=str(project / "decisions.png"))
            page.screenshot(path=str(project / "report.png"), full_page=True)
        finally:
            browser.close()
    assert (project / "decisions.png").stat().st_size > 2_000
    assert re.search(r"<th[^>]*>selected</th>", (project / "report.html").read_text())
