"""The report's compute section shows what was sampled during the runs (issue 17: system
metrics in plots, the report and the UI)."""

from __future__ import annotations

import sys
from pathlib import Path

from ledger.views.report.build import system_summary
from support.repo import git, ledger_cli

BUSY = "import time\nt = time.time()\nwhile time.time() - t < 1.5:\n    sum(range(10_000))\n"


def test_a_sampled_run_shows_in_the_reports_compute_section(repo: Path, tmp_path: Path) -> None:
    (repo / "busy.py").write_text(BUSY, encoding="utf-8")
    git(repo, "add", "busy.py")
    git(repo, "commit", "-qm", "busy")
    run = ledger_cli(repo, "run", "--", sys.executable, "busy.py", env={"LEDGER_SYSTEM_INTERVAL": "0.25"})
    assert run.returncode == 0, run.stderr
    out = tmp_path / "report.md"
    report = ledger_cli(repo, "report", "-o", str(out))
    assert report.returncode == 0, report.stderr
    text = out.read_text(encoding="utf-8")
    compute = text[text.index("## Compute and cost") :]
    sampled = compute[compute.index("Sampled during the runs:") :]
    row = next(line for line in sampled.splitlines() if line.startswith("| 1 "))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[0] == "1" and cells[1].endswith("%") and cells[2].endswith("MiB")
    assert cells[3] == "—" and cells[4] == "—"  # no GPU here


def test_system_summary_over_runs_and_gpus() -> None:
    def sampled(**metrics: dict[str, float]) -> dict[str, object]:
        return {"system": {"path": "x/system.tsv", "metrics": metrics}}

    runs = [
        sampled(
            **{
                "system/cpu_percent": {"mean": 40.0, "max": 90.0},
                "system/process_rss_bytes": {"max": 2 << 30},
                "system/memory_used_bytes": {"max": 60 << 30},  # the machine's, not a GPU's
                "system/gpu0/memory_used_bytes": {"max": 3 << 30},
                "system/gpu0/utilization_percent": {"mean": 80.0},
                "system/rank1/gpu1/memory_used_bytes": {"max": 5 << 30},
                "system/rank1/gpu1/utilization_percent": {"mean": 60.0},
            }
        ),
        sampled(**{"system/cpu_percent": {"mean": 20.0}, "system/process_rss_bytes": {"max": 1 << 30}}),
        {"id": "not sampled"},
    ]
    assert system_summary(runs) == {
        "runs": 2,
        "cpu_percent": 30.0,
        "peak_rss_bytes": 2 << 30,
        "peak_gpu_memory_bytes": 5 << 30,
        "gpu_utilization_percent": 70.0,
    }
    assert system_summary([{"id": "a"}]) is None
