"""One run's API: the record as shown, its series for charts, artifacts, the code patch."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ledger.ui import files, live, series
from ledger.ui.routes.common import Data, api, number, repo, run_item

DEFAULT_WIDTH = 1000
# An artifact opened on its own is data, never a page of ours: no script, no plugin, sandboxed.
ARTIFACT_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


def data_versions(rec: dict[str, Any]) -> list[dict[str, Any]]:
    """The data a run used, inputs first (roles data/dep), then what its stages produced."""
    found = [d for d in rec.get("data") or [] if isinstance(d, dict)]
    return sorted(found, key=lambda d: (d.get("role") == "out", str(d.get("path"))))


@api
def detail(request: Request) -> Response:
    snap, position, item = run_item(request)
    r = repo(request)
    rec = snap.record(position)
    code = rec.get("code") or {}
    arts = [
        {"name": a.get("name"), "kind": files.kind(str(a.get("name"))), "size": a.get("size"),
         "store": a.get("store"), "artifact_kind": a.get("kind"), "hash": a.get("hash")}
        for a in rec.get("artifacts") or [] if isinstance(a, dict)
    ]  # fmt: skip
    out: dict[str, Any] = {
        "record": rec,
        "where": {"path": item.path, "origin": item.origin, "commit": item.commit},
        "series": series.names(r.ws, item),
        "data": data_versions(rec),
        "artifacts": arts,
        "has_patch": bool(isinstance(code, dict) and code.get("patch")),
        "elapsed_s": live.elapsed(rec),
        "live": series.latest(r.ws, item) if rec.get("status") == "running" else None,
    }
    return Data(out)


@api
def run_series(request: Request) -> Response:
    _, _, item = run_item(request)
    wanted = [m for m in (request.query_params.get("metrics") or "").split(",") if m]
    width = number(request, "width", DEFAULT_WIDTH, 10, 4000)
    return Data({"id": item.head["id"], "series": series.chart(repo(request).ws, item, wanted, width)})


@api
def artifact(request: Request) -> Response:
    _, _, item = run_item(request)
    data, media = files.artifact_bytes(repo(request).ws, item, request.path_params["name"])
    headers = {"content-security-policy": ARTIFACT_CSP, "cache-control": "no-store"}
    if not media.startswith("image/"):
        headers["content-disposition"] = "attachment"
    return Response(data, media_type=media, headers=headers)


@api
def preview(request: Request) -> Response:
    _, _, item = run_item(request)
    return Data(files.preview(repo(request).ws, item, request.path_params["name"]))


@api
def patch(request: Request) -> Response:
    _, _, item = run_item(request)
    return Data({"patch": files.patch(repo(request).ws, item)})


ROUTES = [
    Route("/api/run/{run_id}", detail),
    Route("/api/run/{run_id}/series", run_series),
    Route("/api/run/{run_id}/artifact/{name:path}", artifact),
    Route("/api/run/{run_id}/preview/{name:path}", preview),
    Route("/api/run/{run_id}/patch", patch),
]
