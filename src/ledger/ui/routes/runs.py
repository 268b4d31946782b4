"""The runs table's API: the live token, the columns on offer, one page of runs."""

from __future__ import annotations

from collections import Counter

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ledger import gitstore
from ledger.ui import table
from ledger.ui.routes.common import Data, api, number, repo
from ledger.ui.state import Snapshot

PAGE = 50
EXTRA_METRICS = 3
SAMPLE = 200  # the newest runs whose metrics name the default columns


@api
def state(request: Request) -> Response:
    """Cheap to poll: changes when a run is added, changes, or a running run logs."""
    r = repo(request)
    snap = r.snapshot()
    return Data({"token": r.live_token(snap), "runs": len(snap), "skipped": snap.skipped[:20]})


def default_columns(request: Request, snap: Snapshot) -> list[str]:
    def compute() -> list[str]:
        counts: Counter[str] = Counter()
        for _, head in snap.heads(range(min(SAMPLE, len(snap)))):  # the newest runs' metrics
            counts.update((head.get("metrics") or {}).keys())
        primary = repo(request).ws.config.primary_metric
        metrics = [primary] if primary else []
        metrics += [m for m, _ in counts.most_common() if m not in metrics][: EXTRA_METRICS + (0 if primary else 1)]
        return ["name", "status", "started_at", "duration_s", *(f"metrics.{m}" for m in metrics)]

    result: list[str] = snap.memo("default-columns", compute)
    return result


@api
def meta(request: Request) -> Response:
    r = repo(request)
    snap = r.snapshot()
    config = r.ws.config
    primary = config.primary_metric
    state = gitstore.head_state(r.root)
    return Data({
        "experiment": config.experiment, "primary_metric": primary,
        "direction": config.direction(primary) if primary else None,
        "default_columns": default_columns(request, snap), "branch": state.branch,
        "commit": state.commit, "rev": r.rev, "all": r.all_branches, "runs": len(snap),
        "skipped": snap.skipped[:20], "skipped_count": len(snap.skipped),
    })  # fmt: skip


@api
def columns(request: Request) -> Response:
    return Data(table.available_columns(repo(request).snapshot()))


@api
def runs(request: Request) -> Response:
    snap = repo(request).snapshot()
    q = request.query_params
    chosen = [c for c in (q.get("columns") or "").split(",") if c.strip()] or default_columns(request, snap)
    page = table.Query(snap).page(
        where=q.get("where"),
        sort=q.get("sort") or None,
        descending=q.get("order", "desc") != "asc",
        columns=chosen[:40],
        offset=number(request, "offset", 0, 0, 10**9),
        limit=number(request, "limit", PAGE, 1, table.MAX_PAGE),
    )
    return Data(page)


ROUTES = [
    Route("/api/state", state),
    Route("/api/meta", meta),
    Route("/api/columns", columns),
    Route("/api/runs", runs),
]
