"""Serving the app: bind a socket (loopback by default), announce the URL, run uvicorn."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

from ledger.core.workspace import Workspace
from ledger.errors import LedgerError, UsageError

LOOPBACK = ("127.0.0.1", "localhost", "::1")
WILDCARD = ("0.0.0.0", "::", "")


def exposure_warning(host: str) -> str | None:
    """What to tell the user when the app is reachable beyond this machine."""
    if host in LOOPBACK:
        return None
    return (
        f"serving on {host or 'every interface'}: anyone who can reach this machine can read every run "
        "(the UI is read-only, but records may hold private data); use --host 127.0.0.1 to keep it local"
    )


def _names(host: str) -> list[str]:
    """The Host names accepted besides loopback: the bound address, this machine's names."""
    names = [host] if host not in WILDCARD else []
    if host not in LOOPBACK:
        names += [socket.gethostname(), socket.getfqdn()]
        try:
            names += socket.gethostbyname_ex(socket.gethostname())[2]
        except OSError:
            pass
    return names


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UsageError(
            f"cannot listen on {host}:{port} ({exc.strerror}): pick another --port, or 0 for any"
        ) from None
    sock.listen(128)
    return sock


def serve(
    root: Path | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    rev: str | None = None,
    all_branches: bool = False,
    allow_hosts: tuple[str, ...] = (),
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the repository at `root` until interrupted; `on_ready(url)` once listening."""
    try:
        import uvicorn
    except ImportError:
        raise LedgerError("`ledger ui` needs its web stack: pip install 'ledger-ml[ui]'") from None
    from ledger.ui.app import create_app
    from ledger.ui.routes.pages import plotly_bundle, plotly_styles
    from ledger.ui.state import Repo

    plotly_bundle()  # fail now, not at the first chart
    plotly_styles()  # read once, before the first page
    repo = Repo(Workspace.find(root), rev=rev, all_branches=all_branches)
    repo.snapshot()  # a bad --rev fails here, with its message; the first page is then warm
    sock = bind(host, port)
    bound = sock.getsockname()[1]
    shown = host if host not in WILDCARD else "127.0.0.1"
    url = f"http://{'[' + shown + ']' if ':' in shown else shown}:{bound}/"
    app = create_app(repo, bound, [*_names(host), *allow_hosts])
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    if on_ready is not None:
        on_ready(url)
    server.run(sockets=[sock])
