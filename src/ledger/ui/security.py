"""What every response carries and every request must pass.

- Host header: only the names the server was started for (DNS rebinding: a hostile page
  whose domain resolves to 127.0.0.1 sends its own name as Host, and is refused).
- Cross-origin requests: an `Origin` other than our own, or a browser's `Sec-Fetch-Site`
  other than same-origin / none (a direct visit), is refused for everything but a top-level
  navigation to a page (a link from elsewhere still opens the app; its data stays ours).
- Read-only: GET and HEAD only.
- Headers: a strict Content-Security-Policy (scripts, styles, images and fetches from this
  server only; no inline script, no eval), no sniffing, no framing, no referrer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Plotly adds its CSS through an empty <style> element and the CSSOM: the hash below is the
# empty string's, so that element is allowed and no other inline style is.
EMPTY_STYLE = "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
CSP = (
    f"default-src 'none'; script-src 'self'; style-src 'self' {EMPTY_STYLE}; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
PAGES = ("/", "/run/", "/compare", "/charts", "/review", "/registry")


def allowed_hosts(port: int, names: Iterable[str]) -> frozenset[str]:
    """Host header values accepted: each name with the port (and bare, for port 80)."""
    out = set()
    for name in names:
        host = f"[{name}]" if ":" in name and not name.startswith("[") else name
        out.add(f"{host}:{port}".lower())
        if port == 80:
            out.add(host.lower())
    return frozenset(out)


class Guard:
    """ASGI middleware: refuse what a local read-only app must not answer; add the headers."""

    def __init__(self, app: ASGIApp, hosts: frozenset[str] | None):
        self.app = app
        self.hosts = hosts  # None: any (only for tests that talk to the app in-process)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        problem = self.problem(scope, headers)
        if problem is not None:
            status, text = problem
            await _plain(send, status, text)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *(h for h in HEADERS if h[0] not in present)]
            await send(message)

        await self.app(scope, receive, with_headers)

    def problem(self, scope: Scope, headers: dict[str, str]) -> tuple[int, str] | None:
        host = headers.get("host", "").lower()
        if self.hosts is not None and host not in self.hosts:
            return 421, "unknown Host header: open the app at the address `ledger ui` printed"
        if scope.get("method") not in ("GET", "HEAD"):
            return 405, "the ledger UI is read-only"
        origin = headers.get("origin")
        if origin is not None and origin.lower() not in (f"http://{host}", f"https://{host}"):
            return 403, "cross-origin request refused"
        site = headers.get("sec-fetch-site")
        if site is not None and site not in ("same-origin", "none"):
            navigation = headers.get("sec-fetch-mode") == "navigate" and headers.get("sec-fetch-dest") == "document"
            path = str(scope.get("path", ""))
            if not (navigation and (path == "/" or path.startswith(PAGES[1:]))):
                return 403, "cross-origin request refused"
        return None


async def _plain(send: Send, status: int, text: str) -> None:
    body = text.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()), *HEADERS]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})
