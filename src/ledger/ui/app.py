"""The ASGI application: routes, behind the `security.Guard`."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.applications import Starlette

from ledger.ui.routes import pages, run, runs, views
from ledger.ui.security import ASGIApp, Guard, allowed_hosts
from ledger.ui.state import Repo


def create_app(repo: Repo, port: int | None = None, hosts: Iterable[str] = ()) -> ASGIApp:
    """The app over one repository. With `port`, only Host headers naming `hosts` (plus
    loopback) at that port are answered; without, any Host (in-process tests only)."""
    app = Starlette(routes=[*pages.ROUTES, *runs.ROUTES, *run.ROUTES, *views.ROUTES])
    app.state.repo = repo
    accepted = None
    if port is not None:
        accepted = allowed_hosts(port, ["127.0.0.1", "localhost", "::1", *hosts])
    return Guard(app, accepted)
