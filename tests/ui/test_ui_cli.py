"""`ledger ui` as a command: the URL on the first line, loopback by default, a warning for
0.0.0.0, clear errors; and `ledger top` never loads the web stack."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ledger.cli import main
from support.query_helpers import commit, make
from support.ui_server import ledger_ui

pytest.importorskip("starlette", reason="the ui extra: pip install 'ledger-ml[ui]'")


def _get(url: str, host: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_serves_the_repository_on_loopback_until_interrupted(repo: Path) -> None:
    commit(repo, make(1, auc=0.7), make(2, auc=0.9))
    with ledger_ui(repo) as (url, proc):
        status, body = _get(url + "api/runs?columns=metrics.auc&sort=metrics.auc")
        assert status == 200 and [r["cells"] for r in json.loads(body)["rows"]] == [[0.9], [0.7]]
        port = url.rsplit(":", 1)[1].strip("/")
        assert _get(url + "api/state", host=f"rebind.example:{port}")[0] == 421
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) in (0, 130)  # 130: interrupted (uvicorn passes the signal on)
        assert proc.stderr is not None
        errors = proc.stderr.read()
        assert "warning" not in errors and "Traceback" not in errors


def test_all_interfaces_print_a_warning(repo: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "ledger", "ui", "--host", "0.0.0.0", "--port", "0", "--no-browser"],
        cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ),
    )  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.readline().startswith("http://127.0.0.1:")
        assert "anyone who can reach this machine can read every run" in proc.stderr.readline()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)


def test_bad_arguments_are_one_line_errors(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ui", "--port", "70000", "--no-browser"]) == 2
    assert "--port must be between 0 and 65535" in capsys.readouterr().err
    assert main(["ui", "--rev", "no-such-branch", "--port", "0", "--no-browser"]) != 0
    assert "no-such-branch" in capsys.readouterr().err


def test_ledger_top_does_not_import_the_web_stack(repo: Path) -> None:
    commit(repo, make(1, auc=0.7))
    code = (
        "import sys\nfrom ledger.cli import main\nmain(['top', '--metric', 'auc'])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('starlette', 'uvicorn', 'plotly', 'httpx') "
        "or m.startswith('ledger.ui')))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_without_the_ui_extra_the_command_says_what_to_install(repo: Path) -> None:
    code = (
        "import sys\nsys.modules['uvicorn'] = None  # as if the extra were not installed\n"
        "from ledger.cli import main\nraise SystemExit(main(['ui', '--no-browser']))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True)
    assert out.returncode == 1
    assert out.stderr.strip() == "ledger: error: `ledger ui` needs its web stack: pip install 'ledger-ml[ui]'"
