"""What every JSON endpoint shares: the response type, errors as JSON, finding a run."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ledger.core.jsonsafe import plain
from ledger.errors import LedgerError, RunNotFound, UsageError
from ledger.read.api import Item
from ledger.ui.files import FileRefused
from ledger.ui.state import Repo, Snapshot

Endpoint = Callable[[Request], Response]


class Data(Response):
    """A JSON answer; never cached (the repository may change under it)."""

    media_type = "application/json"

    def __init__(self, content: Any, status_code: int = 200):
        super().__init__(content, status_code, headers={"cache-control": "no-store"})

    def render(self, content: Any) -> bytes:
        return json.dumps(
            plain(content), ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=str
        ).encode()


def repo(request: Request) -> Repo:
    found: Repo = request.app.state.repo
    return found


def run_item(request: Request) -> tuple[Snapshot, int, Item]:
    snap = repo(request).snapshot()
    ref = request.path_params["run_id"]
    position = snap.find(ref)
    if position is None:
        raise RunNotFound(not_served(request, ref))
    return snap, position, snap.item(position)


def not_served(request: Request, ref: str) -> str:
    r = repo(request)
    served = f"at {r.rev}" if r.rev else "on any branch" if r.all_branches else "on HEAD or in the working tree"
    more = "" if r.all_branches else ": `ledger ui --all` serves every branch's runs"
    return f"no run matches {ref!r} {served}{more}"


def number(request: Request, name: str, default: int, low: int, high: int) -> int:
    text = request.query_params.get(name)
    if text is None or text == "":
        return default
    try:
        return max(low, min(high, int(text)))
    except ValueError:
        raise UsageError(f"{name} must be a whole number, not {text!r}") from None


def api(handler: Endpoint) -> Endpoint:
    """Errors as JSON with a status: 404 unknown run, 403 refused file, 400 bad input."""

    def endpoint(request: Request) -> Response:
        try:
            return handler(request)
        except RunNotFound as exc:
            return Data({"error": str(exc)}, 404)
        except FileRefused as exc:
            return Data({"error": str(exc)}, 403)
        except LedgerError as exc:
            return Data({"error": str(exc)}, 400)

    endpoint.__name__ = handler.__name__
    return endpoint
