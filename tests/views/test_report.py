"""`ledger report`: the HTML report opened in a real headless Chromium (renders, no network
request, a non-blank screenshot), and the Markdown report with its images beside it."""

from __future__ import annotations

import html
import http.server
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from ledger.cli import main
from ledger.views.report import markdown as report_md
from support.repo import ledger_cli
from support.report_fixtures import DATA_HASHES, HOSTILE_NAME, isolated, make_project, png_size

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        type(self).hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def canary() -> Iterator[http.server.HTTPServer]:
    """A local HTTP server that must never be contacted by the report."""
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, canary: http.server.HTTPServer) -> Iterator[Path]:
    base = tmp_path_factory.mktemp("report")
    with isolated(base / "home"):
        root = make_project(base / "project", port=canary.server_address[1])
        for args in (
            ["baseline", "logreg-baseline"],
            ["select", "xgb-shallow", "--rationale", "First usable model.", "--stage", "staging"],
            [
                "select",
                "xgb-deeper",
                "--rationale",
                "Best AUC.\n\nBeats the baseline by 0.15 | <b>clearly</b>",
                "--stage",
                "prod",
            ],
        ):
            proc = ledger_cli(root, *args)
            assert proc.returncode == 0, proc.stderr
        yield root


@pytest.fixture(scope="module")
def html_report(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("html") / "report.html"
    proc = ledger_cli(project, "report", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "charts" in proc.stdout
    return out


def _tags(text: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """Every element the HTML really contains (escaped text is not an element)."""
    found: list[tuple[str, list[tuple[str, str]]]] = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append((tag, [(k, v or "") for k, v in attrs]))

    Parser().feed(text)
    return found


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM, "Chromium is required: apt-get install -y chromium"
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )


def test_html_is_self_contained_and_escaped(html_report: Path) -> None:
    text = html_report.read_text("utf-8")
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    # No script, no link, no external reference of any kind: every image is a data URI.
    assert "<script" not in text.lower() and "<link" not in text.lower()
    tags = _tags(text)
    assert {name for name, _ in tags} <= {
        "html",
        "head",
        "meta",
        "title",
        "style",
        "body",
        "main",
        "header",
        "h1",
        "h2",
        "h3",
        "p",
        "code",
        "section",
        "div",
        "span",
        "strong",
        "br",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "figure",
        "img",
        "figcaption",
        "ol",
        "li",
        "blockquote",
        "footer",
    }
    urls = [value for _, attrs in tags for key, value in attrs if key in ("src", "href", "srcset", "action")]
    assert len(urls) == 7 and all(u.startswith("data:image/png;base64,") for u in urls)
    assert "\x1b" not in text
    assert html.escape("<script>alert(1)</script> | $x$ ?[31mred") in text
    assert "&lt;img src=&quot;http://127.0.0.1:" in text
    # The content a client needs.
    for needle in (
        "Selected model",
        "churn v1.1.0",
        "stage <strong>prod</strong>",
        "Best AUC.",
        "&lt;b&gt;clearly&lt;/b&gt;",
        "ValueError: diverged: loss is nan at step 7",
        "exit code 3",
        "Decision history",
        "First usable model.",
        "Every run (6)",
        "Code commits",
        "Environments",
        "Compute and cost",
        "1.25 USD",
        "@media print",
    ):
        assert needle in text, needle
    data = text.split("<h3>Data versions</h3>")[1].split("</table>")[0]
    assert data.count("<td>data/train.csv</td>") == 2
    assert all(f"<code>{md5[:12]}</code>" in data for md5 in DATA_HASHES)


def test_html_renders_in_chromium_without_network(
    html_report: Path, tmp_path: Path, canary: http.server.HTTPServer
) -> None:
    port = canary.server_address[1]
    _Recorder.hits.clear()
    dom = _chromium(tmp_path, "--dump-dom", html_report.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "Progress and leaderboard" in dom.stdout
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom.stdout  # shown as text, not run
    assert "<script" not in dom.stdout.lower()
    shot = tmp_path / "shot.png"
    proc = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", html_report.as_uri())
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert png_size(shot.read_bytes()) == (1280, 2000)
    with Image.open(shot) as image:
        gray = image.convert("L")
        assert ImageStat.Stat(gray).stddev[0] > 20  # text, tables and charts, not a blank page
        assert len(gray.getcolors(maxcolors=65536) or []) > 50
        top = gray.crop((0, 0, 1280, 200))
        assert ImageStat.Stat(top).stddev[0] > 5  # the title is drawn
    assert _Recorder.hits == [], f"the report made requests: {_Recorder.hits}"

    # Control: the same browser and canary do see a page that fetches something.
    leaky = tmp_path / "leaky.html"
    leaky.write_text(f'<html><body><img src="http://127.0.0.1:{port}/control.png"></body></html>', "utf-8")
    assert _chromium(tmp_path, "--dump-dom", leaky.as_uri()).returncode == 0
    assert "/control.png" in _Recorder.hits


def test_markdown_report_links_images_next_to_it(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    out = tmp_path / "client report.md"
    assert main(["report", "-o", str(out), "--title", "Churn | Q4 <review>"]) == 0
    text = out.read_text("utf-8")
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(links) == 7
    for link in links:
        assert link.startswith("client%20report_files/")
        image = tmp_path / link.replace("%20", " ")
        width, height = png_size(image.read_bytes())
        assert width >= 400 and height >= 200
    assert text.startswith("# Churn \\| Q4 &lt;review&gt;\n")
    assert "<" not in text.replace("&lt;", "")  # no raw HTML anywhere
    assert "\x1b" not in text
    assert "\\$x\\$" in text and "$x$" not in text.replace("\\$x\\$", "")
    # Every table row keeps its column count: record pipes are escaped.
    for block in re.findall(r"(?:^\|.*\|\n)+", text, re.M):
        rows = block.strip("\n").split("\n")
        widths = {len(re.findall(r"(?<!\\)\|", row)) for row in rows}
        assert len(widths) == 1, rows
    for needle in ("## Selected model", "**churn v1.1.0**", "ValueError: diverged", "exit code 3"):
        assert needle in text, needle


def test_markdown_escaping_never_injects_html() -> None:
    from markdown_it import MarkdownIt

    hostile = f"{HOSTILE_NAME}\n\n<img src=x onerror=alert(1)> [a](javascript:alert(1)) ![i](http://x/y.png) 1. *b*"
    table = f"| a | b |\n|---|---|\n| {report_md.cell(hostile)} | {report_md.code('x|`y')} |\n"
    rendered = MarkdownIt("commonmark").enable("table").render(f"{report_md.md(hostile)}\n\n{table}")
    assert "<script" not in rendered and "<img" not in rendered and "<a " not in rendered
    assert "<em>" not in rendered and "<ol" not in rendered
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered
    assert rendered.count("<td>") == 2  # the pipes in the text did not make new columns


def test_report_rejects_unknown_extension(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(project)
    assert main(["report", "-o", str(tmp_path / "report.pdf")]) == 2
    assert "name the file .html or .md" in capsys.readouterr().err
    assert not (tmp_path / "report.pdf").exists()


def test_where_limits_the_report_to_matching_runs(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(project)
    out = tmp_path / "xgb.md"
    assert main(["report", "-o", str(out), "--where", "name LIKE 'xgb%' and status = 'finished'"]) == 0
    text = out.read_text("utf-8")
    assert "## Every run (2)" in text
    runs = text.split("## Every run (2)")[1].split("## Decision history")[0]
    assert "xgb\\-deeper" in runs and "logreg" not in runs
    assert "by logreg\\-baseline" in text  # the baseline still frames the comparison
    assert main(["report", "-o", str(tmp_path / "bad.md"), "--where", "metrics.auc >"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert not (tmp_path / "bad.md").exists()
