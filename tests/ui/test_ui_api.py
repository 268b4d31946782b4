"""The UI's JSON API and pages, in-process (Starlette's TestClient) over a real project:
the table (filter, sort, columns, paging), a run, series, artifacts and what is refused,
compare and code diff, charts, review, registry, the report, the safety headers, and that
nothing is written to the repository."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette", reason="the ui extra: pip install 'ledger-ml[ui]'")

from starlette.testclient import TestClient  # noqa: E402

from ledger.core.workspace import Workspace  # noqa: E402
from ledger.ui.app import create_app  # noqa: E402
from ledger.ui.routes.pages import plotly_bundle, plotly_styles  # noqa: E402
from ledger.ui.security import CSP  # noqa: E402
from ledger.ui.state import Repo  # noqa: E402
from support.repo import git  # noqa: E402
from support.report_fixtures import HOSTILE_NAME, isolated  # noqa: E402
from support.ui_project import IMG_NAME, SERIES_STEPS, make_ui_project  # noqa: E402

BASE = "http://127.0.0.1:8765"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    base = tmp_path_factory.mktemp("ui-api")
    with isolated(base / "home"):
        yield make_ui_project(base)


@pytest.fixture(scope="module")
def client(project: Path) -> TestClient:
    return TestClient(create_app(Repo(Workspace(project)), 8765), base_url=BASE)


@pytest.fixture(scope="module")
def ids(client: TestClient) -> dict[str, str]:
    rows = client.get("/api/runs", params={"columns": "name"}).json()["rows"]
    return {row["cells"][0]: row["id"] for row in rows}


def get(client: TestClient, url: str, **params: Any) -> Any:
    response = client.get(url, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_table_pages_filters_and_sorts_on_the_server(client: TestClient, ids: dict[str, str]) -> None:
    page = get(client, "/api/runs", limit=3)
    assert page["total"] == page["runs"] == 10 and len(page["rows"]) == 3
    assert page["columns"][:4] == ["name", "status", "started_at", "duration_s"] and "metrics.auc" in page["columns"]
    names = [r["cells"][0] for r in get(client, "/api/runs", limit=50, columns="name")["rows"]]
    assert names[0] == "rf-seed2" and names[-1] == "logreg-baseline"  # newest first
    second = get(client, "/api/runs", limit=3, offset=3, columns="name")["rows"]
    assert [r["cells"][0] for r in second] == names[3:6]
    assert page["counts"] == {"failed": 2, "finished": 8}

    found = get(client, "/api/runs", where="metrics.auc >= 0.8 and params.family = 'xgb'", columns="name,metrics.auc")
    assert {tuple(r["cells"]) for r in found["rows"]} == {("xgb-shallow", 0.8), ("xgb-deeper", 0.86)}
    by_auc = get(client, "/api/runs", sort="metrics.auc", order="desc", columns="name,metrics.auc")["rows"]
    assert [r["cells"][0] for r in by_auc[:3]] == ["lgbm-long", "xgb-deeper", "rf-seed2"]
    assert by_auc[-1]["cells"][1] is None  # missing values last
    by_depth = get(
        client, "/api/runs", sort="params.model.depth", order="asc", columns="name,params.model.depth,author,tags.stage"
    )
    depths = [r["cells"][1] for r in by_depth["rows"] if r["cells"][1] is not None]
    assert depths == sorted(depths)
    lgbm = next(r for r in by_depth["rows"] if r["cells"][0] == "lgbm-long")
    assert lgbm["cells"][2:] == ["Test Author", "final"]


def test_a_bad_filter_is_a_400_with_the_grammar_error(client: TestClient) -> None:
    response = client.get("/api/runs", params={"where": "metrics.auc >"})
    assert response.status_code == 400
    assert "bad --where expression at column" in response.json()["error"]
    for where, close in (("metrics.acu > 0.5", "auc"), ("params.modl.depth = 3", "model.depth")):
        response = client.get("/api/runs", params={"where": where})
        assert response.status_code == 400 and close in response.json()["error"], response.text


def test_columns_on_offer(client: TestClient) -> None:
    offered = get(client, "/api/columns")
    assert "metrics.val_loss" in offered["metrics"] and "params.model.depth" in offered["params"]
    assert offered["tags"] == ["tags.stage"] and "author" in offered["attributes"]


def test_a_run_with_data_inputs_first_series_and_artifact_previews(client: TestClient, ids: dict[str, str]) -> None:
    run_id = ids["lgbm-long"]
    detail = get(client, f"/api/run/{run_id}")
    assert detail["record"]["name"] == "lgbm-long" and detail["record"]["params"]["model"]["depth"] == 6
    assert detail["series"] == ["loss", "val_loss"] and detail["live"] is None
    assert [d["path"] for d in detail["data"]] == ["data/train.csv"]
    assert {a["name"]: a["kind"] for a in detail["artifacts"]} == {
        "curve.png": "image", "predictions.csv": "table", "summary.json": "json", "log.txt": "text"}  # fmt: skip
    series = get(client, f"/api/run/{run_id}/series", metrics="loss", width=100)["series"]["loss"]
    assert series["count"] == SERIES_STEPS and len(series["steps"]) <= 400
    assert series["steps"][0] == 0 and series["steps"][-1] == SERIES_STEPS - 1
    table = get(client, f"/api/run/{run_id}/preview/predictions.csv")
    assert table["rows"][0] == ["id", "label", "score"] and len(table["rows"]) == 21 and table["truncated"]
    assert get(client, f"/api/run/{run_id}/preview/summary.json")["text"].startswith('{\n  "auc": 0.88')
    assert "<script>alert(1)</script>" in get(client, f"/api/run/{run_id}/preview/log.txt")["text"]  # data, not markup
    image = client.get(f"/api/run/{run_id}/artifact/curve.png")
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG") and "sandbox" in image.headers["content-security-policy"]
    text = client.get(f"/api/run/{run_id}/artifact/log.txt")
    assert text.headers["content-disposition"] == "attachment"  # never rendered as a page of ours


def test_files_the_record_does_not_name_are_refused(client: TestClient, ids: dict[str, str]) -> None:
    run_id = ids["lgbm-long"]
    for name in ("../../../etc/passwd", "ledger.yaml", ".git/config", "%2e%2e/ledger.yaml"):
        response = client.get(f"/api/run/{run_id}/artifact/{name}")
        assert response.status_code in (403, 404), (name, response.status_code)
        assert b"root:" not in response.content and b"primary_metric" not in response.content
    assert client.get("/api/run/nope").status_code == 404
    assert "ledger ui --all" in client.get("/api/run/nope").json()["error"]


def test_a_symlink_leading_out_of_the_repository_is_refused(repo: Path, tmp_path: Path) -> None:
    from support.query_helpers import make, write

    secret = tmp_path / "secret.txt"
    secret.write_text("top secret\n")
    rec = make(1, artifacts=[{"name": "leak.txt", "path": "experiments/leak.txt", "hash": "0" * 32, "size": 11,
                              "kind": "artifact", "store": "git"}])  # fmt: skip
    write(repo, rec)
    (repo / "experiments" / "leak.txt").symlink_to(secret)
    client = TestClient(create_app(Repo(Workspace(repo)), 8765), base_url=BASE)
    for url in (f"/api/run/{rec['id']}/artifact/leak.txt", f"/api/run/{rec['id']}/preview/leak.txt"):
        response = client.get(url)
        assert b"top secret" not in response.content
    assert client.get(f"/api/run/{rec['id']}/artifact/leak.txt").status_code == 403
    assert "symlink" in client.get(f"/api/run/{rec['id']}/preview/leak.txt").json()["reason"]


def test_compare_puts_differences_first_and_diffs_the_code(client: TestClient, ids: dict[str, str]) -> None:
    a, b = ids["lgbm-long"], ids["xgb-deeper"]
    found = get(client, "/api/compare", ids=f"{a},{b}")
    assert [r["name"] for r in found["runs"]] == ["lgbm-long", "xgb-deeper"]
    flags = [row["differs"] for row in found["rows"]]
    assert flags == sorted(flags, reverse=True) and flags[0] and not flags[-1]
    depth = next(row for row in found["rows"] if row["field"] == "params.model.depth")
    assert depth["values"] == [6, 8] and depth["differs"]
    assert found["series"] == ["loss", "val_loss"]
    diff = get(client, "/api/codediff", a=ids["logreg-baseline"], b=ids["xgb-deeper"])
    assert not diff["same_commit"] and "data/train.csv.dvc" in diff["diff"] and "experiments/" not in diff["diff"]
    assert client.get("/api/compare", params={"ids": a}).status_code == 400


def test_charts_over_many_runs_share_the_plot_view_code(client: TestClient) -> None:
    charts = get(client, "/api/charts", param="params.model.depth", group="params.family")
    assert charts["metric"] == "auc" and charts["direction"] == "max"
    progress = charts["progress"]
    assert progress["best_y"] == sorted(progress["best_y"])  # best so far never gets worse
    assert progress["baseline"] == 0.71 and charts["baseline"]["name"] == "logreg-baseline"  # `ledger baseline`
    groups = {g["group"]: g for g in charts["distribution"]["groups"]}
    assert groups["rf"]["n"] == 2 and groups["rf"]["mean"] == pytest.approx(0.795)
    assert len(charts["parallel"]["traces"]) == 5 and charts["parallel"]["axes"][-1]["name"] == "metrics.auc"
    assert charts["scatter"]["x"] and len(charts["scatter"]["x"]) == len(charts["scatter"]["y"])
    narrowed = get(client, "/api/charts", where="params.family = 'rf'")
    assert narrowed["runs"] == 2


def test_review_registry_and_report(client: TestClient, ids: dict[str, str]) -> None:
    branches = get(client, "/api/branches")
    assert branches == {"branches": ["feature", "main"], "current": "main"}
    rv = get(client, "/api/review", base="main", head="feature")
    assert [r["name"] for r in rv["runs"]] == ["feature-try"] and rv["runs"][0]["verdict"] == "better"
    assert client.get("/api/review", params={"base": "no-such-branch"}).status_code == 400
    reg = get(client, "/api/registry")
    assert reg["models"][0]["stages"] == {"prod": "v1.0.0"}
    assert reg["decisions"][0]["rationale"] == "Best AUC; beats <b>the</b> baseline."
    report = client.get("/report")
    assert report.status_code == 200 and "lgbm-long" in report.text
    assert report.headers["content-security-policy"].startswith("default-src 'none'")
    assert "<script" not in report.text.lower().replace("&lt;script", "")


def test_pages_carry_no_record_text_and_strict_headers(client: TestClient, ids: dict[str, str]) -> None:
    for path in ("/", f"/run/{ids[IMG_NAME]}", "/compare?ids=a,b", "/charts", "/review", "/registry"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["content-security-policy"] == CSP
        assert "script-src 'self';" in CSP and "unsafe" not in CSP
        assert response.headers["x-frame-options"] == "DENY" and response.headers["x-content-type-options"] == "nosniff"
        assert "onerror" not in response.text and "<script>" not in response.text
    hostile = get(client, f"/api/run/{ids[HOSTILE_NAME]}")["record"]["name"]
    assert hostile == HOSTILE_NAME  # stored text comes back as data; the browser test shows it as text
    # Plotly's inline stylesheet (for maps), which the CSP refuses, is linked as a file of ours
    # under the id plotly.js looks for, so it adds no inline style (the browser test sees no
    # console error): every fixed-id <style> the bundle would add.
    bundle = plotly_bundle().read_text("utf-8")
    injected = set(re.findall(r'createElement\("style"\);(\w+)\.id="([0-9a-f]+)"', bundle))
    assert {name for _, name in injected} == set(plotly_styles())
    page = client.get("/").text
    for name, css in plotly_styles().items():
        assert f'<link rel="stylesheet" id="{name}" href="/static/plotly-style-{name}.css">' in page
        served = client.get(f"/static/plotly-style-{name}.css")
        assert served.headers["content-type"].startswith("text/css") and served.content == css
    js = client.get("/static/common.js")
    assert js.headers["content-type"].startswith("text/javascript") and "createTextNode" in js.text
    assert client.get("/static/plotly.min.js").content[:40].startswith(b"/**\n* plotly.js")
    assert client.get("/static/../ledger.yaml").status_code == 404


def test_dns_rebinding_cross_origin_and_writes_are_refused(client: TestClient) -> None:
    assert client.get("/api/runs", headers={"host": "attacker.example:8765"}).status_code == 421
    assert client.get("/api/runs", headers={"host": "127.0.0.1:9999"}).status_code == 421
    assert client.get("/api/runs", headers={"host": "localhost:8765"}).status_code == 200
    assert client.get("/api/runs", headers={"origin": "http://attacker.example"}).status_code == 403
    assert client.get("/api/runs", headers={"origin": BASE}).status_code == 200
    cross = {"sec-fetch-site": "cross-site", "sec-fetch-mode": "cors", "sec-fetch-dest": "empty"}
    assert client.get("/api/runs", headers=cross).status_code == 403
    assert client.get("/api/runs", headers={**cross, "sec-fetch-site": "same-site"}).status_code == 403
    navigate = {"sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate", "sec-fetch-dest": "document"}
    assert client.get("/", headers=navigate).status_code == 200  # a link from elsewhere opens the app
    assert client.get("/api/runs", headers=navigate).status_code == 403  # but not its data
    for method in ("post", "put", "delete", "patch"):
        assert getattr(client, method)("/api/runs").status_code == 405


def _state(root: Path) -> list[str]:
    return [
        git(root, "for-each-ref"), git(root, "status", "--porcelain", "--ignored", "-uall"),
        git(root, "stash", "list"), git(root, "worktree", "list", "--porcelain"),
        (root / ".git" / "index").read_bytes().hex(), git(root, "rev-parse", "HEAD"),
    ]  # fmt: skip


def test_a_dead_running_run_shows_as_crashed_and_nothing_is_written(repo: Path) -> None:
    script = repo / "hang.py"
    script.write_text(
        "import time, ledger\nwith ledger.start_run(name='doomed') as run:\n"
        "    run.log_metric('loss', 0.5, step=0)\n    run.log_metric('loss', 0.4, step=1)\n    time.sleep(120)\n"
    )
    git(repo, "add", "hang.py")
    git(repo, "commit", "-qm", "hang")
    proc = subprocess.Popen([sys.executable, str(script)], cwd=repo, env=dict(os.environ))
    deadline = time.monotonic() + 60
    while not list(repo.glob("experiments/*/*-doomed-*/series.tsv")) or not list(
        repo.glob("experiments/*/*-doomed-*.yaml")
    ):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.1)
    served = Repo(Workspace(repo))
    client = TestClient(create_app(served, 8765), base_url=BASE)
    running = get(client, "/api/runs", columns="name,status")["rows"]
    assert [r["cells"] for r in running] == [["doomed", "running"]]
    run_id = running[0]["id"]
    deadline = time.monotonic() + 30
    while (get(client, f"/api/run/{run_id}")["live"] or {}).get("step") != 1:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    token = get(client, "/api/state")["token"]
    assert served.committed_reads == 1  # the run's writes re-read only the working tree
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = _state(repo)
    rows = get(client, "/api/runs", columns="name,status")["rows"]
    assert [r["cells"] for r in rows] == [["doomed", "crashed"]]
    assert get(client, "/api/runs", where="status = 'crashed'")["total"] == 1
    assert get(client, f"/api/run/{run_id}")["record"]["status"] == "crashed"
    assert get(client, "/api/state")["token"] != token
    for url in ("/", "/api/meta", "/api/columns", f"/api/run/{run_id}", f"/api/run/{run_id}/series",
                "/api/charts", "/api/branches", "/api/registry", "/report"):  # fmt: skip
        assert client.get(url).status_code == 200, url
    assert _state(repo) == before  # refs, index, working tree, stash, worktrees: untouched
    assert served.committed_reads == 1
    git(repo, "commit", "-qm", "empty", "--allow-empty")
    assert get(client, "/api/runs")["total"] == 1 and served.committed_reads == 2
    assert "status: running" in next(repo.glob("experiments/*/*-doomed-*.yaml")).read_text()


def test_a_bad_record_is_skipped_and_said_so(repo: Path) -> None:
    from support.query_helpers import commit, make, raw_commit, rid

    commit(repo, make(1, auc=0.7))
    raw_commit(repo, {f"experiments/2026-11/{rid(2)}.yaml": b"schema_version: 1\nid: [unclosed\n"})
    client = TestClient(create_app(Repo(Workspace(repo)), 8765), base_url=BASE)
    meta = get(client, "/api/meta")
    assert meta["runs"] == 1 and meta["skipped_count"] == 1 and rid(2) in meta["skipped"][0]
    assert get(client, "/api/runs")["total"] == 1
