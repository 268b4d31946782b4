"""Starting `ledger ui` as a user would (a real process on a free port) and Debian's
Chromium under Playwright, for the browser tests and the screenshot script."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]  # fmt: skip


@contextmanager
def ledger_ui(root: Path, *args: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`ledger ui --port 0 --no-browser` in `root`; yields (url, process); stops it with SIGINT."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "ledger", "ui", "--port", "0", "--no-browser", *args],
        cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ),
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            proc.kill()
            raise AssertionError(f"ledger ui did not start: {url!r} {proc.communicate()[1][-2000:]}")
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextmanager
def chromium() -> Iterator[Any]:
    """A Playwright browser on the system's Chromium with a fresh profile (Playwright's own
    browser download is never used)."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    assert executable, "Chromium is required: apt-get install -y chromium"
    profile = tempfile.mkdtemp(prefix="ledger-ui-profile-")
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile, executable_path=executable, headless=True, args=CHROMIUM_ARGS,
                viewport={"width": 1360, "height": 900},
            )  # fmt: skip
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


LIVE_SCRIPT = textwrap.dedent(
    """
    import sys, time, pathlib, ledger
    stop = pathlib.Path(sys.argv[1])
    with ledger.start_run(name="live-run", description="still training") as run:
        run.log_params({"lr": 0.01, "model": {"depth": 3}})
        step = 0
        while not stop.exists() and step < 3000:
            run.log_metric("loss", 1.0 / (step + 1), step=step)
            step += 1
            time.sleep(0.05)
    """
)


@contextmanager
def running_run(root: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A real run in progress (logging a point every 50 ms) until the block ends."""
    script = root.parent / "live_run.py"
    stop = root.parent / "live.stop"
    stop.unlink(missing_ok=True)
    script.write_text(LIVE_SCRIPT, encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script), str(stop)], cwd=root, env=dict(os.environ))
    try:
        deadline = time.monotonic() + 60
        while not list(root.glob("experiments/*/*-live-run-*.yaml")):
            assert proc.poll() is None and time.monotonic() < deadline, "the live run did not start"
            time.sleep(0.1)
        yield proc
    finally:
        stop.touch()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
