"""Screenshots of every page of `ledger ui` for docs/ui.md, from a generated project.

    python scripts/ui_screenshots.py            # writes docs/images/ui-*.png

It builds the tests' UI project in a temporary directory (real runs recorded by ledger, a
model decision, a feature branch), starts a run that keeps logging, serves the project with
`ledger ui`, and photographs each page in Debian's Chromium through Playwright.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE / "tests"))

from support.report_fixtures import isolated  # noqa: E402
from support.ui_project import make_ui_project  # noqa: E402
from support.ui_server import chromium, ledger_ui, running_run  # noqa: E402

OUT = HERE / "docs" / "images"


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ledger-ui-shots-") as tmp:
        base = Path(tmp)
        with isolated(base / "home"):
            os.environ["PYTHONPATH"] = os.pathsep.join([str(HERE / "src"), os.environ.get("PYTHONPATH", "")])
            root = make_ui_project(base)
            with running_run(root), ledger_ui(root) as (url, _), chromium() as browser:
                page = browser.new_page()

                def shot(path: str, name: str, ready: str) -> None:
                    page.goto(url.rstrip("/") + path)
                    page.wait_for_selector(ready, timeout=30000)
                    time.sleep(0.5)  # let Plotly finish its transitions
                    page.screenshot(path=str(OUT / f"ui-{name}.png"), full_page=True)
                    sys.stdout.write(f"wrote docs/images/ui-{name}.png\n")

                shot("/", "runs", "table.runs tbody tr")
                page.goto(url)
                page.wait_for_selector("table.runs tbody tr")
                ids = page.eval_on_selector_all("table.runs tbody tr", "rows => rows.map(r => r.dataset.id)")
                by_name = {n: i for n, i in zip(page.eval_on_selector_all(
                    "table.runs tbody tr td:nth-child(2)", "cells => cells.map(c => c.textContent)"), ids)}  # fmt: skip
                shot("/run/" + by_name["lgbm-long"], "run", "#series .chart[data-drawn]")
                shot("/run/" + by_name["live-run"], "live", "#live-box")
                shot(f"/compare?ids={by_name['lgbm-long']},{by_name['xgb-deeper']},{by_name['rf-seed1']}",
                     "compare", "#curves .chart[data-drawn]")  # fmt: skip
                shot("/charts", "charts", "#chart-distribution[data-drawn]")
                shot("/review?base=main&head=feature", "review", "#review-table")
                shot("/registry", "registry", ".decision")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
