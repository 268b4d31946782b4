"""The HTML shells (no record text in them: the static JavaScript fetches the data and
writes it as text), our static files, and Plotly's bundle from the installed package."""

from __future__ import annotations

import functools
import importlib.util
import re
from importlib import resources
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from ledger.errors import LedgerError

TITLES = {"runs": "Runs", "run": "Run", "compare": "Compare", "charts": "Charts", "review": "Review",
          "registry": "Registry"}  # fmt: skip
STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


@functools.lru_cache(maxsize=1)
def _template() -> str:
    return resources.files("ledger.ui").joinpath("templates/page.html").read_text("utf-8")


def plotly_bundle() -> Path:
    """plotly.min.js as the `plotly` wheel ships it (served from here: nothing is fetched)."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or spec.origin is None:
        raise LedgerError("the UI needs plotly: pip install 'ledger-ml[ui]'")
    path = Path(spec.origin).parent / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise LedgerError("this plotly package has no plotly.min.js: pip install --force-reinstall plotly")
    return path


# plotly.js adds its maps' stylesheet as an inline <style id=...> unless an element with that
# id exists; our CSP refuses inline styles. So the page links that stylesheet as a file of
# ours under the same id, and plotly.js leaves it be (no inline style, no console error).
_INLINE_STYLE = re.compile(
    r'document\.getElementById\("([0-9a-f]{16,64})"\)\)\{var (\w+)=document\.createElement\("style"\);'
    r'\2\.id="\1",\2\.textContent=\'([^\'\\]*)\''
)


@functools.lru_cache(maxsize=1)
def plotly_styles() -> dict[str, bytes]:
    """The stylesheets plotly.js would add inline, by element id, read from its bundle."""
    text = plotly_bundle().read_text("utf-8")
    return {m.group(1): m.group(3).encode("utf-8") for m in _INLINE_STYLE.finditer(text)}


def _links() -> str:
    return "".join(
        f'<link rel="stylesheet" id="{name}" href="/static/plotly-style-{name}.css">\n' for name in plotly_styles()
    )


def _page(name: str) -> Response:
    html = _template().replace("{{title}}", TITLES[name]).replace("{{page}}", name).replace("{{styles}}", _links())
    return Response(html, media_type="text/html; charset=utf-8", headers={"cache-control": "no-store"})


def runs_page(request: Request) -> Response:
    return _page("runs")


def run_page(request: Request) -> Response:
    return _page("run")


def compare_page(request: Request) -> Response:
    return _page("compare")


def charts_page(request: Request) -> Response:
    return _page("charts")


def review_page(request: Request) -> Response:
    return _page("review")


def registry_page(request: Request) -> Response:
    return _page("registry")


def static(request: Request) -> Response:
    name = request.path_params["name"]
    if name == "plotly.min.js":
        return FileResponse(plotly_bundle(), media_type=STATIC_TYPES[".js"], headers={"cache-control": "max-age=3600"})
    style = plotly_styles().get(name.removeprefix("plotly-style-").removesuffix(".css"))
    if style is not None and name.startswith("plotly-style-"):
        return Response(style, media_type=STATIC_TYPES[".css"], headers={"cache-control": "max-age=3600"})
    suffix = name[name.rfind(".") :] if "." in name else ""
    folder = resources.files("ledger.ui").joinpath("static")
    if "/" in name or suffix not in STATIC_TYPES or not folder.joinpath(name).is_file():
        return PlainTextResponse("not found", status_code=404)
    return Response(folder.joinpath(name).read_bytes(), media_type=STATIC_TYPES[suffix],
                    headers={"cache-control": "no-cache"})  # fmt: skip


def favicon(request: Request) -> Response:
    return Response(status_code=204)


ROUTES = [
    Route("/favicon.ico", favicon),
    Route("/", runs_page),
    Route("/run/{run_id:path}", run_page),
    Route("/compare", compare_page),
    Route("/charts", charts_page),
    Route("/review", review_page),
    Route("/registry", registry_page),
    Route("/static/{name}", static),
]
