"""`ledger run` keeps the child's output: seen live (colours on a terminal), kept in the
sidecar's `output.log` (redacted, size-capped), and a failed command's stderr is its error."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

from ledger.core import yamlio
from ledger.write.child import LOG_HEAD_BYTES, LOG_TAIL_BYTES
from support.repo import git, ledger_cli, records


def the_record(repo: Path) -> dict:
    [path] = records(repo)
    return yamlio.load_file(path)


def committed_log(repo: Path, rec: dict) -> str:
    path = f"experiments/{rec['id'][:4]}-{rec['id'][4:6]}/{rec['id']}/output.log"
    return git(repo, "show", f"HEAD:{path}")


SCRIPT = """\
echo "step 1 done"
echo "API_TOKEN=abcdef0123456789 export"
echo "warning: about to fail" >&2
echo "fatal: no such table: users" >&2
exit 3
"""


def test_output_is_passed_through_kept_redacted_and_stderr_is_the_error(repo: Path) -> None:
    (repo / "job.sh").write_text(SCRIPT, encoding="utf-8")
    result = ledger_cli(repo, "run", "--", "sh", "job.sh")
    assert result.returncode == 3
    # the terminal (here: ledger's own stdout and stderr) sees everything, as it was
    assert "step 1 done\nAPI_TOKEN=abcdef0123456789 export\n" in result.stdout
    assert "warning: about to fail\nfatal: no such table: users\n" in result.stderr
    rec = the_record(repo)
    assert rec["status"] == "failed" and rec["error"]["exit_code"] == 3
    assert rec["error"]["message"] == "warning: about to fail\nfatal: no such table: users"
    log = committed_log(repo, rec)  # committed with the record, secrets redacted
    assert "step 1 done" in log and "fatal: no such table: users" in log
    assert "API_TOKEN=<redacted> export" in log and "abcdef0123456789" not in log
    assert git(repo, "status", "--porcelain") == "?? job.sh"  # the record and its log are committed


def test_a_terminal_keeps_its_colours_and_the_log_is_plain_text(repo: Path) -> None:
    child = (
        "import sys; print('stdout is a tty:', sys.stdout.isatty());"
        "print('\\033[31mred\\033[0m', flush=True); print('50%\\r100%')"
    )
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ledger", "run", "--", sys.executable, "-c", child],
        cwd=repo, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave,
    )  # fmt: skip
    os.close(slave)
    seen = b""
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        assert ready, seen
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the terminal's other side closed
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    assert proc.wait(timeout=60) == 0
    assert b"stdout is a tty: True" in seen
    assert b"\x1b[31mred\x1b[0m" in seen  # colours reach the terminal
    log = committed_log(repo, the_record(repo))
    assert "stdout is a tty: True\nred\n100%" in log  # no colour codes, no progress redraws


def test_a_long_output_is_capped_in_the_log_but_not_on_the_way(repo: Path) -> None:
    lines = 40_000  # ~2.3 MB
    child = f"import sys\nfor i in range({lines}): sys.stdout.write(f'line {{i:06d}} ' + 'x' * 45 + '\\n')\n"
    result = ledger_cli(repo, "run", "--", sys.executable, "-c", child)
    assert result.returncode == 0
    assert result.stdout.count("\n") >= lines and f"line {lines - 1:06d}" in result.stdout
    log = committed_log(repo, the_record(repo))
    assert len(log.encode()) <= LOG_HEAD_BYTES + LOG_TAIL_BYTES + 200
    assert log.startswith("line 000000 ") and f"line {lines - 1:06d} " in log
    assert "bytes of output left out here]" in log
