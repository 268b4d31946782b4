"""Compare, charts over many runs, review, registry and the client report."""

from __future__ import annotations

import warnings
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from ledger import gitstore, registry
from ledger.errors import LedgerWarning, RunNotFound, UsageError
from ledger.read import query
from ledger.ui import charts, files, series, table
from ledger.ui.routes.common import Data, api, not_served, repo
from ledger.views.review import build as review_build

MAX_COMPARE = 12
CHART_RUNS = 20000


def _positions(request: Request, refs: list[str]) -> list[int]:
    snap = repo(request).snapshot()
    found = []
    for ref in refs:
        position = snap.find(ref)
        if position is None:
            raise RunNotFound(not_served(request, ref))
        found.append(position)
    return found


@api
def compare(request: Request) -> Response:
    refs = [r for r in (request.query_params.get("ids") or "").split(",") if r]
    if not 2 <= len(refs) <= MAX_COMPARE:
        raise UsageError(f"compare takes 2 to {MAX_COMPARE} runs: pick them in the runs table")
    snap = repo(request).snapshot()
    positions = _positions(request, refs)
    records = [snap.record(p) for p in positions]
    ws = repo(request).ws
    names = [set(series.names(ws, snap.item(p))) for p in positions]
    shared = sorted(set.union(*names))
    rows = [{"field": f, "values": v, "differs": d} for f, v, d in query.compare(records)]
    runs = [{"id": r["id"], "name": r.get("name"), "status": r.get("status")} for r in records]
    return Data({"runs": runs, "rows": rows, "series": shared})


@api
def code_diff(request: Request) -> Response:
    a, b = (request.query_params.get(k) or "" for k in ("a", "b"))
    snap = repo(request).snapshot()
    pa, pb = _positions(request, [a, b])
    return Data(files.code_diff(repo(request).ws, snap.item(pa), snap.item(pb)))


@api
def chart_data(request: Request) -> Response:
    r = repo(request)
    snap = r.snapshot()
    q = request.query_params
    rows = table.Query(snap).matching(q.get("where"))
    records = [rec for _, rec in snap.wholes(rows[:CHART_RUNS])]  # for this request only
    metric = q.get("metric") or r.ws.config.primary_metric or next(iter(charts.common_metrics(records)), None)
    if metric is None:
        return Data({"runs": len(rows), "charted": 0, "metrics": [], "params": []})
    direction = q.get("direction") or r.ws.config.direction(metric)
    params = charts.varying_params(records, limit=30)
    param = q.get("param") or (params[0] if params else "params.seed")
    group = q.get("group") or (params[1] if len(params) > 1 else param)
    dims = [d for d in (q.get("dims") or "").split(",") if d] or params[: charts.MAX_DIMS]
    baseline = _baseline(request, records)
    bar = query.metric_value(baseline, metric) if baseline else None
    return Data({
        "runs": len(rows), "charted": len(records), "metric": metric, "direction": direction,
        "metrics": charts.common_metrics(records), "params": params, "param": param, "group": group,
        "scatter": charts.scatter(records, metric, param, q.get("color") or None),
        "parallel": charts.parallel(records, metric, direction, dims),
        "progress": charts.progress(records, metric, direction, bar),
        "distribution": charts.distribution(records, metric, group),
        "baseline": {"id": baseline["id"], "name": baseline.get("name")} if baseline else None,
    })  # fmt: skip


def _baseline(request: Request, records: list[dict[str, Any]]) -> dict[str, Any] | None:
    r = repo(request)
    snap = r.snapshot()
    ref = r.ws.config.baseline
    if ref:
        position = snap.find(ref)
        if position is not None:
            return snap.record(position)
    marked = [rec for rec in records if rec.get("baseline") is True]
    return marked[0] if marked else None


@api
def branches(request: Request) -> Response:
    root = repo(request).root
    refs = [ref.removeprefix("refs/heads/").removeprefix("refs/remotes/") for ref in gitstore.branch_refs(root)]
    return Data({"branches": refs, "current": gitstore.head_state(root).branch})


@api
def review(request: Request) -> Response:
    base = request.query_params.get("base") or ""
    head = request.query_params.get("head") or "HEAD"
    if not base or base.startswith("-") or head.startswith("-"):
        raise UsageError("pick a base branch to review against")
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always", LedgerWarning)
        rv = review_build.review(repo(request).ws, base, head)
    return Data(rv.to_dict())


@api
def registry_view(request: Request) -> Response:
    ws = repo(request).ws
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always", LedgerWarning)
        decisions = registry.load_decisions(ws)
    return Data({"models": registry.models(decisions), "decisions": decisions[::-1]})


def report(request: Request) -> Response:
    """The client report, built in memory (never written to the repository)."""
    from ledger.views.report import build as report_build
    from ledger.views.report import html as report_html

    r = repo(request)
    snap = r.snapshot()
    loaded = sorted((snap.peek(i).loaded() for i in range(len(snap))), key=lambda i: i.record["id"])
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always", LedgerWarning)
        built = report_build.build(r.ws, loaded)
    # The report's own policy: inline CSS and data: images, no script, no fetch at all.
    return HTMLResponse(report_html.render(built), headers={"content-security-policy": report_html.CSP})


ROUTES = [
    Route("/api/compare", compare),
    Route("/api/codediff", code_diff),
    Route("/api/charts", chart_data),
    Route("/api/branches", branches),
    Route("/api/review", review),
    Route("/api/registry", registry_view),
    Route("/report", report),
]
