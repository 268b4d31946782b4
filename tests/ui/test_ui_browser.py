"""`ledger ui` in a real browser (Debian's Chromium driven by Playwright): the table, filter
and sort, a run with its charts drawn, compare, a running run updating by itself; no
request leaves the local server, no dialog ever fires (hostile names stay text) and the
console shows no error (a style or script the CSP refused would be one)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette", reason="the ui extra: pip install 'ledger-ml[ui]'")
pytest.importorskip("playwright", reason="the test extra installs playwright")

from support.report_fixtures import HOSTILE_NAME, isolated  # noqa: E402
from support.ui_project import IMG_NAME, make_ui_project  # noqa: E402
from support.ui_server import chromium, ledger_ui, running_run  # noqa: E402

TIMEOUT = 30_000


class Watch:
    """Every request the browser makes, every dialog it opens, every console error."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.errors: list[str] = []

    def page(self, browser: Any) -> Any:
        page = browser.new_page()
        page.set_default_timeout(TIMEOUT)
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("console", lambda message: self.errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

        def dialog(d: Any) -> None:
            self.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", dialog)
        return page


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, Any, Watch]]:
    base = tmp_path_factory.mktemp("ui-browser")
    with isolated(base / "home"):
        root = make_ui_project(base)
        watch = Watch()
        with ledger_ui(root) as (url, _), chromium() as browser:
            yield root, url, browser, watch
        assert all(u.startswith(url) or u.startswith(("data:", "blob:")) for u in watch.requests), [
            u for u in watch.requests if not u.startswith(url)
        ]
        assert watch.dialogs == []
        assert watch.errors == []


@pytest.fixture(autouse=True)
def no_console_errors(served: tuple[Path, str, Any, Watch]) -> Iterator[None]:
    """Each test ends with a console free of errors (the test that provokes a refused
    request takes its one expected message out itself)."""
    yield
    errors, served[3].errors[:] = list(served[3].errors), []
    assert errors == []


def names(page: Any) -> list[str]:
    return page.eval_on_selector_all("table.runs tbody tr td:nth-child(2)", "cells => cells.map(c => c.textContent)")


def loaded(page: Any, before: str | None) -> None:
    page.wait_for_function(
        "before => document.body.dataset.loaded && document.body.dataset.loaded !== before", arg=before
    )


def test_table_filter_sort_and_hostile_names(served: tuple[Path, str, Any, Watch]) -> None:
    _, url, browser, watch = served
    page = watch.page(browser)
    page.goto(url)
    page.wait_for_selector("table.runs tbody tr")
    shown = names(page)
    assert len(shown) == 10 and IMG_NAME in shown and any(n.startswith("<script>alert(1)</script>") for n in shown)
    assert page.locator("table.runs img").count() == 0 and page.locator("table.runs script").count() == 0

    before = page.evaluate("document.body.dataset.loaded")
    page.fill("#where", "params.family = 'rf' and metrics.auc > 0.785")
    page.press("#where", "Enter")
    loaded(page, before)
    assert names(page) == ["rf-seed2", "rf-seed1"]
    assert "where=" in page.url  # the view is in the address, so it can be shared

    before = page.evaluate("document.body.dataset.loaded")
    page.fill("#where", "metrics.auc >>> 1")
    page.press("#where", "Enter")
    loaded(page, before)
    assert "bad --where expression" in page.inner_text("#where-error")
    assert names(page) == ["rf-seed2", "rf-seed1"]  # the last good answer stays
    refused = "Failed to load resource: the server responded with a status of 400 (Bad Request)"
    assert watch.errors == [refused]  # the bad filter's answer, and nothing else
    watch.errors.clear()

    before = page.evaluate("document.body.dataset.loaded")
    page.fill("#where", "")
    page.press("#where", "Enter")
    loaded(page, before)
    before = page.evaluate("document.body.dataset.loaded")
    page.click("th[data-column='metrics.auc']")
    loaded(page, before)
    assert names(page)[:2] == ["lgbm-long", "xgb-deeper"]
    page.close()


def test_open_a_run_and_see_its_charts(served: tuple[Path, str, Any, Watch]) -> None:
    _, url, browser, watch = served
    page = watch.page(browser)
    page.goto(url)
    page.click("table.runs a:text-is('lgbm-long')")
    page.wait_for_selector("#series .chart[data-drawn] svg .scatterlayer path.js-line")
    assert page.inner_text("#run-name") == "lgbm-long"
    assert page.locator("#series .chart[data-drawn]").count() == 2
    path = page.get_attribute("#series .chart[data-metric='loss'] .scatterlayer path.js-line", "d")
    assert path and path.count("L") > 100  # a real line, drawn from the downsampled points
    page.check("#logscale")
    page.wait_for_selector("#series .chart[data-metric='loss'] .yaxislayer-above text")
    page.wait_for_selector("img.artifact-image")
    assert page.evaluate("document.querySelector('img.artifact-image').naturalWidth") == 24
    assert "<script>alert(1)</script>" in page.inner_text("pre.preview >> nth=1")

    page.goto(url)
    page.wait_for_selector("table.runs tbody tr")
    page.click(f"table.runs a:text-is('{IMG_NAME}')")
    page.wait_for_selector("#run-name")
    assert page.inner_text("#run-name") == IMG_NAME
    page.goto(url)
    page.wait_for_selector("table.runs tbody tr")
    page.click("table.runs a:text-matches('^<script>')")
    page.wait_for_selector("#run-name")
    assert page.inner_text("#run-name").startswith("<script>alert(1)</script>")
    assert HOSTILE_NAME.split("\x1b")[0] in page.inner_text("#run-name")
    page.close()


def test_compare_two_runs(served: tuple[Path, str, Any, Watch]) -> None:
    _, url, browser, watch = served
    page = watch.page(browser)
    page.goto(url)
    page.wait_for_selector("table.runs tbody tr")
    for name in ("lgbm-long", "xgb-deeper"):
        page.check(f"table.runs tr:has(a:text-is('{name}')) input[type=checkbox]")
    page.click("#compare")
    page.wait_for_selector("#curves .chart[data-drawn]")
    headers = page.eval_on_selector_all("#compare-table thead th", "ths => ths.map(t => t.textContent)")
    assert headers[1].startswith("lgbm-long") and headers[2].startswith("xgb-deeper")
    first = page.eval_on_selector_all("#compare-table tbody tr", "rows => rows.map(r => r.className)")
    assert first[0] == "differs" and first[-1] == "same"
    assert page.locator("#curves .chart[data-metric='loss'] .scatterlayer path.js-line").count() == 2
    page.wait_for_selector("#codediff p")
    page.close()


def test_a_running_run_updates_the_table_and_its_page_by_itself(served: tuple[Path, str, Any, Watch]) -> None:
    root, url, browser, watch = served
    page = watch.page(browser)
    page.goto(url)
    page.wait_for_selector("table.runs tbody tr")
    assert "live-run" not in names(page)
    with running_run(root):
        page.wait_for_function(
            "() => [...document.querySelectorAll('table.runs a')].some(a => a.textContent === 'live-run')"
        )
        assert page.inner_text("table.runs tr:has(a:text-is('live-run')) .chip") == "running"
        page.click("table.runs a:text-is('live-run')")
        page.wait_for_selector("#live-step")
        first = int(page.inner_text("#live-step") or 0)
        page.wait_for_function(
            "first => Number(document.getElementById('live-step').textContent) > first + 10", arg=first
        )
        page.wait_for_selector("#series .chart[data-drawn]")
    page.wait_for_function("() => document.body.dataset.status === 'finished'")
    assert re.search(r"\bfinished\b", page.inner_text(".run-head"))
    page.close()
